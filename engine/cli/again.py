"""`hourglass restore --again`: results saved again at a lower strength, from the results (no network)."""

from __future__ import annotations

from pathlib import Path

from engine.cli.inputs import exists
from engine.cli.report import ProgressBar, end_of_run, json_line, unexpected
from engine.wording import count

SAME_STRENGTH = 0.005  # strengths closer than this (half a percent) are the same


def save_again(args, files: list[Path], outputs: list[tuple[Path, str]], problems: list[str]) -> int:
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
        if not exists(out):
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
            res = reblend_file(path, out, numbered_name(out, exists), saved, strength,
                               task=record.get("Task", "auto"), jpeg_quality=args.jpeg_quality,
                               remove_location=args.no_location, record=not args.no_record)
        except HourglassError as exc:
            fail(path, str(exc), exc.code)
            continue
        except Exception as exc:  # noqa: BLE001 - logged by unexpected; one photo's bug must not end the batch
            fail(path, unexpected(exc, "saving again", path), "internal")
            continue
        done += 1
        bar.done(f"ok     {path} -> {res.output_path} (from {out.name}, {saved:.0%} → {strength:.0%}, "
                 f"{res.timings['total']:.1f} s)")
        json_line(args.json, path, "saved_again", output=res.output_path, **{"from": str(out)}, strength=strength,
                  from_strength=saved)
    return end_of_run(f"Saved {done} of {count(len(files), 'result')} again at {strength:.0%} strength",
                      [f"{kept} saved at it before" if kept else ""], failed, problems)




def _saved_again_at(result: Path, photo: Path, strength: float) -> Path | None:
    """The `result (n).ext` beside `result` that records `photo` saved at `strength`, if one is there."""
    from engine.earlier_results import earlier_results
    from engine.imaging import recorded_strength

    for path, record in earlier_results(result, photo):
        if path != result and abs(recorded_strength(record) - strength) < SAME_STRENGTH:
            return path
    return None
