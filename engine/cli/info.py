"""`hourglass info`: devices and versions, or how restored photos were made and where they say they were
taken."""

from __future__ import annotations

import json
from pathlib import Path

from engine.cli.inputs import exists, inputs_or_complain
from engine.cli.report import EXIT_FAILED, EXIT_OK


def add_parser(sub) -> None:
    info = sub.add_parser("info", help="devices and versions, or how restored photos were made")
    info.add_argument("results", nargs="*", metavar="RESULT",
                      help="restored photos or folders of them: print how each was made, as it records (task, "
                           "model, strength…), and where it says it was taken")
    info.add_argument("--json", action="store_true",
                      help="print JSON: one object, or one line per RESULT with what it records, its history and "
                           "location")
    info.set_defaults(run=cmd_info)


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
    from engine.imaging import read_result_notes

    files, problems = inputs_or_complain(paths, "no photos to look at")  # (a folder of results: each of them)
    missing = len(problems)
    for raw in map(str, files):
        record, history, location = read_result_notes(raw)  # (the file opened once for the three)
        missing += not record
        if as_json:
            print(json.dumps({"path": raw, "recorded": record, "history": list(history), "location": location}))
            continue
        if not record:
            why = "no such file" if not exists(Path(raw)) else "it records nothing: not saved by Hourglass, or a BMP"
            print(f"{raw}: {why}")
        else:
            print(f"{raw}:")
            for key, value in record.items():
                print(f"  {key:15s} {value}")
            for event in history:
                print(f"  {event.get('when', ''):25s} {event.get('parameters', '')}")
        if exists(Path(raw)):
            print(f"  {'Location':15s} {_location_text(location)}")
    return EXIT_FAILED if missing else EXIT_OK


def _location_text(location: dict | None) -> str:
    if location is None:
        return "none (no GPS coordinates)"
    where = "coordinates" if location["latitude"] is None else (
        f"{abs(location['latitude']):.5f}° {'S' if location['latitude'] < 0 else 'N'}, "
        f"{abs(location['longitude']):.5f}° {'W' if location['longitude'] < 0 else 'E'}")
    return f"{where} (GPS in its {' and '.join(location['in'])}; --no-location leaves them out)"
