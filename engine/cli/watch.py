"""`hourglass restore --watch`: the photos that arrive in the watched folders once the first run is done."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from engine.cli.inputs import collect_inputs
from engine.filetypes import file_stamp, settled

WATCH_INTERVAL_S = 2.0


def watch_arrivals(args, taken: list[Path], cancel, interval: float | None = None):
    """--watch: after the first run (`taken`), the photos that arrive in the input folders, in batches, once
    each is whole (its size and modification time unchanged between two looks, `interval` apart). A photo
    taken before that is written again (an editor's export under the same name, a copy read half-way and
    finished since) comes again: restored if it has no result yet, else kept with a note that its result
    is of another version (`--overwrite` restores it again). Ends, quietly, on Ctrl+C while it waits (a
    Ctrl+C during a restore interrupts that restore, as without --watch)."""
    if interval is None:
        interval = float(os.environ.get("HOURGLASS_WATCH_INTERVAL_S", WATCH_INTERVAL_S))  # (tests look faster)
    folders = [p for p in args.inputs if Path(p).is_dir()]
    print(f"Watching {', '.join(folders)} for new photos (Ctrl+C stops)", file=sys.stderr, flush=True)
    known = {f: file_stamp(f) for f in taken}  # (the stamp each had when it was taken)
    growing: dict[Path, list[int] | None] = {}
    while True:
        try:
            deadline = time.monotonic() + interval
            while time.monotonic() < deadline and not cancel.cancelled:  # (short sleeps: the token is seen)
                time.sleep(min(0.1, interval))
        except KeyboardInterrupt:
            pass
        if cancel.cancelled:
            print("Stopped watching", file=sys.stderr)
            return
        found = collect_inputs(folders, args.output, args.suffix, args.pairs)[0]
        stamps = {f: file_stamp(f) for f in found}
        whole, growing = settled({f: s for f, s in stamps.items() if f not in known or s not in (None, known[f])},
                                 growing)
        if whole:
            known.update({f: stamps[f] for f in whole})
            yield whole
