"""`python -m engine.cli …`: the command line without the app's launcher (no `--preset`: the launcher
expands presets, which the app keeps)."""

import os
import sys

from engine.cli import main

os.environ.setdefault("PYTHONUNBUFFERED", "1")
sys.exit(main())
