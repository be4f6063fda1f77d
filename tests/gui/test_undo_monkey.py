"""The undo history under a random review session: removals, trashes, degradations, Back to, Save at N%,
sorting, Restore next, retries and batches, mixed with Ctrl+Z and Redo in any order. Whatever the order, no
result file is ever lost (each is in its folder or in the trash), a restored row's result is on disk, and the
list holds each photo once. Seeded; `HOURGLASS_MONKEY_SEEDS=1-20` runs more sessions."""
import os
import random
from pathlib import Path

import pytest
from gui_helpers import make_photo

from app.qt_queue import SORTABLE
from app.queue_model import ItemState

TIMEOUT = 5000

TASKS = ("low-light", "haze", "rain", "snow", "blur", "auto")


def seeds() -> list[int]:
    spec = os.environ.get("HOURGLASS_MONKEY_SEEDS", "1-3")
    first, _, last = spec.partition("-")
    return list(range(int(first), int(last or first) + 1))


@pytest.mark.parametrize("seed", seeds())
def test_no_order_of_changes_and_undos_loses_a_result(make_window, qtbot, fake_engine, tmp_path, monkeypatch, seed):
    trash = tmp_path / "xdg"
    trash.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_DATA_HOME", str(trash))
    rng = random.Random(seed)
    photos = [make_photo(tmp_path / "shoot" / f"p{k}.jpg", colour=(30 * k, 40, 50)) for k in range(4)]
    made: set[str] = set()  # every result file the session made (by the engine or Save at N%)
    window = make_window()
    window.add_paths([str(p) for p in photos])
    qtbot.waitUntil(lambda: len(window.queue) == 4, timeout=TIMEOUT)

    def settle() -> None:
        qtbot.waitUntil(lambda: not window.runner.running and not any(
            window.panel.resave.busy(i.id) for i in window.queue), timeout=TIMEOUT)
        for item in window.queue:
            made.update(p for p in (item.output_path, *(e[0] for e in item.previous)) if p and Path(p).is_file())

    def select_some() -> None:
        window.table.clearSelection()
        rows = rng.sample(range(len(window.queue)), rng.randint(1, len(window.queue))) if len(window.queue) else []
        flags = window.table.selectionModel().SelectionFlag
        for row in rows:
            window.table.selectionModel().select(window.model.index(row, 0), flags.Select | flags.Rows)

    def start() -> None:
        window.runner.start()

    def retry() -> None:
        select_some()
        window.retry_selected()

    def save_again() -> None:
        select_some()
        window.panel.strength.setValue(rng.choice((40, 60, 80)))
        window.panel.save_again(window.selected_items())

    def back_to() -> None:
        select_some()
        window.queue_menu.back_to_earlier([i for i in window.selected_items() if i.previous])

    actions = {
        "start": start, "retry": retry, "save again": save_again, "back to": back_to,
        "remove": lambda: (select_some(), window.remove_selected()),
        "clear": window.clear_finished,
        "trash": lambda: (select_some(), window.trash_selected()),
        "task": lambda: (select_some(), window.set_task_for_selection(rng.choice(TASKS))),
        "sort": lambda: window.sort_queue(rng.choice(sorted(SORTABLE))),
        "next": lambda: (select_some(), window.restore_next()),
        "undo": window.undo_action.trigger, "redo": window.redo_action.trigger,
    }
    weights = {"undo": 5, "redo": 3, "start": 2}
    log = []
    for step in range(60):
        name = rng.choices(list(actions), [weights.get(n, 1) for n in actions])[0]
        log.append(name)
        actions[name]()
        settle()
        in_trash = list((trash / "Trash" / "files").iterdir()) if (trash / "Trash" / "files").is_dir() else []
        on_disk = {str(p) for p in (tmp_path / "shoot" / "restored").glob("*")} if (
            tmp_path / "shoot" / "restored").is_dir() else set()
        gone = [p for p in made if p not in on_disk]
        assert len(gone) <= len(in_trash), f"seed {seed}, step {step}: {gone} lost after {log}"
        paths = [i.path for i in window.queue]
        assert len(paths) == len(set(paths)) and len({i.id for i in window.queue}) == len(paths), log
        for item in window.queue:
            if item.state is ItemState.DONE and not item.skipped:
                assert item.output_path and Path(item.output_path).is_file(), \
                    f"seed {seed}, step {step}: {item.name} shows {item.output_path}, not there, after {log}"
