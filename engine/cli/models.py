"""`hourglass models` (list, import, remove) and `hourglass convert`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from engine.cli.report import EXIT_FAILED, EXIT_OK, unexpected


def add_parser(sub) -> None:
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
    models.set_defaults(run=cmd_models)
    conv = sub.add_parser("convert", help="write any accepted checkpoint as a slim safetensors file")
    conv.add_argument("src")
    conv.add_argument("dst")
    conv.add_argument("--raw", action="store_true", help="use the raw (non-EMA) weights of a training checkpoint")
    conv.set_defaults(run=cmd_convert)


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
            print(f"hourglass: {unexpected(exc, 'importing', Path(args.file))}", file=sys.stderr)
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
