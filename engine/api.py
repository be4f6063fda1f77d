"""The engine's one in-process API: used by the CLI, the worker process and the tests.

    model = load_model("default")                       # or a name, or a path; device="cpu"|"cuda"|"auto"
    out = restore_image(rgb, model, steps=3, seed=0)    # float32 H×W×3 in [0, 1] → same
    result = restore_file("in.jpg", "out/in.jpg", model, RestoreOptions(quality="balanced"))

task="auto" (the default) asks the degradation detector (`engine.detection`) which task a photo needs; a
photo it finds already fine ("none") is not restored unless `restore_clean` is set.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine import __version__, imaging
from engine.errors import HourglassError, OutputExistsError
from engine.filetypes import default_output_extension
from engine.models import LoadedModel, load_model
from engine.pipeline import DEFAULT_OVERLAP, Progress, restore_array
from engine.preprocess import check_task
from engine.sampler import CancelToken, StepInfo
from engine.schedule import resolve_times
from engine.wording import count

if TYPE_CHECKING:
    from engine.detection import Detection

log = logging.getLogger("engine.api")

__all__ = ["RestoreOptions", "RestoreResult", "load_model", "output_path_for", "resolve_task", "restore_file",
           "restore_image"]


@dataclass(frozen=True)
class RestoreOptions:
    """How to restore: sampler (quality preset or step count), task, seed, tiling and output format."""

    quality: str = "best"
    steps: int | None = None  # overrides the preset with the official grid for this many steps
    task: str = "auto"
    seed: int = 0
    tile: int | None = None  # None: from free device memory
    overlap: int = DEFAULT_OVERLAP
    format: str | None = None  # None: same as the input (RAW → 16-bit TIFF)
    jpeg_quality: int = 95
    bit_depth: int | None = None
    srgb: bool = False  # results in sRGB (for the web) instead of the photo's own colour space
    remove_location: bool = False  # GPS coordinates left out of the results (for sharing)
    record: bool = True  # the result records how it was made (engine.imaging.provenance)
    detected: float | None = None  # `task` was detected ahead (the app's analysis), with this score: recorded so
    overwrite: bool = False
    restore_clean: bool = False  # task auto/none: restore a photo that is already fine instead of skipping it
    # Full resolution: "auto" = the fast path (restore ~1 MP, carry the correction over) for low-light and haze
    # photos larger than ~1.5 MP, tiling otherwise; "fast" / "tiled" force one (engine.fastpath).
    fullres: str = "auto"
    optimize: bool = True  # False: the reference network, bit-identical to the official code
    precision: str = "float32"  # "bfloat16" / "float16": GPUs (optimised path only)
    # Blend over the original before saving (1: the restoration only), at full precision, so 16-bit, alpha,
    # gray and metadata survive it
    strength: float = 1.0

    def times(self) -> tuple[int, ...]:
        return resolve_times(self.quality, self.steps)


@dataclass
class RestoreResult:
    input_path: str
    output_path: str
    task: str
    device: str
    model: str
    nfe: int
    width: int
    height: int
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    requested_task: str = "auto"  # the option given; `task` is what was used (detected for auto)
    confidence: float | None = None  # the detector's score for `task` (task=auto only)
    scores: dict[str, float] = field(default_factory=dict)  # every class's score (task=auto only)
    skipped: bool = False  # already fine (`none`) and restore_clean not set: nothing was written
    already_restored: str = ""  # skipped as a result Hourglass saved: how it was made (`made_by_hourglass`)
    photo_sha256: str = ""  # the photo's SHA-256 as it was read ("" when it could not be read again for it)
    fullres: str = ""  # the full-resolution path taken: "fast" or "tiled" ("" when skipped)
    plan: dict = field(default_factory=dict)  # tile size, batch, memory budget/estimate, working size (fast)

    def to_json(self) -> dict:
        return asdict(self)


def resolve_task(image: np.ndarray, task: str) -> tuple[str, Detection | None]:
    """`task`, or for "auto" the detected one ("none" when the photo looks fine) with the detection."""
    check_task(task)
    if task != "auto":
        return task, None
    from engine.detection import detect

    detection = detect(image)
    return detection.task, detection


def resolve_task_or_warn(image: np.ndarray, task: str,
                         on_warning: Callable[[str], None] | None) -> tuple[str, Detection | None]:
    """`resolve_task`, except that when the detector cannot answer (missing or invalid weights, a photo too
    small to judge) the photo is restored as before, without pre-processing, and the user is told why."""
    try:
        return resolve_task(image, task)
    except HourglassError as exc:
        if on_warning is not None:
            reason = str(exc).rstrip(".")
            on_warning(f"Automatic detection is not available for this photo: {reason}. Restoring it without "
                       "task-specific pre-processing.")
        return task, None


def restore_image(
    image: np.ndarray,
    model: LoadedModel,
    *,
    steps: int | None = None,
    quality: str = "best",
    seed: int | None = None,
    noise: np.ndarray | None = None,
    task: str = "auto",
    tile: int | None = None,
    overlap: int = DEFAULT_OVERLAP,
    on_progress: Callable[[Progress], None] | None = None,
    on_step: Callable[[StepInfo], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
    on_detect: Callable[[Detection], None] | None = None,
    cancel: CancelToken | None = None,
    fullres: str = "auto",
    optimize: bool = True,
    precision: str = "float32",
    details: dict | None = None,
) -> np.ndarray:
    """Restore a float32 H×W×3 RGB array in [0, 1]; returns the same shape and range.

    `steps` (default: the `quality` preset, `best` = the official 3 steps) sets the number of network
    evaluations. `noise` (float32 H×W×3) is the sampler's initial noise; otherwise it is drawn from `seed`
    (default 0, so results are reproducible). `task="auto"` asks the detector which pre-processing the
    photo needs (`on_detect` receives its answer); an array is always restored, even one detected as
    "none" (no pre-processing): skipping clean photos is `restore_file`'s job. `task="none"` feeds the
    photo as it is. `fullres`, `optimize` and `precision` are as in `RestoreOptions` (`optimize=False` is
    the reference path, bit-identical to the official code); `details` receives the path and tile plan.
    """
    task, detection = resolve_task_or_warn(image, task, on_warning)
    if detection is not None and on_detect is not None:
        on_detect(detection)
    if task in model.task_notes and on_warning is not None:
        on_warning(model.task_notes[task])
    return restore_array(
        model.net, image, resolve_times(quality, steps), noise=noise, seed=0 if seed is None else seed,
        task=task, device=model.device, tile=tile, overlap=overlap, on_progress=on_progress, on_step=on_step,
        on_warning=on_warning, cancel=cancel, fullres=fullres, optimize=optimize, precision=precision,
        details=details, equalize=model.equalizes_low_light,
    )


SOFTWARE = f"Hourglass {__version__}"  # the EXIF Software tag of every restored photo


def restore_provenance(photo: Path, task: str, confidence: float | None, model: str, evaluations: int, seed: int,
                       fullres: str, strength: float, digest: str) -> imaging.Provenance:
    """What a restored result records about how it was made (`imaging.provenance`); `digest`: the photo's
    SHA-256 (`_digest`)."""
    record = {"Software": SOFTWARE, "Task": task, "Detected": "" if confidence is None else f"{confidence:.2f}",
              "Model": model, "Evaluations": str(evaluations), "Seed": str(seed), "FullResolution": fullres,
              "Strength": f"{strength:.4g}", "Photo": photo.name, "PhotoSHA256": digest}
    if strength == 0:
        return imaging.Provenance(record, f"saved {photo.name} as it is (strength 0%)")
    how = f"detected, {confidence:.0%}" if confidence is not None else "chosen"
    path = {"fast": "on the fast full-resolution path", "tiled": "at full resolution"}.get(fullres, fullres)
    return imaging.Provenance(record, f"restored {photo.name} as {task} ({how}) with {model}, "
                                      f"{count(evaluations, 'evaluation')}, seed {seed}, {path}, "
                                      f"strength {strength:.0%}")


def _digest(photo: Path) -> str:
    try:
        return imaging.photo_digest(photo)
    except OSError as e:  # read a moment ago: gone or locked since; the result is still worth saving
        log.warning("%s: not fingerprinted for its result's record (%s)", photo.name, e)
        return ""


def blend_over(restored: np.ndarray, original: np.ndarray, strength: float, rows: int = 512) -> np.ndarray:
    """restored ← original + strength · (restored − original), in place and in strips of rows (no full-size
    temporary); `strength` 0 gives the original back, 1 leaves the restoration."""
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be in 0..1, not {strength}")
    if restored.shape != original.shape:
        raise ValueError(f"cannot blend {restored.shape} over {original.shape}")
    s = np.float32(strength)
    for r0 in range(0, len(restored), rows):
        part = restored[r0:r0 + rows]
        base = original[r0:r0 + rows]
        part -= base
        part *= s
        part += base
    return restored


def output_path_for(input_path: str | os.PathLike, out_dir: str | os.PathLike, fmt: str | None = None,
                    name_suffix: str = "") -> Path:
    """`out_dir/<input stem><name_suffix>.<ext>`: the extension of `fmt`, else of the format the input is
    written in by default (RAW → TIFF, HEIF → JPEG, otherwise the input's own extension)."""
    input_path = Path(input_path)
    ext = imaging.extension_for(fmt) if fmt else default_output_extension(input_path)
    return Path(out_dir) / f"{input_path.stem}{name_suffix}{ext}"


def restore_file(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    model: LoadedModel,
    options: RestoreOptions | None = None,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
    cancel: CancelToken | None = None,
    detection: Detection | None = None,
    on_detect: Callable[[Detection], None] | None = None,
) -> RestoreResult:
    """Read a photo, restore it, write it with its metadata. Never replaces the input or (by default) an
    existing output; the write is atomic, so a cancelled or failed job leaves no partial file.

    With task "auto" the detector chooses the task (recorded in the result with its scores), or
    `detection`, the detector's answer for this photo made ahead (`detect_file`, which sees the photo as
    this would: the CLI detects the next photos while one restores, for its time left); `on_detect`
    receives the answer as soon as it is made here (the CLI's time left then knows this photo's path). A
    photo that is already fine (detected "none", or task "none") is not restored unless
    `options.restore_clean`: the result then has `skipped=True`, an empty `output_path`, and nothing is
    written. So is, with task "auto", a result Hourglass saved (its XMP says so; `already_restored` says
    how it was made): a task chosen for it, or `restore_clean`, restores it again.
    """
    opts = options or RestoreOptions()
    check_task(opts.task)
    times = opts.times()
    input_path, output_path = Path(input_path), Path(output_path)
    warnings: list[str] = []

    def warn(message: str) -> None:
        warnings.append(message)
        if on_warning is not None:
            on_warning(message)

    def stage(name: str, fraction: float = 0.0) -> None:
        if on_progress is not None:
            on_progress(Progress(name, 0, len(times), 0, 0, fraction))

    imaging.check_output_name(output_path)  # before any file system call, which it would break
    imaging.check_not_original(output_path, input_path)  # before "exists", which would hide why
    if output_path.exists() and not opts.overwrite:
        raise OutputExistsError(f"'{output_path}' already exists; not replacing it.")
    imaging.check_output_folder(output_path.parent)  # now, not after minutes of restoring
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    stage("load")
    if cancel is not None:
        cancel.check()
    img = imaging.read_image(input_path)
    timings["read"] = time.perf_counter() - t0
    digest = _digest(input_path)  # (as it is read: an edit while it is restored must not be taken for its source)
    made = imaging.made_by_hourglass(img.xmp) if opts.task == "auto" and not opts.restore_clean else ""
    if made:  # one of our results: restoring it again would restore it twice (a dark photo brightened twice)
        timings["total"] = time.perf_counter() - t0
        h, w = img.rgb.shape[:2]
        log.info("%s is a result Hourglass saved (%s); not restored again", input_path.name, made)
        return RestoreResult(str(input_path), "", "none", model.device, model.name, 0, w, h, timings, warnings,
                             requested_task=opts.task, skipped=True, already_restored=made, photo_sha256=digest)
    imaging.check_output_size(output_path, img, opts.format)  # now, not after minutes of restoring
    if img.frames > 1:
        warn(f'"{input_path.name}" holds {img.frames} frames or pages; only the first is restored and saved.')
    no_profile = imaging.format_without_profile(output_path, img, opts.format) if img.own_space else None
    beyond = img.own_space.beyond_srgb() if (opts.srgb or no_profile) and img.own_space is not None else 0.0
    if beyond >= 0.001:
        why = f"{no_profile} holds no colour profile" if no_profile and not opts.srgb else "the result is saved in sRGB"
        warn(f'"{input_path.name}" has colours beyond sRGB ({beyond:.1%} of its pixels); they were brought '
             f"within sRGB, as {why}.")
    if img.hdr:
        warn(f'"{input_path.name}" is an HDR photo ({img.hdr} curve); it was tone-mapped to standard range, as '
             "Hourglass's results are not HDR.")
    flat = imaging.format_without_transparency(output_path, img, opts.format) if img.alpha is not None else None
    if flat and (img.alpha < 1.0).any():
        warn(f'"{input_path.name}" has transparent parts; {flat} cannot hold them, so they are white in the result.')
    task = opts.task
    if task != "auto":
        detection = None
    elif detection is not None:  # (made ahead)
        task = detection.task
    else:
        stage("detect")
        td = time.perf_counter()
        from engine.detection.detector import READ_SIDE

        # what `hourglass detect` and the app's analysis see (a JPEG decoded small), so they agree with this
        task, detection = resolve_task_or_warn(imaging.read_small(input_path, READ_SIDE, img.rgb), task, warn)
        timings["detect"] = time.perf_counter() - td
        if detection is not None and on_detect is not None:
            on_detect(detection)
        stage("detect", 1.0)
    found = {} if detection is None else {"confidence": detection.confidence, "scores": dict(detection.scores)}
    if task == "none" and not opts.restore_clean:
        timings["total"] = time.perf_counter() - t0
        h, w = img.rgb.shape[:2]
        log.info("%s looks fine (%s); not restored", input_path.name, found.get("confidence", "chosen"))
        return RestoreResult(str(input_path), "", "none", model.device, model.name, 0, w, h, timings, warnings,
                             requested_task=opts.task, skipped=True, photo_sha256=digest, **found)
    if task in model.task_notes:  # a measured limit of these weights on this task, e.g. no sharpening
        warn(model.task_notes[task])
    if cancel is not None:
        cancel.check()
    t1 = time.perf_counter()
    plan: dict = {}
    stage("restore")  # starts the ETA's clock now, not when the first step or tile is done
    if opts.strength == 0:  # none of a restoration would be kept: do not spend minutes computing it
        warn("Strength 0%: the original was saved as it is; nothing was restored.")
        rgb, times, plan["fullres"] = img.rgb, (), ""  # `img` is replaced below, so this is not a shared copy
    else:
        rgb = restore_array(
            model.net, img.rgb, times, seed=opts.seed, task=task, device=model.device, tile=opts.tile,
            overlap=opts.overlap, on_progress=on_progress, on_warning=warn, cancel=cancel, fullres=opts.fullres,
            optimize=opts.optimize, precision=opts.precision, details=plan, equalize=model.equalizes_low_light,
        )
    timings["restore"] = time.perf_counter() - t1
    timings.update({f"restore_{k}": v for k, v in plan.pop("fast_timings", {}).items()})
    if 0 < opts.strength < 1.0:
        blend_over(rgb, img.rgb, opts.strength)
    # free the input's float copy before encoding; the result says which program made it
    img = replace(img, rgb=np.empty((0, 0, 3), np.float32), exif=imaging.with_software(img.exif, SOFTWARE))
    if cancel is not None:
        cancel.check()
    stage("save")
    t2 = time.perf_counter()
    written = imaging.write_image(
        output_path, rgb, img, format=opts.format, quality=opts.jpeg_quality, bit_depth=opts.bit_depth,
        alpha=img.alpha, overwrite=opts.overwrite, srgb=opts.srgb, location=not opts.remove_location,
        provenance=restore_provenance(input_path, task, detection.confidence if detection else opts.detected,
                                      model.name, len(times), opts.seed, plan.get("fullres", "tiled"), opts.strength,
                                      digest)
        if opts.record else None,
    )
    timings["write"] = time.perf_counter() - t2
    timings["total"] = time.perf_counter() - t0
    h, w = rgb.shape[:2]
    return RestoreResult(str(input_path), str(written), task, model.device, model.name, len(times), w, h,
                         timings, warnings, requested_task=opts.task, fullres=plan.pop("fullres", "tiled"),
                         plan=plan, photo_sha256=digest, **found)
