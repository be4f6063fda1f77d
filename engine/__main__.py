"""`python -m engine`: run the engine worker (JSON lines on stdin/stdout, logs on stderr)."""

from __future__ import annotations

import sys

from engine.worker import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
