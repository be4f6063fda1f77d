"""The one program's entry point: `hourglass` (no arguments) or `hourglass gui` opens the window; every
other subcommand (`restore`, `detect`, `models`, `info`, `convert`, `copy`, `engine`) goes to the engine's command
line before Qt is imported, so a frozen build is a single executable that is also its own engine.
"""

from __future__ import annotations

import sys

CLI_COMMANDS = frozenset({"restore", "detect", "models", "info", "convert", "copy", "engine"})
GUI_COMMAND = "gui"


def wants_gui(argv: list[str]) -> bool:
    """True for no arguments, `gui …`, or only GUI options (`--data-dir …`, `--log-level …`, files)."""
    if not argv:
        return True
    first = argv[0]
    if first == GUI_COMMAND:
        return True
    # anything else is photos or folders to open in the window, or GUI options
    return not (first in CLI_COMMANDS or first in ("-h", "--help", "-v", "--verbose", "--version"))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not wants_gui(argv):
        # The command-line side; only this branch loads the engine's CLI (the GUI never does).
        from engine.cli import main as cli_main  # the one sanctioned app → engine import (see tests)

        if any(a == "--preset" or a.startswith("--preset=") for a in argv):  # the app's presets, as options
            from app.cli_presets import expand

            argv = expand(argv)
        return int(cli_main(argv) or 0)
    from app.main import run_gui

    return run_gui(argv[1:] if argv and argv[0] == GUI_COMMAND else argv)


if __name__ == "__main__":
    sys.exit(main())
