"""`hourglass` command line: one module per command (`restore`, `detect`, `copies` for `hourglass copy`,
`models` with `convert`, `info`), each with its `add_parser` and its `cmd_*`; and `engine`, the worker
process. The modules import torch only inside the commands that need it: the window's launcher reaches
`main` before Qt is loaded.

Exit codes: 0 all photos restored (or found already fine), 1 some photo failed, 2 bad usage or no model,
130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys

from engine.cli.report import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    from engine import __version__
    from engine.cli import copies, detect, info, models, restore

    parser = argparse.ArgumentParser(prog="hourglass", description="Restore photos with DiffUIR diffusion models.",
                                     epilog="Without a command, `hourglass [PHOTO_OR_FOLDER...]` opens the window.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    parser.add_argument("--version", action="version", version=f"hourglass {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in (restore, detect, copies, models, info):
        command.add_parser(sub)
    sub.add_parser("engine", help="run the engine worker (JSON lines on stdin/stdout; used by the GUI)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    if args.command == "engine":
        from engine.worker import main as worker_main

        return worker_main()
    import faulthandler

    if not faulthandler.is_enabled():  # (a caller's own, as pytest's, stays)
        try:  # a crash in torch or a library says where, for a bug report
            faulthandler.enable(all_threads=True)
        except (AttributeError, OSError):  # (a stderr with no file behind it: io.UnsupportedOperation)
            pass
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
