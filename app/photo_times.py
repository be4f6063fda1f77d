"""How long photos took on this computer, remembered between runs, so that the queue and the status bar say
how long a batch will take before Start is pressed: on a CPU, 300 photos can take hours, which is worth
knowing before starting (tonight or now?). Before, nothing was estimated until the first photo of a run had
been restoring for a while.

Times are kept per way of restoring that changes them (model, quality, device, engine threads), the latest
`KEEP` of each; a run's own photos replace them in the estimates as soon as one is restored (this run's
load on the machine is the better guide). Kept in `photo_times.json` in the data folder; an unreadable file
is set aside and the times start again."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from app.paths import data_dir, keep_aside, write_atomic
from app.settings import Settings
from engine.batch_time import Restored

log = logging.getLogger("app.photo_times")

KEEP = 40  # photos remembered per way of restoring: enough to fit the rates, few enough to follow changes
MAX_WAYS = 20  # ways of restoring remembered (a model tried once is forgotten first)


def default_path() -> Path:
    return data_dir() / "photo_times.json"


def way(settings: Settings, cuda: bool | None = None) -> str:
    """The settings that change how long a photo takes (the photo's size and degradation aside). `cuda`:
    whether the engine found a CUDA GPU (its handshake), which decides what the device "auto" is: a laptop
    whose GPU driver failed one day must not take its CPU times for the GPU's."""
    device = settings.device
    if device == "auto" and cuda is not None:
        device = "cuda" if cuda else "cpu"
    return f"{settings.model}|{settings.quality}|{device}|{settings.threads or 'auto'}"


class PhotoTimes:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self._ways: dict[str, list[Restored]] = self._load()

    def _load(self) -> dict[str, list[Restored]]:
        try:
            raw = json.loads(self.path.read_text("utf-8"))
            return {str(k): [_restored(r) for r in v][-KEEP:] for k, v in raw["ways"].items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("the remembered photo times could not be read (%s); starting again", exc)
            if self.path.is_file():
                keep_aside(self.path)
            return {}

    def of(self, settings: Settings, cuda: bool | None = None) -> list[Restored]:
        """The photos last restored with these settings (oldest first; empty when none)."""
        return self.of_way(way(settings, cuda))

    def of_way(self, key: str) -> list[Restored]:
        return list(self._ways.get(key, []))

    def add(self, key: str, restored: Restored) -> None:
        """A photo just restored the `key` way (`way(settings)` when it was submitted); saved at once."""
        times = self._ways.pop(key, [])  # (re-inserted last: the way used longest ago goes first)
        self._ways[key] = [*times, restored][-KEEP:]
        for old in list(self._ways)[:-MAX_WAYS]:
            del self._ways[old]
        data = {"version": 1, "ways": {k: [[r.task, round(r.seconds, 3), list(r.work) if r.work else None]
                                           for r in v] for k, v in self._ways.items()}}
        try:
            write_atomic(self.path, json.dumps(data, separators=(",", ":")).encode("utf-8"))
        except OSError as exc:  # (only estimates: never worth an error dialog)
            log.warning("the photo times could not be saved: %s", exc)


def _restored(entry: list) -> Restored:
    task, seconds, work = entry
    if not isinstance(task, str) or not float(seconds) >= 0:
        raise ValueError(f"not a photo time: {entry!r}")
    return Restored(task, float(seconds), (float(work[0]), float(work[1])) if work else None)
