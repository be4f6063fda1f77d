"""`hourglass` command line: restore, detect, models, info, copy (`engine.cli_copy`), and `engine`, the worker
process.

Exit codes: 0 all photos restored (or found already fine), 1 some photo failed, 2 bad usage or no model,
130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.batch_time import BatchClock, format_time_left
from engine.filetypes import PAIR_CHOICES, RESTORED_DIR, file_stamp, settled

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
SAME_STRENGTH = 0.005  # --again: strengths closer than this (half a percent) are the same


def _add_restore(sub) -> None:
    p = sub.add_parser("restore", help="restore photos (files or folders); results beside each in restored/, "
                                       "or in -o OUTDIR")
    p.add_argument("inputs", nargs="+", metavar="IN", help="photos or folders (searched recursively)")
    p.add_argument("-o", "--output", metavar="OUTDIR",
                   help="folder for the restored photos, a folder's sub-folders mirrored in it (default: a "
                        f"'{RESTORED_DIR}' folder beside each photo, as in the app)")
    p.add_argument("--model", default="default", help="model name or path (default: the bundled model)")
    p.add_argument("--quality", choices=("fast", "balanced", "best"), default="best",
                   help="1, 2 or 3 network evaluations (default: best, the official setting)")
    p.add_argument("--steps", type=int, help="any number of sampling steps (overrides --quality)")
    p.add_argument("--task", choices=("auto", "low-light", "haze", "rain", "snow", "blur"), default="auto")
    p.add_argument("--device", type=_device_arg, default="auto", metavar="auto|cpu|cuda|cuda:N",
                   help="where to run (default auto: the first GPU, else the CPU); cuda:N picks one GPU of several")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tile", type=int, help="tile size in pixels (default: from free memory)")
    p.add_argument("--fullres", choices=("auto", "fast", "tiled"), default="auto",
                   help="full resolution: 'fast' restores a ~1 MP copy and carries the correction over (for "
                        "low-light and haze), 'tiled' runs the network on every pixel; 'auto' (default) picks "
                        "fast for large low-light and haze photos")
    p.add_argument("--precision", choices=("float32", "bfloat16", "float16"), default="float32",
                   help="network precision (reduced precision is for GPUs; default float32)")
    p.add_argument("--reference", action="store_true",
                   help="run the unoptimised reference network (bit-identical to the official code; slower)")
    p.add_argument("--format", choices=FORMATS, default="same",
                   help="output format (default: same as the input; RAW → 16-bit TIFF, HEIC → JPEG); 'tiff' keeps "
                        "the photo's depth, 'tiff16' is 16 bits whatever it is")
    p.add_argument("--suffix", default="", metavar="TEXT",
                   help="added to each file name (photo_restored.jpg with --suffix _restored), so results can "
                        "be saved beside the originals")
    p.add_argument("--strength", type=_percent, default=100.0, metavar="PERCENT",
                   help="how much of the restoration to keep, 0-100 (default 100); the rest is the original")
    p.add_argument("--jpeg-quality", type=_jpeg_quality, default=95, metavar="1-100",
                   help="compression quality of JPEG results (also WebP and AVIF); default 95")
    p.add_argument("--srgb", action="store_true",
                   help="save results in sRGB, for the web: a photo in another colour space (Adobe RGB, "
                        "Display P3, ProPhoto) is converted, colours beyond sRGB brought within it (default: "
                        "a result keeps the photo's colour space and profile)")
    p.add_argument("--no-location", action="store_true",
                   help="leave where each photo was taken out of its result, for sharing: the GPS coordinates in "
                        "its EXIF and XMP (place names typed as captions, such as City, are kept)")
    p.add_argument("--no-record", action="store_true",
                   help="do not record in each result how it was made (task, model, strength, the photo's name "
                        "and SHA-256; see 'hourglass info'); --again and the app's search for results made "
                        "before need that record")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.add_argument("--again", action="store_true",
                   help="save each photo's existing result again at --strength, without restoring it (the app's "
                        "Save at N%%): from the strength the result records, which must be higher; the new file "
                        "goes beside it as 'name (1).jpg', the first is kept")
    p.add_argument("--pairs", choices=PAIR_CHOICES, default="raw",
                   help="a camera's RAW+JPEG shot (IMG_1.CR3 and IMG_1.JPG, in one folder): restore the RAW "
                        "(default), the JPEG, or both")
    p.add_argument("--restore-clean", action="store_true",
                   help="with --task auto: also restore photos the detector finds already fine (default: skip them)")
    p.add_argument("--watch", action="store_true",
                   help="then keep watching the input folders and restore the photos that arrive in them (a "
                        "tethered camera's shots, a scanner's pages), each once it is whole; Ctrl+C stops")
    add_preset_option(p)
    p.add_argument("--json", action="store_true",
                   help="also print one JSON object per photo on stdout (the lines for people stay on stderr)")


FORMATS = ("same", "jpeg", "png", "tiff", "tiff16", "webp", "avif")


def output_format(choice: str) -> tuple[str | None, int | None]:
    """(format, bit depth) of a --format choice: None for "same as the photo" and for the photo's own depth."""
    if choice == "tiff16":
        return "TIFF", 16
    return (None if choice == "same" else choice.upper()), None


def add_preset_option(p) -> None:
    p.add_argument("--preset", metavar="NAME",
                   help="the values of a preset saved in the app's Settings (its format, folder, suffix, colour, "
                        "location and record; for restore also its quality and large-photo path); the options "
                        "given beside it override them. Read by the hourglass command (not python -m engine)")


