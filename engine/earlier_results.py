"""A photo's results from earlier runs, found by what they record (`imaging.provenance`).

Where a photo's result would be saved (`planned`), and beside it as `name (1).ext`, `name (2).ext`… (a
retry, a save at another strength), the files that record this photo: its name and the SHA-256 of its
file, so another camera's IMG_0001.JPG, or the photo before it was edited, never counts. The app shows a
photo added again as restored, with its newest result, instead of restoring it again for minutes; the
CLI's --again finds the one it saved before.
"""

from __future__ import annotations

import glob
import logging
import re
from pathlib import Path

from engine.imaging import photo_digest, read_provenance, recorded_strength

log = logging.getLogger(__name__)


def earlier_results(planned: Path, photo: Path) -> list[tuple[Path, dict[str, str]]]:
    """(result, its record) for each of `photo`'s results at `planned` or numbered beside it, oldest first."""
    numbered = re.compile(re.escape(planned.stem) + r" \(\d+\)" + re.escape(planned.suffix) + "$")
    try:
        siblings = [p for p in planned.parent.glob(f"{glob.escape(planned.stem)} (*){glob.escape(planned.suffix)}")
                    if numbered.match(p.name)]
    except OSError as e:  # the folder is gone or cannot be listed: nothing found
        log.info("%s: earlier results not looked for (%s)", planned.parent, e)
        return []
    digest, found = None, []
    for candidate in [planned, *siblings]:
        record = read_provenance(candidate)  # {} for a missing file, or one Hourglass did not save
        if record.get("Photo") != photo.name or recorded_strength(record) is None:
            continue
        try:
            digest = digest or photo_digest(photo)
            mtime = candidate.stat().st_mtime
        except OSError:  # the photo or the result went away meanwhile
            continue
        if record.get("PhotoSHA256") == digest:
            found.append((mtime, candidate, record))
    return [(path, record) for _, path, record in sorted(found, key=lambda f: f[0])]
