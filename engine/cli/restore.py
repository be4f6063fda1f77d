"""`hourglass restore`: photos restored one after another, each with a line, the time left weighed by a
look-ahead, and with --watch the photos that arrive after."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from engine.batch_time import BatchClock
from engine.cli.again import save_again
from engine.cli.inputs import exists, inputs_or_complain, plan_outputs
from engine.cli.look_ahead import LookAhead
from engine.cli.options import (
    FORMATS,
    add_preset_option,
    device_arg,
    jpeg_quality,
    output_format,
    percent,
    preset_not_expanded,
)
from engine.cli.report import EXIT_INTERRUPTED, EXIT_USAGE, ProgressBar, end_of_run, json_line, unexpected
from engine.cli.watch import watch_arrivals
from engine.filetypes import PAIR_CHOICES, RESTORED_DIR
from engine.wording import count


def add_parser(sub) -> None:
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
    p.add_argument("--device", type=device_arg, default="auto", metavar="auto|cpu|cuda|cuda:N",
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
    p.add_argument("--strength", type=percent, default=100.0, metavar="PERCENT",
                   help="how much of the restoration to keep, 0-100 (default 100); the rest is the original")
    p.add_argument("--jpeg-quality", type=jpeg_quality, default=95, metavar="1-100",
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
    p.set_defaults(run=cmd_restore)


def _usage_problem(args) -> str:
    """Why these options cannot go together ('' when they can), checked before any photo is looked at."""
    from engine.filetypes import clean_suffix

    if args.steps is not None and args.steps < 1:
        return "--steps must be at least 1"
    if clean_suffix(args.suffix) != args.suffix:
        return ("--suffix is added to file names: it cannot hold / \\ < > : \" | ? * or control characters, or be "
                "only dots")
    if args.reference and args.precision != "float32":
        return "--precision needs the optimised network (drop --reference)"
    if args.again and (args.overwrite or args.strength == 100):
        return ("--again saves results again at a lower --strength beside the first, which is kept"
                + (" (drop --overwrite)" if args.overwrite else ": give --strength, say --strength 60"))
    out_dir = Path(args.output) if args.output is not None else None
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        return f"-o {args.output} is a file; give a folder to save the restored photos in"
    if args.watch and (args.again or not any(Path(p).is_dir() for p in args.inputs)):
        return "--watch watches folders: give one (and no --again)"
    return ""


def cmd_restore(args) -> int:
    from engine.api import RestoreOptions
    from engine.errors import HourglassError
    from engine.models import load_model

    problem = _usage_problem(args)
    if problem:
        print(f"hourglass: {problem}", file=sys.stderr)
        return EXIT_USAGE
    files, problems = inputs_or_complain(args.inputs, "nothing to restore", exclude=args.output,
                                         result_suffix=args.suffix, pairs=args.pairs,
                                         empty_ok=args.watch)  # (--watch: where the photos will arrive)
    if not files and not args.watch:
        return EXIT_USAGE
    if args.preset is not None:
        return preset_not_expanded()
    out_dir = Path(args.output) if args.output is not None else None
    fmt, bit_depth = output_format(args.format)
    if args.again:
        return save_again(args, files, plan_outputs(files, args.inputs, out_dir, fmt, args.suffix), problems)
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
    print(f"Model {model.name} (DiffUIR-{model.variant}) on {model.device}, {count(len(options.times()), 'step')}",
          file=sys.stderr)
    return RestoreRun(args, model, options, out_dir, fmt).run(files, problems)


class RestoreRun:
    """One `hourglass restore`: the photos named, then with --watch those that arrive, restored one after
    another with a line each (and a JSON line with --json), counted in a `Tally` for the last line."""

    def __init__(self, args, model, options, out_dir: Path | None, fmt: str | None) -> None:
        from engine.sampler import CancelToken

        self.args, self.model, self.options, self.out_dir, self.fmt = args, model, options, out_dir, fmt
        self.tally = Tally()
        self.cancel = CancelToken()
        self.unwritable: Path | None = None  # the folder the last photo could not be saved in

    def run(self, files: list[Path], problems: list[str]) -> int:
        """Restore `files` (and with --watch the arrivals, until Ctrl+C); the exit status."""
        from engine.errors import Cancelled
        from engine.keep_awake import kept_awake

        args, tally = self.args, self.tally
        start = time.perf_counter()
        seen = set(files)
        try:
            with _cancel_on_sigint(self.cancel), kept_awake():  # no sleep for lack of input during the batch
                self.batch(files, self._outputs(files))
                if args.watch:
                    for arrived in watch_arrivals(args, files, self.cancel):
                        seen.update(arrived)
                        self.batch(arrived, self._outputs(arrived))
        except (KeyboardInterrupt, Cancelled):
            self.cancel.cancel()
            ProgressBar(0).done(f"Interrupted: {tally.count('restored')} restored; the photo in progress was "
                                "discarded.")
            return EXIT_INTERRUPTED
        elapsed = time.perf_counter() - start
        if len(tally.failed) > 1 and len(seen) > 10:  # in a long log the failures have scrolled away: list them again
            print("Failed:\n" + "\n".join(f"  {line}" for line in tally.failed), file=sys.stderr)
        clean, results, kept = tally.count("clean"), tally.count("result"), tally.count("kept")
        return end_of_run(f"Restored {tally.count('restored')} of {count(len(seen), 'photo')} in {elapsed:.1f} s",
                          [f"{clean} already fine (not restored)" if clean else "",
                           f"{results} already restored by Hourglass (not restored again)" if results else "",
                           f"{kept} kept from an earlier run (--overwrite restores them again)" if kept else ""],
                          tally.failed, problems, after=[f"{tally.stopped} not attempted" if tally.stopped else ""])

    def _outputs(self, files: list[Path]) -> list[tuple[Path, str]]:
        return plan_outputs(files, self.args.inputs, self.out_dir, self.fmt, self.args.suffix)

    def restored_before(self, path: Path, out: Path) -> bool:
        """Its result is there from an earlier run (an interrupted batch resumes where it stopped); a result
        path that is the photo itself is not: restoring it is refused with its own message."""
        from engine.imaging import same_file

        return not self.args.overwrite and exists(out) and not same_file(out, path)

    def record(self, path: Path, status: str, **fields) -> None:
        json_line(self.args.json, path, status, **fields)

    def batch(self, files: list[Path], outputs: list[tuple[Path, str]]) -> None:
        """Restore `files` into `outputs`, one after another, counting in the tally; a line each."""
        args = self.args
        to_go = [path for path, (out, _) in zip(files, outputs, strict=True) if not self.restored_before(path, out)]
        clock = BatchClock(len(to_go), task=None if args.task == "auto" else args.task, fullres=args.fullres)
        ahead = LookAhead(to_go, clock, detect=args.task == "auto", restore_clean=args.restore_clean)
        position = {path: k for k, path in enumerate(to_go)}
        bar = ProgressBar(len(files), clock=clock)
        for i, (path, (out, renamed)) in enumerate(zip(files, outputs, strict=True), 1):
            self.cancel.check()
            bar.photo(i, path.name)
            if self.restored_before(path, out):
                self._kept(path, out, bar)
                continue
            k = position.get(path)
            res = self._restore(path, out, bar, clock, ahead, k)
            if res is None:  # failed (said)
                if self._stops_the_rest(files, outputs, i, bar):
                    break
                continue
            self._report(path, res, renamed, bar)

    def _kept(self, path: Path, out: Path, bar: ProgressBar) -> None:
        self.tally.outcome[path] = "kept"
        bar.done(f"kept   {path}: {out} already exists")
        stale = _made_from_another_version(path, out)
        if stale:
            bar.done(f"       note: {stale}")
        self.record(path, "kept", output=str(out), **({"notes": [stale]} if stale else {}))

    def _restore(self, path: Path, out: Path, bar: ProgressBar, clock: BatchClock, ahead: LookAhead,
                 k: int | None):
        """Restore one photo: its result, or None when it failed (said, and counted)."""
        from engine.api import restore_file
        from engine.errors import Cancelled, HourglassError, OutputNotWritableError

        detection = ahead.detection(k, self.cancel) if k is not None else None
        self.unwritable = None
        try:
            with clock.photo() as attempt:
                res = restore_file(path, out, self.model, self.options, on_progress=bar.update, cancel=self.cancel,
                                   detection=detection, on_detect=ahead.detected(k))
                if res.skipped:
                    attempt.skipped()
                else:
                    attempt.restored(res.task, res.width, res.height, res.fullres)
            return res
        except Cancelled:
            raise
        except HourglassError as exc:
            bar.done(f"FAILED {self.tally.fail(path, f'{exc}{_companion_hint(path, exc, self.args.pairs)}')}")
            self.record(path, "failed", error=str(exc), code=exc.code)
            self.unwritable = out.parent if isinstance(exc, OutputNotWritableError) else None
        except Exception as exc:  # noqa: BLE001 - logged by unexpected; one photo's bug must not end the batch
            message = unexpected(exc, "restoring", path)
            bar.done(f"FAILED {self.tally.fail(path, message)}")
            self.record(path, "failed", error=message, code="internal")
        return None

    def _stops_the_rest(self, files: list[Path], outputs: list[tuple[Path, str]], i: int, bar: ProgressBar) -> bool:
        """After photo `i` could not be saved: a full disk or a read-only folder fails the next photos saved
        in that folder too, so the run stops there (said, and the rest counted as not attempted)."""
        folder = self.unwritable
        if folder is None or i >= len(files) or outputs[i][0].parent != folder:
            return False
        self.tally.stopped += len(files) - i
        bar.done(f"Stopped: the next photos would be saved in {folder} too. Free some space or choose another "
                 "folder with -o, then run the same command again (finished photos are kept).")
        for rest in files[i:]:
            self.record(rest, "not_attempted")
        return True

    def _report(self, path: Path, res, renamed: str, bar: ProgressBar) -> None:
        """The line (and JSON line) of a photo restored or left as it is, counted in the tally."""
        detected = {"confidence": res.confidence, "scores": res.scores} if res.confidence is not None else {}
        if res.skipped and res.already_restored:
            self.tally.outcome[path] = "result"
            bar.done(f"skip   {path}: a result Hourglass saved, not restored again (--task TASK or "
                     f"--restore-clean restores it): {res.already_restored}")
            self.record(path, "skipped", task=res.task, already_restored=res.already_restored)
        elif res.skipped:
            self.tally.outcome[path] = "clean"
            guess = next_guess(res)
            hint = f"--task {guess} restores it as {guess}" if guess else "--restore-clean restores it"
            bar.done(f"skip   {path}: already fine ({detected_text(res) or 'task none'}); not restored ({hint})")
            self.record(path, "skipped", task=res.task, **detected)
        else:
            self.tally.outcome[path] = "restored"
            path_taken = "fast full-res" if res.fullres == "fast" else ""
            detail = ", ".join(x for x in (detected_text(res), path_taken, f"{res.timings['total']:.1f} s") if x)
            bar.done(f"ok     {path} -> {res.output_path} ({detail})")
            if renamed:
                bar.done(f"       note: {renamed}")
            for message in res.warnings:  # the GUI shows these as notices; here they follow the photo's line
                bar.done(f"       note: {message}")
            self.record(path, "restored", output=res.output_path, task=res.task, **detected, fullres=res.fullres,
                        seconds=round(res.timings["total"], 3),
                        notes=[*([renamed] if renamed else []), *res.warnings])


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


def _companion_hint(path: Path, exc: Exception, pairs: str) -> str:
    """For a RAW that cannot be read whose camera JPEG was passed over (--pairs raw): where that JPEG is."""
    from engine.filetypes import passed_over_companion

    jpeg = passed_over_companion(path, pairs, getattr(exc, "code", None))
    return f" (its camera JPEG {jpeg.name} was passed over: --pairs jpeg restores that one)" if jpeg else ""


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


def next_guess(res) -> str | None:
    """The detector's second answer when it was unsure of the first (scored below `UNSURE`), else None."""
    from engine.protocol import UNSURE, runner_up

    if res.confidence is None or res.confidence >= UNSURE:
        return None
    second = runner_up(res.task, res.scores)
    return second[0] if second else None


def detected_text(res) -> str:
    """"detected haze 91%" for a task the detector chose ("detected none 45%, unsure; next: rain 40%" below
    `UNSURE`), "" for one the user chose."""
    if res.confidence is None:
        return ""
    guess = next_guess(res)
    unsure = f", unsure; next: {guess} {res.scores[guess]:.0%}" if guess else ""
    return f"detected {res.task} {res.confidence:.0%}{unsure}"
