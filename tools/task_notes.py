"""Read or set a model file's task notes: the measured limits users are told about when these weights
restore a task (`engine.models.task_notes`; shown as a warning with each such photo, in the CLI as a
`note:` line and in the app beside the result).

    .venv/bin/python tools/task_notes.py MODEL                       # print them
    .venv/bin/python tools/task_notes.py MODEL --task blur --note "…"  # set one
    .venv/bin/python tools/task_notes.py MODEL --task blur --clear     # remove one

A note must say what was measured (figures and where they come from: the model card). The tensors are
kept byte for byte; a new export of the weights starts without notes, to be measured again.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.checkpoints import read_metadata, update_metadata
from engine.models import task_notes
from engine.preprocess import TASKS

RESTORE_TASKS = [t for t in TASKS if t not in ("auto", "none")]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", type=Path, help="a .safetensors model file")
    ap.add_argument("--task", choices=RESTORE_TASKS)
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--note", help="the sentence users see with every photo restored for --task")
    group.add_argument("--clear", action="store_true", help="remove --task's note")
    args = ap.parse_args(argv)
    if (args.note is not None or args.clear) != (args.task is not None):
        ap.error("--task goes with --note or --clear")
    notes = task_notes(read_metadata(args.model))
    if args.task:
        if args.clear:
            notes.pop(args.task, None)
        else:
            notes[args.task] = args.note.strip()
        update_metadata(args.model, {"task_notes": json.dumps(notes, ensure_ascii=False) if notes else None})
    for task, note in task_notes(read_metadata(args.model)).items():
        print(f"{task}: {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
