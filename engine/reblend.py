"""Saving a restored photo again at a lower strength, without restoring it again.

A result saved at strength s0 holds original + s0 · (restored − original). At a strength s ≤ s0 the photo
is original + (s / s0) · (result − original): the earlier result blended over the original, both read again
at full precision, and written as the first save wrote it (its format and depth, the photo's metadata,
colour space and transparency). That takes seconds where restoring again takes minutes on a CPU, and
toning a restoration down after seeing it is what the strength slider is for. Above s0 the result does
not hold enough of the restoration (the blend would magnify its rounding and compression): that needs a
new restore (Retry).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from engine import imaging
from engine.api import SOFTWARE, RestoreResult, blend_over
from engine.errors import InputNotFoundError, InvalidRequestError, OutputExistsError
from engine.pipeline import Progress
from engine.sampler import CancelToken

log = logging.getLogger("engine.reblend")


def reblend_file(input_path: str | os.PathLike, result_path: str | os.PathLike, output_path: str | os.PathLike,
                 saved_strength: float, strength: float, *, task: str = "auto", jpeg_quality: int = 95,
                 overwrite: bool = False, remove_location: bool = False, record: bool = True,
                 copy: bool = False, format: str | None = None, bit_depth: int | None = None, srgb: bool = False,
                 cancel: CancelToken | None = None,
                 on_progress: Callable[[Progress], None] | None = None) -> RestoreResult:
    """Write `output_path`: the photo `input_path` at `strength` (0 ≤ strength ≤ saved_strength; 0 is the
    original), from its earlier result `result_path`, saved at `saved_strength` (0 < saved_strength ≤ 1).
    The result must still be the photo's size: an edited or replaced one is refused. `task` is recorded
    (unless not `record`); the metadata is the photo's, so `remove_location` applies as in a restore.
    Saved as the earlier result was (format, depth, colour space), unless `copy`: a copy of it in another
    form (a web JPEG of an archive TIFF), in `format` (None: from `output_path`'s extension, else as the
    photo), `bit_depth` and, with `srgb`, in sRGB, as a restore with those options saves. A copy holds what
    the result holds (a JPEG result's compression included)."""
    input_path, result_path, output_path = Path(input_path), Path(result_path), Path(output_path)
    if not 0.0 < saved_strength <= 1.0 or not 0.0 <= strength <= 1.0:
        raise InvalidRequestError(f"Invalid strengths: {strength:.0%} from a result saved at {saved_strength:.0%}.")
    if strength > saved_strength + 1e-6:
        raise InvalidRequestError(
            f"'{result_path.name}' was saved at {saved_strength:.0%} strength, so it holds too little of the "
            f"restoration to be saved at {strength:.0%}; Retry restores the photo again at {strength:.0%}.")

    def stage(name: str, fraction: float = 0.0) -> None:
        if on_progress is not None:
            on_progress(Progress(name, 0, 0, 0, 0, fraction))

    imaging.check_output_name(output_path)
    imaging.check_not_original(output_path, input_path)
    imaging.check_not_original(output_path, result_path)  # the earlier result is kept
    if output_path.exists() and not overwrite:
        raise OutputExistsError(f"'{output_path}' already exists; not replacing it.")
    imaging.check_output_folder(output_path.parent)
    if not result_path.is_file():
        raise InputNotFoundError(f"The earlier result '{result_path}' is gone (moved or deleted); Retry restores "
                                 "the photo again.")
    t0 = time.perf_counter()
    stage("load")
    recorded, digest = imaging.read_provenance(result_path), imaging.photo_digest(input_path)
    if recorded.get("PhotoSHA256", digest) != digest:
        raise InvalidRequestError(
            f"'{input_path.name}' has changed since '{result_path.name}' was made from it (edited or replaced?), "
            "so that result cannot be blended over it; Retry restores the photo again.")
    img = imaging.read_image(input_path)
    if cancel is not None:
        cancel.check()
    earlier = imaging.read_image(result_path)
    (h, w), (rh, rw) = img.rgb.shape[:2], earlier.rgb.shape[:2]
    if (rh, rw) != (h, w):
        raise InvalidRequestError(
            f"'{result_path.name}' ({rw}×{rh}) is no longer the size of its photo ({w}×{h}): edited or replaced "
            "since? Retry restores the photo again.")
    timings = {"read": time.perf_counter() - t0}
    # the form it is saved in: the earlier result's, or the one asked for; a result saved in sRGB (for the
    # web) the first time is tagged sRGB while the photo has its own space
    in_srgb = srgb if copy else img.own_space is not None and earlier.own_space is None
    rgb = _beyond_srgb_as_saved(earlier, img)
    if img.alpha is not None and earlier.alpha is None:  # the first save flattened it onto white (JPEG, BMP): so
        # is the photo, and the blend of the two is what a direct save would have flattened
        img = replace(img, rgb=imaging.over_white(img.rgb, img.alpha), alpha=None)
    blend_over(rgb, img.rgb, min(1.0, strength / saved_strength))
    img = replace(img, rgb=np.empty((0, 0, 3), np.float32), exif=imaging.with_software(img.exif, SOFTWARE))
    if cancel is not None:
        cancel.check()
    stage("save")
    t1 = time.perf_counter()
    if not copy:
        format, bit_depth = earlier.format, earlier.bit_depth if earlier.bit_depth in (8, 16) else None
    written = imaging.write_image(output_path, rgb, img, format=format, quality=jpeg_quality, bit_depth=bit_depth,
                                  alpha=img.alpha, overwrite=overwrite, srgb=in_srgb, location=not remove_location,
                                  provenance=_provenance(recorded, earlier.xmp, input_path.name, digest,
                                                         result_path.name, task, saved_strength, strength,
                                                         copy=copy)
                                  if record else None)
    timings["write"] = time.perf_counter() - t1
    timings["total"] = time.perf_counter() - t0
    log.info("%s saved %s at %.0f%% (from %.0f%%) as %s", input_path.name, "as a copy" if copy else "again",
             100 * strength, 100 * saved_strength, written.name)
    return RestoreResult(str(input_path), str(written), task, "", "", 0, w, h, timings, requested_task=task,
                         fullres="")


def _provenance(recorded: dict[str, str], earlier_xmp: bytes | None, photo: str, digest: str, result: str, task: str,
                saved_strength: float, strength: float, copy: bool = False) -> imaging.Provenance:
    """The earlier result's record (model, seed, path...; read before its pixels) at the new strength: how
    the pixels were made has not changed, only how much of them is kept."""
    record = {**recorded, "Software": SOFTWARE, "Strength": f"{strength:.4g}", "Photo": photo, "PhotoSHA256": digest}
    if task != "auto":
        record.setdefault("Task", task)
    record = {k: v for k, v in record.items() if k in imaging.provenance.FIELDS}
    event = (f"saved {photo} as a copy of {result} at strength {strength:.0%}" if copy else
             f"saved {photo} again at strength {strength:.0%} from {result} (saved at {saved_strength:.0%})")
    return imaging.Provenance(record, event, imaging.provenance.events_of(earlier_xmp))


def _beyond_srgb_as_saved(earlier: imaging.ImageData, photo: imaging.ImageData) -> np.ndarray:
    """The earlier result's sRGB numbers, less the photo's colours beyond sRGB and plus the result's own.

    A photo in a wider space is restored in sRGB numbers clipped to sRGB, and its colours beyond sRGB are
    put back on writing (`working_space`): blended over the photo's clipped numbers, the result's must
    carry what lies beyond sRGB in it, less what writing put back, or a saturated colour would come out
    as clipped. (A result saved in sRGB has none, nor had the photo's put back: its numbers are the blend
    itself.) This holds whichever space the new file is written in: a copy in sRGB is the blend of the
    same numbers, brought within sRGB."""
    rgb = earlier.rgb
    if earlier.own_space is None or photo.own_space is None:
        return rgb
    flat = rgb.reshape(-1, 3)
    flat[earlier.own_space.excess_at] += earlier.own_space.excess
    flat[photo.own_space.excess_at] -= photo.own_space.excess
    return rgb
