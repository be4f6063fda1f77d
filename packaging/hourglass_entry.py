"""PyInstaller entry point of the frozen Hourglass: one executable that is the GUI, the CLI and the engine.

`app.launcher.main` chooses before anything heavy is imported: no arguments, `gui` or photo paths open the
window (Qt, never torch); `engine`, `restore`, `detect`, `models`, `info`, `convert` and `copy` go to `engine.cli` (torch,
never Qt). The GUI starts its engine as `sys.executable engine` (`app/client/launcher.py`).
"""

import os
import sys


def _restore_library_path() -> None:
    """The bootloader points LD_LIBRARY_PATH at the bundle; give system tools we start (xdg-open, a file
    manager) the user's own value back. This process's loader already read it; our engine child is started
    through the bootloader again, which sets it afresh."""
    if not (getattr(sys, "frozen", False) and sys.platform.startswith("linux")):
        return
    orig = os.environ.pop("LD_LIBRARY_PATH_ORIG", None)
    if orig:
        os.environ["LD_LIBRARY_PATH"] = orig
    else:
        os.environ.pop("LD_LIBRARY_PATH", None)


if __name__ == "__main__":
    import multiprocessing

    multiprocessing.freeze_support()  # in case anything (torch) ever spawns workers from the frozen app
    _restore_library_path()
    sys.dont_write_bytecode = True  # never a __pycache__ inside the installation folder

    from app.launcher import main

    sys.exit(main())
