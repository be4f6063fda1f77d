"""`hourglass detect`: each photo's degradation as the detector sees it; nothing is written."""

from __future__ import annotations

import json
import sys

from engine.cli.inputs import inputs_or_complain
from engine.cli.report import EXIT_FAILED, EXIT_OK, EXIT_USAGE, unexpected


def add_parser(sub) -> None:
    p = sub.add_parser("detect", help="detect each photo's degradation (nothing is written)")
    p.add_argument("inputs", nargs="+", metavar="IN", help="photos or folders (searched recursively)")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per photo and line: path, task, confidence, scores")
    p.set_defaults(run=cmd_detect)


def format_detection(path, d) -> str:
    others = ", ".join(f"{c} {v:.0%}" for c, v in d.ranked()[1:3])
    bw = "; black and white" if d.black_and_white else ""
    return f"{d.task:9s} {d.confidence:4.0%}  {path}  ({others}{bw})"


def cmd_detect(args) -> int:
    from engine.detection import default_detector
    from engine.errors import HourglassError, ModelInvalidError, ModelNotFoundError
    from engine.imaging import read_made_by

    files, problems = inputs_or_complain(args.inputs, "no photos to look at")
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
        except Exception as exc:  # noqa: BLE001 - an unexpected one is logged by unexpected, as in restore
            failed += 1
            known = isinstance(exc, HourglassError)
            message = str(exc) if known else unexpected(exc, "detecting", path)
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