def _preset_not_expanded() -> int:
    print("hourglass: --preset is read by the hourglass command, which knows the app's presets; this is the "
          "engine's own command line: give the preset's options instead", file=sys.stderr)
    return EXIT_USAGE


def _percent(text: str) -> float:
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 100")
    return value


def _jpeg_quality(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text} is not between 1 and 100")
    return value


def _add_detect(sub) -> None:
    p = sub.add_parser("detect", help="detect each photo's degradation (nothing is written)")
    p.add_argument("inputs", nargs="+", metavar="IN", help="photos or folders (searched recursively)")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per photo and line: path, task, confidence, scores")


def build_parser() -> argparse.ArgumentParser:
    from engine import __version__

    parser = argparse.ArgumentParser(prog="hourglass", description="Restore photos with DiffUIR diffusion models.",
                                     epilog="Without a command, `hourglass [PHOTO_OR_FOLDER...]` opens the window.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    parser.add_argument("--version", action="version", version=f"hourglass {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_restore(sub)
    _add_detect(sub)
    from engine import cli_copy  # (it imports this module's helpers)

    cli_copy.add_parser(sub)
    models = sub.add_parser("models", help="list models, or import an official checkpoint")
    msub = models.add_subparsers(dest="models_command")
    msub.add_parser("list", help="list the models Hourglass can find (default)")
    imp = msub.add_parser("import", help="validate an official DiffUIR checkpoint and add it to your models")
    imp.add_argument("file", help="a .pt/.pth/.safetensors file, or the zip a shared folder downloads as")
    imp.add_argument("--name", help="name for the imported model")
    imp.add_argument("--raw", action="store_true", help="use the raw (non-EMA) weights of a training checkpoint")
    rm = msub.add_parser("remove", help="delete an imported model (the bundled ones stay)")
    rm.add_argument("name")
    models.add_argument("--json", action="store_true")
    conv = sub.add_parser("convert", help="write any accepted checkpoint as a slim safetensors file")
    conv.add_argument("src")
    conv.add_argument("dst")
    conv.add_argument("--raw", action="store_true", help="use the raw (non-EMA) weights of a training checkpoint")
    info = sub.add_parser("info", help="devices and versions, or how restored photos were made")
    info.add_argument("results", nargs="*", metavar="RESULT",
                      help="restored photos or folders of them: print how each was made, as it records (task, "
                           "model, strength…), and where it says it was taken")
    info.add_argument("--json", action="store_true",
                      help="print JSON: one object, or one line per RESULT with what it records, its history and "
                           "location")
    sub.add_parser("engine", help="run the engine worker (JSON lines on stdin/stdout; used by the GUI)")
    return parser


def collect_inputs(paths: list[str], exclude: str | os.PathLike | None = None,
                   result_suffix: str = "", pairs: str = "both") -> tuple[list[Path], list[str], list[str]]:
    """Expand folders recursively into photos; returns (files, problems, notes).

    In folders, hidden files and folders (macOS's `._IMG_0001.JPG` companions, `.thumbnails`), our
    `restored` folders, the `exclude` folder (the output, when it lies inside an input folder) and files
    whose name ends with `result_suffix` (results saved beside their photos) are passed over: a second run
    must not restore the first run's results. Images found in a folder that Hourglass cannot open (GIF,
    PSD ...) are named in a note. A file named directly is taken (reading it says what is wrong with it),
    unless it is the other file of a camera's RAW+JPEG shot named with it: `pairs` says which file of such
    a shot is taken, in folders and among the files named (`engine.filetypes.PAIR_CHOICES`).
    """
    from engine.filetypes import describe_paired, describe_passed_over, describe_unreadable, named_companions

    skip = Path(exclude).resolve() if exclude is not None else None
    files, problems, notes, seen = [], [], [], set()
    named_pairs = named_companions(map(Path, paths), pairs)
    hint = " (--pairs both takes them too)"
    if named_pairs:
        notes.append(f"passed over {describe_paired(sorted(named_pairs), pairs)}{hint}")
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            scan = _folder_photos(p, skip, result_suffix, pairs)
            if scan.others:
                notes.append(f"{p}: passed over {describe_passed_over(scan.others)}")
            if scan.paired:
                notes.append(f"{p}: passed over {describe_paired(scan.paired, pairs)}{hint}")
            if scan.unreadable:
                notes.append(f"{p}: passed over {describe_unreadable(scan.unreadable)}")
            if not scan.photos:
                problems.append(f"{p}: {EMPTY_FOLDER}")
            candidates = scan.photos
        elif p in named_pairs:
            continue
        else:
            candidates = [p]
        for f in candidates:
            key = f.resolve()
            if key not in seen:
                seen.add(key)
                files.append(f)
    return files, problems, notes


def _folder_photos(folder: Path, skip: Path | None, result_suffix: str, pairs: str):
    """`engine.filetypes.folder_photos` of `folder`, passing over our `restored` folders and the output
    folder `skip`."""
    from engine.filetypes import folder_photos

    return folder_photos(folder, lambda d: d.name == RESTORED_DIR or d.resolve() == skip, result_suffix, pairs)


def plan_outputs(files: list[Path], inputs: list[str], out_dir: Path | None, fmt: str | None,
                 suffix: str) -> list[tuple[Path, str]]:
    """Each photo's output path, with a note when an earlier photo of this run took its plain name.

    In `out_dir`, mirroring the input folders' trees; without one, in a `restored` folder beside each photo.

    Photos of one folder that differ only by extension (RAW + JPEG pairs; IMG_1.jpg and IMG_1.png with
    --format png) would make the same file: the later ones get `name (1).ext`, `name (2).ext` ..., so
    neither is refused as existing nor, with --overwrite, lost under the other's result. The names depend
    on this run only, so running it again with --overwrite replaces the same files.
    """
    from engine.api import output_path_for
    from engine.filetypes import numbered_name

    planned: dict[str, Path] = {}
    out = []
    for path in files:
        folder = path.parent / RESTORED_DIR if out_dir is None else out_dir / output_subfolder(path, inputs)
        target = output_path_for(path, folder, fmt, suffix)
        note = ""
        first = planned.get(os.path.normcase(target))
        if first is not None:  # taken by this run, not the disk: a rerun gives the same names
            candidate = numbered_name(target, lambda p: os.path.normcase(p) in planned)
            note = f"{first.name} makes {target.name} in this run, so this one is saved as {candidate.name}"
            target = candidate
        planned[os.path.normcase(target)] = path
        out.append((target, note))
    return out


def output_subfolder(photo: Path, inputs: list[str]) -> Path:
    """The photo's folder relative to the input folder it was found in (empty for a photo named directly):
    the output mirrors a folder's tree, so the IMG_0001.JPG of two camera folders do not collide."""
    for raw in inputs:
        root = Path(raw)
        if root.is_dir():
            try:
                return photo.parent.relative_to(root)
            except ValueError:
                continue
    return Path()


_STAGE_WORDS = {"load": "reading", "detect": "detecting", "save": "saving"}  # the restore's steps are counted


class ProgressBar:
    """One line on a terminal, updated in place; plain lines otherwise. With a `BatchClock`, it also says
    how long the rest of the batch will take."""

    def __init__(self, total: int, stream=None, clock: BatchClock | None = None):
        self.total, self.stream, self.clock = total, stream or sys.stderr, clock
        self.tty = self.stream.isatty()
        self.index = 0
        self._last = 0.0

    def _time_left(self, fraction: float | None = None) -> str:
        left = self.clock.left(fraction) if self.clock is not None else None
        return format_time_left(left) if left is not None and self.total > 1 else ""

    def photo(self, index: int, name: str) -> None:
        self.index, self.name = index, name
        if not self.tty:
            left = self._time_left()
            print(f"[{index}/{self.total}] {name}" + (f" ({left})" if left else ""), file=self.stream, flush=True)

    def update(self, p) -> None:
        now = time.monotonic()
        if not self.tty or (now - self._last < 0.1 and p.fraction < 1):
            return
        self._last = now
        width = 24
        restoring = p.stage == "restore"
        fraction = p.fraction if restoring else float(p.stage == "save")
        fill = round(fraction * width)
        if restoring:
            detail = f"{fraction:4.0%} step {p.step}/{p.steps}" + (f" tile {p.tile}/{p.tiles}" if p.tiles > 1 else "")
        else:
            detail = _STAGE_WORDS.get(p.stage, p.stage)
        left = self._time_left(p.fraction if restoring else None)
        line = f"\r[{self.index}/{self.total}] [{'#' * fill}{'.' * (width - fill)}] {detail}  "
        self.stream.write(line + (f"{left}  " if left else "") + self.name[:30] + "\033[K")
        self.stream.flush()

    def done(self, message: str) -> None:
        if self.tty:
            self.stream.write("\r\033[K")
        print(message, file=self.stream, flush=True)


def _companion_hint(path: Path, exc: Exception, pairs: str) -> str:
    """For a RAW that cannot be read whose camera JPEG was passed over (--pairs raw): where that JPEG is."""
    from engine.filetypes import passed_over_companion

    jpeg = passed_over_companion(path, pairs, getattr(exc, "code", None))
    return f" (its camera JPEG {jpeg.name} was passed over: --pairs jpeg restores that one)" if jpeg else ""


def _unexpected(exc: Exception, doing: str, path: Path) -> str:
    """Log the traceback of a bug met with one photo (shown with -v) and say it in one line."""
    logging.getLogger("hourglass.cli").info("%s %s failed", doing, path, exc_info=exc)
    return f"unexpected error ({type(exc).__name__}: {exc}); please report it (-v shows the traceback)"


def cmd_restore(args) -> int:
    from engine.api import RestoreOptions, restore_file
    from engine.errors import Cancelled, HourglassError, OutputNotWritableError
    from engine.filetypes import clean_suffix
    from engine.imaging import same_file
    from engine.keep_awake import kept_awake
    from engine.models import load_model
    from engine.sampler import CancelToken

    if args.steps is not None and args.steps < 1:
        print("hourglass: --steps must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    if clean_suffix(args.suffix) != args.suffix:
        print("hourglass: --suffix is added to file names: it cannot hold / \\ < > : \" | ? * or control "
              "characters, or be only dots", file=sys.stderr)
        return EXIT_USAGE
    if args.reference and args.precision != "float32":
        print("hourglass: --precision needs the optimised network (drop --reference)", file=sys.stderr)
        return EXIT_USAGE
    if args.again and (args.overwrite or args.strength == 100):
        print("hourglass: --again saves results again at a lower --strength beside the first, which is kept"
              + (" (drop --overwrite)" if args.overwrite else ": give --strength, say --strength 60"),
              file=sys.stderr)
        return EXIT_USAGE
    out_dir = Path(args.output) if args.output is not None else None
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        print(f"hourglass: -o {args.output} is a file; give a folder to save the restored photos in",
              file=sys.stderr)
        return EXIT_USAGE
    if args.watch and (args.again or not any(Path(p).is_dir() for p in args.inputs)):
        print("hourglass: --watch watches folders: give one (and no --again)", file=sys.stderr)
        return EXIT_USAGE
    files, problems = _inputs_or_complain(args.inputs, "nothing to restore", exclude=args.output,
                                          result_suffix=args.suffix, pairs=args.pairs,
                                          empty_ok=args.watch)  # (--watch: where the photos will arrive)
    if not files and not args.watch:
        return EXIT_USAGE
    if args.preset is not None:
        return _preset_not_expanded()
    fmt, bit_depth = output_format(args.format)
    if args.again:
        return _save_again(args, files, plan_outputs(files, args.inputs, out_dir, fmt, args.suffix), problems)
    try:
        model = load_model(args.model, device=args.device)
    except HourglassError as exc:
        print(f"hourglass: {exc}", file=sys.stderr)
        return EXIT_USAGE
    options = RestoreOptions(quality=args.quality, steps=args.steps, task=args.task, seed=args.seed,
                             tile=args.tile, format=fmt, bit_depth=bit_depth, overwrite=args.overwrite,
                             restore_clean=args.restore_clean,
                             fullres=args.fullres, optimize=not args.reference, precision=args.precision,
                             strength=args.strength / 100, jpeg_quality=args.jpeg_quality, srgb=args.srgb,
                             remove_location=args.no_location, record=not args.no_record)
    print(f"Model {model.name} (DiffUIR-{model.variant}) on {model.device}, {len(options.times())} step(s)",
          file=sys.stderr)
    outputs = plan_outputs(files, args.inputs, out_dir, fmt, args.suffix)

    def restored_before(path: Path, out: Path) -> bool:
        """Its result is there from an earlier run (an interrupted batch resumes where it stopped); a result
        path that is the photo itself is not: restoring it is refused with its own message."""
        return not args.overwrite and _exists(out) and not same_file(out, path)

    tally = Tally()

    def record(path: Path, status: str, **fields) -> None:
        json_line(args.json, path, status, **fields)

    def restore_batch(files: list[Path], outputs: list[tuple[Path, str]]) -> None:
        """Restore `files` into `outputs`, one after another, counting in `tally`; a line each."""
        to_go = [path for path, (out, _) in zip(files, outputs, strict=True) if not restored_before(path, out)]
        clock = BatchClock(len(to_go), task=None if args.task == "auto" else args.task, fullres=args.fullres)
        ahead = LookAhead(to_go, clock, detect=args.task == "auto", restore_clean=args.restore_clean)
        position = {path: k for k, path in enumerate(to_go)}
        bar = ProgressBar(len(files), clock=clock)
        for i, (path, (out, renamed)) in enumerate(zip(files, outputs, strict=True), 1):
            cancel.check()
            bar.photo(i, path.name)
            if restored_before(path, out):
                tally.outcome[path] = "kept"
                bar.done(f"kept   {path}: {out} already exists")
                stale = _made_from_another_version(path, out)
                if stale:
                    bar.done(f"       note: {stale}")
                record(path, "kept", output=str(out), **({"notes": [stale]} if stale else {}))
                continue
            k = position.get(path)
            detection = ahead.detection(k, cancel) if k is not None else None
            try:
                with clock.photo() as attempt:
                    res = restore_file(path, out, model, options, on_progress=bar.update, cancel=cancel,
                                       detection=detection, on_detect=ahead.detected(k))
                    if res.skipped:
                        attempt.skipped()
                    else:
                        attempt.restored(res.task, res.width, res.height, res.fullres)
            except Cancelled:
                raise
            except HourglassError as exc:
                bar.done(f"FAILED {tally.fail(path, f'{exc}{_companion_hint(path, exc, args.pairs)}')}")
                record(path, "failed", error=str(exc), code=exc.code)
                if isinstance(exc, OutputNotWritableError) and i < len(files) and \
                        outputs[i][0].parent == out.parent:  # a full disk or a read-only folder fails the rest
                    tally.stopped += len(files) - i
                    bar.done(f"Stopped: the next photos would be saved in {out.parent} too. Free some space "
                             "or choose another folder with -o, then run the same command again (finished "
                             "photos are kept).")
                    for rest in files[i:]:
                        record(rest, "not_attempted")
                    break
                continue
            except Exception as exc:  # noqa: BLE001 - logged by _unexpected; one photo's bug must not end the batch
                message = _unexpected(exc, "restoring", path)
                bar.done(f"FAILED {tally.fail(path, message)}")
                record(path, "failed", error=message, code="internal")
                continue
            detected = {"confidence": res.confidence, "scores": res.scores} if res.confidence is not None else {}
            if res.skipped and res.already_restored:
                tally.outcome[path] = "result"
                bar.done(f"skip   {path}: a result Hourglass saved, not restored again (--task TASK or "
                         f"--restore-clean restores it): {res.already_restored}")
                record(path, "skipped", task=res.task, already_restored=res.already_restored)
                continue
            if res.skipped:
                tally.outcome[path] = "clean"
                guess = _next_guess(res)
                hint = f"--task {guess} restores it as {guess}" if guess else "--restore-clean restores it"
                bar.done(f"skip   {path}: already fine ({_detected(res) or 'task none'}); not restored ({hint})")
                record(path, "skipped", task=res.task, **detected)
                continue
            tally.outcome[path] = "restored"
            path_taken = "fast full-res" if res.fullres == "fast" else ""
            detail = ", ".join(x for x in (_detected(res), path_taken, f"{res.timings['total']:.1f} s") if x)
            bar.done(f"ok     {path} -> {res.output_path} ({detail})")
            if renamed:
                bar.done(f"       note: {renamed}")
            for message in res.warnings:  # the GUI shows these as notices; here they follow the photo's line
                bar.done(f"       note: {message}")
            record(path, "restored", output=res.output_path, task=res.task, **detected, fullres=res.fullres,
                   seconds=round(res.timings["total"], 3), notes=[*([renamed] if renamed else []), *res.warnings])

    start = time.perf_counter()
    cancel = CancelToken()
    seen = set(files)
    try:
        with _cancel_on_sigint(cancel), kept_awake():  # no sleep for lack of input during the batch
            restore_batch(files, outputs)
            if args.watch:
                for arrived in watch_arrivals(args, files, cancel):
                    seen.update(arrived)
                    restore_batch(arrived, plan_outputs(arrived, args.inputs, out_dir, fmt, args.suffix))
    except (KeyboardInterrupt, Cancelled):
        cancel.cancel()
        ProgressBar(0).done(f"Interrupted: {tally.count('restored')} restored; the photo in progress was discarded.")
        return EXIT_INTERRUPTED
    elapsed = time.perf_counter() - start
    if len(tally.failed) > 1 and len(seen) > 10:  # in a long log the failures have scrolled away: list them again
        print("Failed:\n" + "\n".join(f"  {line}" for line in tally.failed), file=sys.stderr)
    clean, results, kept = tally.count("clean"), tally.count("result"), tally.count("kept")
    return end_of_run(f"Restored {tally.count('restored')} of {len(seen)} photo(s) in {elapsed:.1f} s",
                      [f"{clean} already fine (not restored)" if clean else "",
                       f"{results} already restored by Hourglass (not restored again)" if results else "",
                       f"{kept} kept from an earlier run (--overwrite restores them again)" if kept else ""],
                      tally.failed, problems, after=[f"{tally.stopped} not attempted" if tally.stopped else ""])


@dataclass
class Tally:
    """How a restore run's photos ended: each photo's last outcome (with --watch a photo written again is
    taken again, and its new outcome replaces the first: a copy read half-way that failed, then restored,
    counts as restored)."""

    outcome: dict[Path, str] = field(default_factory=dict)  # restored | clean | result | kept | failed
    why: dict[Path, str] = field(default_factory=dict)  # why each failed photo failed
    stopped: int = 0

    def fail(self, path: Path, why: str) -> str:
        """Count `path` as failed; returns its line ("photo: why")."""
        self.outcome[path], self.why[path] = "failed", why
        return f"{path}: {why}"

    def count(self, outcome: str) -> int:
        return sum(o == outcome for o in self.outcome.values())

    @property
    def failed(self) -> list[str]:
        return [f"{p}: {self.why[p]}" for p, o in self.outcome.items() if o == "failed"]


WATCH_INTERVAL_S = 2.0
EMPTY_FOLDER = "no supported photos in this folder"


def watch_arrivals(args, taken: list[Path], cancel, interval: float | None = None):
    """--watch: after the first run (`taken`), the photos that arrive in the input folders, in batches, once
    each is whole (its size and modification time unchanged between two looks, `interval` apart). A photo
    taken before that is written again (an editor's export under the same name, a copy read half-way and
    finished since) comes again: restored if it has no result yet, else kept with a note that its result
    is of another version (`--overwrite` restores it again). Ends, quietly, on Ctrl+C while it waits (a
    Ctrl+C during a restore interrupts that restore, as without --watch)."""
    if interval is None:
        interval = float(os.environ.get("HOURGLASS_WATCH_INTERVAL_S", WATCH_INTERVAL_S))  # (tests look faster)
    folders = [p for p in args.inputs if Path(p).is_dir()]
    print(f"Watching {', '.join(folders)} for new photos (Ctrl+C stops)", file=sys.stderr, flush=True)
    known = {f: file_stamp(f) for f in taken}  # (the stamp each had when it was taken)
    growing: dict[Path, list[int] | None] = {}
    while True:
        try:
            deadline = time.monotonic() + interval
            while time.monotonic() < deadline and not cancel.cancelled:  # (short sleeps: the token is seen)
                time.sleep(min(0.1, interval))
        except KeyboardInterrupt:
            pass
        if cancel.cancelled:
            print("Stopped watching", file=sys.stderr)
            return
        found = collect_inputs(folders, args.output, args.suffix, args.pairs)[0]
        stamps = {f: file_stamp(f) for f in found}
        whole, growing = settled({f: s for f, s in stamps.items() if f not in known or s not in (None, known[f])},
                                 growing)
        if whole:
            known.update({f: stamps[f] for f in whole})
            yield whole


def json_line(enabled: bool, path: Path, status: str, **fields) -> None:
    """With --json: a photo's outcome as one JSON line on stdout, for scripts (restore, --again, copy)."""
    if enabled:
        print(json.dumps({"path": str(path), "status": status, **fields}), flush=True)


def end_of_run(first: str, notes: Sequence[str], failed: list[str], problems: list[str],
               after: Sequence[str] = ()) -> int:
    """Print a run's last line (`first`, its `notes`, how many failed, then `after`; empty ones left out) and
    return its exit status: 1 when a photo failed or an input was a problem."""
    parts = [first, *notes, f"{len(failed)} failed" if failed or problems else "", *after]
    print("; ".join(part for part in parts if part), file=sys.stderr)
    return EXIT_FAILED if failed or problems else EXIT_OK


def _save_again(args, files: list[Path], outputs: list[tuple[Path, str]], problems: list[str]) -> int:
    """--again: each photo's result (where a restore would save it) blended over the photo again at
    --strength (`engine.reblend`, no network), from the strength the result records; saved beside it."""
    from engine.errors import HourglassError
    from engine.filetypes import numbered_name
    from engine.imaging import read_provenance, recorded_strength
    from engine.reblend import reblend_file

    strength = args.strength / 100
    bar = ProgressBar(len(files))
    done, failed, kept = 0, [], 0

    def fail(path: Path, message: str, code: str) -> None:
        failed.append(f"{path}: {message}")
        bar.done(f"FAILED {failed[-1]}")
        json_line(args.json, path, "failed", error=message, code=code)

    for i, (path, (out, _)) in enumerate(zip(files, outputs, strict=True), 1):
        bar.photo(i, path.name)
        if not _exists(out):
            fail(path, f"no result at {out} to save again (without --again it is restored)", "no_result")
            continue
        record = read_provenance(out)
        saved = recorded_strength(record)
        if saved is None:
            fail(path, f"{out.name} does not record the strength it was saved at (saved by another program or "
                       "an older Hourglass); --overwrite without --again restores the photo again", "no_record")
            continue
        there = out if abs(saved - strength) < SAME_STRENGTH else _saved_again_at(out, path, strength)
        if there is not None:  # a second run of the same command does not make the same file again
            kept += 1
            bar.done(f"kept   {path}: {there.name} is already at {strength:.0%} strength")
            json_line(args.json, path, "kept", output=str(there))
            continue
        if saved < strength:
            fail(path, f"{out.name} was saved at {saved:.0%} strength and holds too little of the restoration for "
                       f"{strength:.0%}; --overwrite without --again restores the photo again", "too_weak")
            continue
        try:
            res = reblend_file(path, out, numbered_name(out, _exists), saved, strength,
                               task=record.get("Task", "auto"), jpeg_quality=args.jpeg_quality,
                               remove_location=args.no_location, record=not args.no_record)
        except HourglassError as exc:
            fail(path, str(exc), exc.code)
            continue
        except Exception as exc:  # noqa: BLE001 - logged by _unexpected; one photo's bug must not end the batch
            fail(path, _unexpected(exc, "saving again", path), "internal")
            continue
        done += 1
        bar.done(f"ok     {path} -> {res.output_path} (from {out.name}, {saved:.0%} → {strength:.0%}, "
                 f"{res.timings['total']:.1f} s)")
        json_line(args.json, path, "saved_again", output=res.output_path, **{"from": str(out)}, strength=strength,
                  from_strength=saved)
    return end_of_run(f"Saved {done} of {len(files)} result(s) again at {strength:.0%} strength",
                      [f"{kept} saved at it before" if kept else ""], failed, problems)


def _made_from_another_version(photo: Path, result: Path) -> str:
    """Why a kept result may be stale: it records another SHA-256 of its photo (edited or replaced since)."""
    from engine.imaging import photo_digest, read_provenance

    recorded = read_provenance(result).get("PhotoSHA256")
    try:
        if recorded is None or recorded == photo_digest(photo):
            return ""
    except OSError:
        return ""
    return (f"{result.name} was made from another version of {photo.name} (changed since); --overwrite "
            "restores it again")


def _saved_again_at(result: Path, photo: Path, strength: float) -> Path | None:
    """The `result (n).ext` beside `result` that records `photo` saved at `strength`, if one is there."""
    from engine.earlier_results import earlier_results
    from engine.imaging import recorded_strength

    for path, record in earlier_results(result, photo):
        if path != result and abs(recorded_strength(record) - strength) < SAME_STRENGTH:
            return path
    return None


class LookAhead:
    """On a thread of its own, ahead of the restores: each photo's size from its header and, on auto, the
    degradation of each JPEG and RAW, so the time left weighs each photo by its size and the path its
    degradation takes (`BatchClock`). The restore takes the detection made here instead of making it again
    (the same answer: `detect_file` sees the photo as the restore does), so nothing is done twice; the
    first photo detects its own, as it starts at once. Other formats are detected by their restore, from the
    pixels it decodes anyway (`imaging.reads_small_itself`): detected ahead, they were decoded twice, and
    a batch of 6-12 MP PNGs on the fast path took 6% longer; they count as the mean photo until restored."""

    def __init__(self, photos: list[Path], clock: BatchClock, detect: bool, restore_clean: bool) -> None:
        self.photos, self.clock, self.restore_clean = photos, clock, restore_clean
        self._detections: list = [None] * len(photos)
        self._ready = [threading.Event() for _ in photos]
        self._detect = detect
        threading.Thread(target=self._run, name="look-ahead", daemon=True).start()

    def detection(self, k: int, cancel) -> Any:
        """Photo `k`'s detection, None where it was not made (the first photo, no detector, a photo the
        detector could not read: the restore detects itself and says why). It waits for the thread to have
        looked at the photo, which it has long done unless detecting is slower than restoring."""
        while not self._ready[k].wait(0.25):
            cancel.check()
        return self._detections[k]

    def detected(self, k: int | None) -> Callable[[Any], None] | None:
        """For the restore of photo `k` to report the detection it makes itself (the first photo, other
        formats than JPEG and RAW): the time left then knows that photo's path too."""
        return None if k is None else lambda d: self._learn(k, d)

    def _learn(self, k: int, d: Any) -> None:
        from engine.batch_time import SKIPPED

        self.clock.tasks[k] = SKIPPED if d.task == "none" and not self.restore_clean else d.task

    def _run(self) -> None:
        from engine.imaging import photo_size, reads_small_itself

        detector = self._detector() if self._detect else None
        for k, path in enumerate(self.photos):
            try:
                self.clock.sizes[k] = photo_size(path)
                if detector is not None and k > 0 and reads_small_itself(path):
                    self._detections[k] = detector.detect_file(path)
                    self._learn(k, self._detections[k])
            except Exception:  # (the photo's own restore detects again and says what is wrong)
                logging.getLogger("hourglass.cli").debug("no detection ahead for %s", path, exc_info=True)
            finally:
                self._ready[k].set()

    @staticmethod
    def _detector() -> Any:
        try:
            from engine.detection import default_detector

            return default_detector()
        except Exception:  # noqa: BLE001 - (no detector: each restore says so itself)
            return None


def _exists(path: Path) -> bool:
    """Whether a file is there; False where the name itself is refused (too long), which restoring says."""
    try:
        return path.exists()
    except OSError:
        return False


@contextlib.contextmanager
def _cancel_on_sigint(cancel):
    """Ctrl-C sets the job's cancel token as well as raising KeyboardInterrupt.

    The interrupt alone can be lost: Python drops exceptions raised where it cannot propagate them (a
    finaliser, a callback), and the restore would run on. The token is checked at every step and tile, so
    the interrupt takes effect at the next one either way.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        cancel.cancel()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _next_guess(res) -> str | None:
    """The detector's second answer when it was unsure of the first (scored below `UNSURE`), else None."""
    from engine.protocol import UNSURE, runner_up

    if res.confidence is None or res.confidence >= UNSURE:
        return None
    second = runner_up(res.task, res.scores)
    return second[0] if second else None


def _detected(res) -> str:
    """"detected haze 91%" for a task the detector chose ("detected none 45%, unsure; next: rain 40%" below
    `UNSURE`), "" for one the user chose."""
    if res.confidence is None:
        return ""
    guess = _next_guess(res)
    unsure = f", unsure; next: {guess} {res.scores[guess]:.0%}" if guess else ""
    return f"detected {res.task} {res.confidence:.0%}{unsure}"


def format_detection(path, d) -> str:
    others = ", ".join(f"{c} {v:.0%}" for c, v in d.ranked()[1:3])
    bw = "; black and white" if d.black_and_white else ""
    return f"{d.task:9s} {d.confidence:4.0%}  {path}  ({others}{bw})"


def _inputs_or_complain(inputs: list[str], when_empty: str, exclude: str | None = None,
                        result_suffix: str = "", pairs: str = "both",
                        empty_ok: bool = False) -> tuple[list[Path], list[str]]:
    """`collect_inputs`, with each note and problem, and `when_empty` if no photo was found, printed on
    stderr. Notes (images Hourglass cannot open, passed over in a folder) do not fail the run; with
    `empty_ok`, neither do empty folders nor finding no photo."""
    files, problems, notes = collect_inputs(inputs, exclude, result_suffix, pairs)
    if empty_ok:
        problems = [p for p in problems if not p.endswith(EMPTY_FOLDER)]
    for note in notes:
        print(f"hourglass: note: {note}", file=sys.stderr)
    for problem in problems:
        print(f"hourglass: {problem}", file=sys.stderr)
    if not files and not empty_ok:
        print(f"hourglass: {when_empty}", file=sys.stderr)
    return files, problems


def cmd_detect(args) -> int:
    from engine.detection import default_detector
    from engine.errors import HourglassError, ModelInvalidError, ModelNotFoundError
    from engine.imaging import read_made_by

    files, problems = _inputs_or_complain(args.inputs, "no photos to look at")
    if not files:
        return EXIT_USAGE
    try:
        detector = default_detector()
    except (ModelNotFoundError, ModelInvalidError) as exc:
        print(f"hourglass: {exc}", file=sys.stderr)
        return EXIT_USAGE
    failed = 0
    for path in files:
        try:
            d = detector.detect_file(path)
        except Exception as exc:  # noqa: BLE001 - an unexpected one is logged by _unexpected, as in restore
            failed += 1
            known = isinstance(exc, HourglassError)
            message = str(exc) if known else _unexpected(exc, "detecting", path)
            print(f"hourglass: {path}: {message}", file=sys.stderr)
            if args.json:  # a script reading stdout sees every photo, the failed ones too
                print(json.dumps({"path": str(path), "error": message,
                                  "code": exc.code if known else "internal"}), flush=True)
            continue
        made = read_made_by(path)  # a result Hourglass saved: `restore` leaves it (it would be restored twice)
        if args.json:
            print(json.dumps({"path": str(path), **d.to_json(), **({"already_restored": made} if made else {})}),
                  flush=True)
        else:
            print(format_detection(path, d) + (f"  (a result Hourglass saved: {made})" if made else ""), flush=True)
    return EXIT_FAILED if failed or problems else EXIT_OK


def _device_arg(text: str) -> str:
    from engine.protocol import is_gpu_id

    value = text.lower()
    if value in ("auto", "cpu", "cuda", "gpu") or is_gpu_id(value):
        return value
    raise argparse.ArgumentTypeError(f"'{text}' is not a device: choose auto, cpu, cuda or cuda:N")


def cmd_models(args) -> int:
    from engine.errors import HourglassError
    from engine.models import find_models, import_model, no_model_message, remove_model, user_models_dir

    if args.models_command == "remove":
        try:
            info = remove_model(args.name)
        except HourglassError as exc:
            print(f"hourglass: {exc}", file=sys.stderr)
            return EXIT_FAILED
        print(f"Removed '{info.name}' ({info.path})")
        return EXIT_OK
    if args.models_command == "import":
        try:
            info = import_model(args.file, use_ema=not args.raw, name=args.name)
        except HourglassError as exc:
            print(f"hourglass: {exc}", file=sys.stderr)
            return EXIT_FAILED
        except Exception as exc:  # noqa: BLE001 - a bug met with one file: one line, the traceback with -v
            print(f"hourglass: {_unexpected(exc, 'importing', Path(args.file))}", file=sys.stderr)
            return EXIT_FAILED
        member = info.metadata.get("archive_member", "")  # (which file of a zip: say it, it may not be the one meant)
        came = f", {Path(member).name} from the archive" if member else ""
        message = f"Imported DiffUIR-{info.variant} as '{info.name}' ({info.path}{came})"
        if getattr(args, "json", False):  # (the GUI's Models dialog shows the message and selects the model)
            print(json.dumps({**info.to_json(), "archive_member": member, "message": message}))
        else:
            print(message)
        return EXIT_OK
    models = find_models()
    if getattr(args, "json", False):
        print(json.dumps([m.to_json() for m in models], indent=2))
        return EXIT_OK
    if not models:
        print(no_model_message())
        return EXIT_OK
    for m in models:
        variant = f"DiffUIR-{m.variant}" if m.variant else "unverified"
        print(f"{m.name:32s} {variant:12s} {m.size_bytes / 1e6:7.1f} MB  {m.origin:8s} {m.path}")
        for task, note in m.notes.items():
            print(f"    {task}: {note}")
    print(f"\nYour model folder: {user_models_dir()}")
    return EXIT_OK


def cmd_convert(args) -> int:
    from engine.checkpoints import convert_checkpoint
    from engine.errors import HourglassError

    try:
        ckpt = convert_checkpoint(args.src, args.dst, use_ema=not args.raw)
    except HourglassError as exc:
        print(f"hourglass: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"Wrote DiffUIR-{ckpt.variant} ({ckpt.parameters:,} parameters, {ckpt.source} weights) to {args.dst}")
    return EXIT_OK


def engine_info() -> dict:
    import platform

    import numpy
    import torch

    import engine
    from engine.device import list_devices
    from engine.models import bundled_models_dir, user_models_dir

    return {
        "hourglass": engine.__version__, "python": platform.python_version(), "torch": torch.__version__,
        "numpy": numpy.__version__, "cuda": torch.version.cuda, "threads": torch.get_num_threads(),
        "devices": list_devices(), "bundled_models": str(bundled_models_dir()),
        "user_models": str(user_models_dir()),
    }


def cmd_info(args) -> int:
    if args.results:
        return _results_info(args.results, args.json)
    info = engine_info()
    if args.json:
        print(json.dumps(info, indent=2))
        return EXIT_OK
    for key, value in info.items():
        if key == "devices":
            for d in value:
                mem = d.get("memory_total") or d.get("memory_free") or 0
                print(f"device     {d['id']:8s} {d['name']} ({mem / 2**30:.1f} GiB)")
        else:
            print(f"{key:10s} {value}")
    return EXIT_OK


def _results_info(paths: list[str], as_json: bool) -> int:
    """How each result (a folder: each photo in it) was made, from its record (`engine.imaging.provenance`), and
    where it says it was taken (to check before sharing it); exit 1 if one records nothing."""
    from engine.imaging import read_history, read_location, read_provenance

    files, problems = _inputs_or_complain(paths, "no photos to look at")  # (a folder of results: each of them)
    missing = len(problems)
    for raw in map(str, files):
        record = read_provenance(raw)
        missing += not record
        history = read_history(raw) if record else ()
        location = read_location(raw)
        if as_json:
            print(json.dumps({"path": raw, "recorded": record, "history": list(history), "location": location}))
            continue
        if not record:
            why = "no such file" if not _exists(Path(raw)) else "it records nothing: not saved by Hourglass, or a BMP"
            print(f"{raw}: {why}")
        else:
            print(f"{raw}:")
            for key, value in record.items():
                print(f"  {key:15s} {value}")
            for event in history:
                print(f"  {event.get('when', ''):25s} {event.get('parameters', '')}")
        if _exists(Path(raw)):
            print(f"  {'Location':15s} {_location_text(location)}")
    return EXIT_FAILED if missing else EXIT_OK


def _location_text(location: dict | None) -> str:
    if location is None:
        return "none (no GPS coordinates)"
    where = "coordinates" if location["latitude"] is None else (
        f"{abs(location['latitude']):.5f}° {'S' if location['latitude'] < 0 else 'N'}, "
        f"{abs(location['longitude']):.5f}° {'W' if location['longitude'] < 0 else 'E'}")
    return f"{where} (GPS in its {' and '.join(location['in'])}; --no-location leaves them out)"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    if args.command == "engine":
        from engine.worker import main as worker_main

        return worker_main()
    from engine.cli_copy import cmd_copy

    handlers = {"restore": cmd_restore, "detect": cmd_detect, "models": cmd_models, "convert": cmd_convert,
                "info": cmd_info, "copy": cmd_copy}
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
