"""`python -m app`: the same as the `hourglass` command."""

from __future__ import annotations

import sys

from app.launcher import main

if __name__ == "__main__":
    sys.exit(main())
