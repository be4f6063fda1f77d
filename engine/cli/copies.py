"""`hourglass copy RESULT...`: copies of restored photos in another form (format, name, folder, colour space,
metadata), made from the results, without restoring: an archive restored once as 16-bit TIFFs gives its
web JPEGs in seconds (the app's *Save a copy with*). Each result's record (`engine.imaging.provenance`)
names its photo, which the copy is blended over and takes its metadata from: it is looked for where
Hourglass saves results (the folder above a `restored` folder, or beside the result), or in `--photos`."""

from __future__ import annotations

import sys
from pathlib import Path

from engine.cli.inputs import exists, inputs_or_complain
from engine.cli.options import (
    FORMATS,
    add_preset_option,
    jpeg_quality,
    output_format,
    percent,
    preset_not_expanded,
)
from engine.cli.report import EXIT_USAGE, ProgressBar, end_of_run, json_line, unexpected
from engine.filetypes import clean_suffix
from engine.wording import count


def add_parser(sub) -> None:
    p = sub.add_parser("copy", help="save copies of restored photos in another format, name, folder or colour "
                                    "space, from the results (no restoring)")
    p.add_argument("results", nargs="+", metavar="RESULT", help="restored photos, or folders of them")
    p.add_argument("-o", "--output", metavar="OUTDIR", help="folder for the copies (default: beside each result)")
    p.add_argument("--photos", metavar="DIR", help="where the photos are, if not where Hourglass put the results "
                                                   "(the folder above 'restored', or the result's own)")
    p.add_argument("--format", choices=FORMATS, default="same",
                   help="the copies' format (default: as a restore saves: the photo's own); 'tiff16': 16 bits")
    p.add_argument("--suffix", default="", metavar="TEXT", help="added to each copy's name (photo_web.jpg)")
    p.add_argument("--strength", type=percent, metavar="PERCENT",
                   help="the copy's strength, at most the result's (default: the result's)")
    p.add_argument("--jpeg-quality", type=jpeg_quality, default=95, metavar="1-100",
                   help="compression quality of JPEG, WebP and AVIF copies; default 95")
    p.add_argument("--srgb", action="store_true", help="save the copies in sRGB, for the web")
    p.add_argument("--no-location", action="store_true", help="leave the photos' GPS coordinates out of the copies")
    p.add_argument("--no-record", action="store_true", help="do not record in the copies how they were made")
    p.add_argument("--overwrite", action="store_true", help="replace existing copies")
    p.add_argument("--json", action="store_true", help="one JSON line per result (path, status, output or error)")
    add_preset_option(p)
    p.set_defaults(run=cmd_copy)


def find_photo(result: Path, record: dict[str, str], photos: Path | None) -> Path | None:
    """The photo `result` records (its file name, and its SHA-256 where recorded) in `photos`, the folder above
    the result's, or the result's own; None if none of them holds that very photo."""
    from engine.imaging import photo_digest

    name = record.get("Photo", "")
    if not name or Path(name).name != name:
        return None
    folders = [photos] if photos is not None else [result.parent.parent, result.parent]
    for folder in folders:
        candidate = folder / name
        if candidate.is_file() and candidate != result:
            try:
                if record.get("PhotoSHA256", "") in ("", photo_digest(candidate)):
                    return candidate
            except OSError:
                continue
    return None


def _results_only(files: list[Path], named: set[Path]) -> list[Path]:
    """`files` less, of those found in folders, the ones that are no result to copy: files that record
    nothing (a folder may hold other images) and copies made before (a copy is not copied again), with a
    note; files named on the command line are all kept (each then says what is wrong with it)."""
    from engine.imaging import read_history, read_provenance

    kept, unrecorded, copies = [], 0, 0
    for path in files:
        if path not in named and not read_provenance(path):
            unrecorded += 1
        elif path not in named and any(" as a copy of " in e.get("parameters", "") for e in read_history(path)[-1:]):
            copies += 1
        else:
            kept.append(path)
    if unrecorded or copies:
        what = [f"{unrecorded} that record nothing"] * bool(unrecorded) + [f"{copies} copies"] * bool(copies)
        print(f"hourglass: note: passed over {' and '.join(what)} in the folders", file=sys.stderr)
    return kept


def cmd_copy(args) -> int:
    from engine.api import output_path_for
    from engine.errors import HourglassError
    from engine.imaging import read_provenance, recorded_strength, same_file
    from engine.reblend import reblend_file

    if clean_suffix(args.suffix) != args.suffix:
        print("hourglass: --suffix is added to file names: it cannot hold / \\ < > : \" | ? * or control "
              "characters, or be only dots", file=sys.stderr)
        return EXIT_USAGE
    files, problems = inputs_or_complain(args.results, "no restored photos to copy", result_suffix=args.suffix)
    files = _results_only(files, {Path(p) for p in args.results})
    if not files:
        print("hourglass: no restored photos to copy", file=sys.stderr)
        return EXIT_USAGE
    if args.preset is not None:
        return preset_not_expanded()
    fmt, bit_depth = output_format(args.format)
    photos = Path(args.photos) if args.photos else None
    bar = ProgressBar(len(files))
    done, kept, failed = 0, 0, []

    def tell(result: Path, status: str, line: str, **fields) -> None:
        bar.done(line)
        json_line(args.json, result, status, **fields)

    def fail(result: Path, why: str, **fields) -> None:
        failed.append(f"{result}: {why}")
        tell(result, "failed", f"FAILED {failed[-1]}", **{"error": why, **fields})

    for i, result in enumerate(files, 1):
        bar.photo(i, result.name)
        record = read_provenance(result)
        saved = recorded_strength(record)
        photo = find_photo(result, record, photos) if saved is not None else None
        why = ("it records nothing of how it was made (not saved by Hourglass, or with --no-record)" if saved is None
               else f"its photo {record.get('Photo', '?')} is not where Hourglass saved the result from, or has "
                    "changed since (--photos DIR says where it is)" if photo is None else "")
        strength = saved if args.strength is None or saved is None else args.strength / 100
        if not why and strength > saved + 1e-6:
            why = f"it was saved at {saved:.0%} strength, which holds too little of the restoration for {strength:.0%}"
        if why:
            fail(result, why)
            continue
        out = output_path_for(photo, Path(args.output) if args.output else result.parent, fmt, args.suffix)
        if exists(out) and same_file(out, result):
            fail(result, f"the copy would be {result.name} itself: give --suffix, --format or -o")
            continue
        if exists(out) and not args.overwrite:
            kept += 1
            tell(result, "kept", f"kept   {out} (--overwrite replaces it)", output=str(out))
            continue
        try:
            res = reblend_file(photo, result, out, saved, strength, task=record.get("Task", "auto"),
                               jpeg_quality=args.jpeg_quality, overwrite=args.overwrite,
                               remove_location=args.no_location, record=not args.no_record, copy=True, format=fmt,
                               bit_depth=bit_depth, srgb=args.srgb)
        except HourglassError as exc:
            fail(result, str(exc), code=exc.code)
            continue
        except Exception as exc:  # noqa: BLE001 - logged by unexpected; one photo's bug must not end the run
            why = unexpected(exc, "copying", result)
            fail(result, why, error=f"{result}: {why}", code="internal")
            continue
        done += 1
        tell(result, "copied", f"ok     {result} -> {res.output_path} ({strength:.0%}, {res.timings['total']:.1f} s)",
             output=res.output_path, photo=str(photo), strength=strength)
    return end_of_run(f"Copied {done} of {count(len(files), 'result')}", [f"{kept} copied before" if kept else ""],
                      failed, problems)
