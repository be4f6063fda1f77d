"""The model manager's back end: list models and import official checkpoints through the engine's
validator, by running the `hourglass models` command as an asyncio subprocess (never torch in the GUI).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from app.client.launcher import engine_env
from app.tasks import TaskSet

log = logging.getLogger("app.models")

TIMEOUT_S = 300.0


@dataclass(frozen=True)
class ModelRow:
    name: str
    path: str
    origin: str  # bundled | user | path
    size_bytes: int
    variant: str | None
    default: bool = False
    notes: tuple[tuple[str, str], ...] = ()  # (task, measured limit of the weights on it)

    def is_active(self, setting: str) -> bool:
        """Whether `Settings.model` (a name, or "default" for the bundled default) chooses this model."""
        return self.name == setting or (setting == "default" and self.default)

    @property
    def source(self) -> str:
        return {"bundled": "Bundled", "user": "Imported", "path": "File"}.get(self.origin, self.origin)


def cli_command(*args: str) -> list[str]:
    """The `hourglass …` command of this installation (frozen: the app itself dispatches subcommands)."""
    if getattr(sys, "frozen", False):
        return [sys.executable, *args]
    return [sys.executable, "-m", "engine.cli", *args]


def rows_from_json(data: list[dict]) -> list[ModelRow]:
    return [ModelRow(d["name"], d["path"], d.get("origin", "user"), int(d.get("size_bytes", 0)),
                     d.get("variant"), bool(d.get("default")), tuple((d.get("notes") or {}).items()))
            for d in data]


def error_text(stderr: str, stdout: str = "") -> str:
    """The CLI's own message (`hourglass: …` lines), else the last output lines."""
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    mine = [ln.removeprefix("hourglass: ") for ln in lines if ln.startswith("hourglass: ")]
    if mine:
        return "\n".join(mine)
    tail = lines[-3:] or [ln for ln in stdout.splitlines() if ln.strip()][-3:]
    return "\n".join(tail) or "The import failed without a message."


class ModelService(QObject):
    models_listed = Signal(list)  # list[ModelRow]
    list_failed = Signal(str)
    import_finished = Signal(bool, str, str)  # ok, message, details
    model_imported = Signal(str)  # the imported model's name (before the list is refreshed)
    remove_finished = Signal(bool, str, str)  # ok, message, the model's name
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks = TaskSet("models")
        self._busy = 0

    def refresh(self) -> None:
        self.tasks.spawn(self._list())

    def import_file(self, path: str, name: str | None = None) -> None:
        self.tasks.spawn(self._import(path, name))

    def remove(self, name: str) -> None:
        self.tasks.spawn(self._remove(name))

    async def _run(self, *args: str) -> tuple[int, str, str]:
        self._busy += 1
        self.busy_changed.emit(True)
        try:
            proc = await asyncio.create_subprocess_exec(
                *cli_command(*args), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                stdin=asyncio.subprocess.DEVNULL, env=engine_env())
            try:
                out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT_S)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                proc.kill()
                await proc.wait()
                raise
            return proc.returncode or 0, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
        finally:
            self._busy -= 1
            self.busy_changed.emit(self._busy > 0)

    async def _list(self) -> None:
        try:
            rc, out, err = await self._run("models", "--json")
            if rc != 0:
                raise RuntimeError(error_text(err, out))
            rows = rows_from_json(json.loads(out))
        except (OSError, ValueError, KeyError, RuntimeError, asyncio.TimeoutError) as exc:
            self.list_failed.emit(f"Could not list the models: {exc}")
            return
        self.models_listed.emit(rows)

    async def _remove(self, name: str) -> None:
        try:
            rc, out, err = await self._run("models", "remove", name)
        except (OSError, asyncio.TimeoutError) as exc:
            self.remove_finished.emit(False, f"The model could not be removed: {exc}", name)
            return
        self.remove_finished.emit(rc == 0, out.strip() if rc == 0 else error_text(err, out), name)
        await self._list()

    async def _import(self, path: str, name: str | None) -> None:
        args = ["models", "--json", "import", path]
        if name:
            args += ["--name", name]
        try:
            rc, out, err = await self._run(*args)
        except (OSError, asyncio.TimeoutError) as exc:
            self.import_finished.emit(False, f"The import could not run: {exc}", "")
            return
        if rc == 0:
            try:
                found = json.loads(out)
                row = rows_from_json([found])[0]
            except (ValueError, KeyError, TypeError, AttributeError):
                self.import_finished.emit(True, out.strip() or "Imported.", "")
            else:
                self.import_finished.emit(True, f"{found.get('message') or f'Imported {row.name}'}.", "")
                self.model_imported.emit(row.name)
            await self._list()
        else:
            self.import_finished.emit(False, error_text(err, out), err.strip())
