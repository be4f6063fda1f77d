"""What Ctrl+Z takes back in the window, and Redo does again: photos removed from the list, results moved
to the trash, degradations set (by key, menu, the column's editor or a comparison's *Use*), *Back to* an
earlier result (which otherwise forgets the newer one), a result saved again at a lower strength (its new
file goes to the trash), the list's order (a column's sort, Restore next) and Replace / Put back (a pair of
its own, in `QueueMenu`). Each change is recorded where the window makes it (`removed`, `trashed`, the
runner's `task_set`, `rows_changed`, `saved_again`, `reordered`);
undoing it pushes the step that makes it again (app.history). A step leaves alone what has changed since it
was recorded."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.history import History, Step
from app.queue_model import ItemState, QueueItem
from app.settings import TASK_LABELS
from app.trash import Trashed, item_of, row_of, take_back_results
from engine.wording import count

if TYPE_CHECKING:
    from app.widgets.main_window import MainWindow


def _row(item: QueueItem) -> tuple:
    """What the row changes a step reverts can change (a trash's, and the degradation): a step is undone only
    where the row is still so."""
    return (*row_of(item), item.task, item.skipped)


def name_or_count(items: list, one: str) -> str:
    """`one` (a photo's name) for one photo, else how many: an undo step's words ("remove 3 photos")."""
    return one if len(items) == 1 else f"{len(items)} photos"


class UndoSteps:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.queue = window.queue
        self.history = History(changed=self._show)
        window.runner.task_set.connect(self.task_set)
        window.panel.resave.saved_again.connect(self.saved_again)
        self._show()

    def _say(self, text: str, ms: int = 8000) -> None:
        self.window.statusBar().showMessage(text, ms)

    def _show(self) -> None:
        """The actions' texts name what they would do: "Undo remove 3 photos"."""
        for action, verb, what in ((self.window.undo_action, "Undo", self.history.undo_what),
                                   (self.window.redo_action, "Redo", self.history.redo_what)):
            action.setEnabled(bool(what))
            action.setText(f"{verb} {what}" if what else verb)

    # -------------------------------------------------------------- removed from the list

    def removed(self, gone: list[QueueItem]) -> None:
        """Photos just removed (`BatchQueue.last_removal` holds where they were)."""
        entries = list(self.queue.last_removal)
        what = "remove " + name_or_count(gone, gone[0].name)
        self.history.push(Step(what, lambda: self._put_back(entries, what)))

    def _put_back(self, entries: list[tuple[int, QueueItem]], what: str) -> None:
        back = self.queue.put_back(entries)
        if not back:
            self._say("Nothing was put back: those photos are in the list again.")
            return
        ids = [i.id for i in back]
        self.history.push(Step(what, lambda: self.window.remove_photos(ids)))
        self._say(f"Put back {count(len(back), 'photo')}.", 6000)

    # -------------------------------------------------------------- moved to the trash

    def trashed(self, entries: list[Trashed], what: str = "") -> None:
        """Results just moved to the trash (`what`: the step's words, when it undoes or redoes another)."""
        what = what or ("move a result to the trash" if len(entries) == 1 else
                        f"move {len(entries)} results to the trash")
        self.history.push(Step(what, lambda: self._take_back(entries, what)))

    def _take_back(self, entries: list[Trashed], what: str) -> None:
        said, failed = take_back_results(self.queue, entries)
        if failed:
            self.window.show_error("Not taken back out of the trash", "\n".join(failed))
        if said:
            self._say(said[0] if len(said) == 1 else f"{len(said)} results are back from the trash", 10000)
        again = [e for e in entries if Path(e.result).is_file() and (i := item_of(self.queue, e)) is not None
                 and i.output_path == e.result]  # (a row that had changed keeps its file but is not redone)
        if again:
            self.history.push(Step(what, lambda: self._trash_again(again, what)))

    def _trash_again(self, entries: list[Trashed], what: str) -> None:
        items = [i for e in entries if (i := item_of(self.queue, e)) is not None and i.output_path == e.result]
        if not (items and self.window.queue_menu.move_to_trash(items, what)):
            self._say("Nothing was moved to the trash: those results have changed since.")

    def saved_again(self, item_id: str) -> None:
        """A result just saved again at a lower strength (Save at N%): Ctrl+Z sends the new file to the trash,
        and the row shows the result it was made from again; Redo takes it back out."""
        item = self.queue.get(item_id)
        if item is None or not item.output_path:
            return
        what = f"save {item.name} again at {item.saved_strength:.0%}"
        result = item.output_path

        def undo() -> None:
            now = self.queue.get(item_id)
            if now is None or now.output_path != result or not self.window.queue_menu.move_to_trash([now], what):
                self._say("Nothing was undone: that result has changed since.")

        self.history.push(Step(what, undo))

    # -------------------------------------------------------------- order (a column's sort, Restore next)

    def reordered(self, before: list[str], mark: Any, what: str, again: Callable[[], Any],
                  joined: list[str] | None = None) -> None:
        """The list was just put in another order (`before`: its ids, `mark`: the header's sort mark, before
        it); `joined`: photos Restore next took into the running batch; `again` makes the change again."""
        self.history.push(Step(what, lambda: self._order_back(before, mark, what, again, joined or [])))

    def _order_back(self, before: list[str], mark: Any, what: str, again: Callable[[], Any],
                    joined: list[str]) -> None:
        """The order of `before` again (photos added since stay at the end, and the header's mark only if
        there are none), and the photos a Restore next took into the batch out of it, unless one is already
        being restored (it finishes)."""
        window = self.window
        leave = [i.id for i in self.queue.items_of(joined) if i.state in (ItemState.QUEUED, ItemState.DETECTING)]
        selected = window.selected_ids()
        moved = self.queue.put_in_order(before)
        window.runner.cancel_items(leave)
        if not (moved or leave):
            self._say("Nothing was undone: the list is in that order already.")
            return
        window.show_sort_mark(mark if set(self.queue.ids()) <= set(before) else None)
        window.reselect(selected)
        self.history.push(Step(what, again))
        self._say(f"Undone: {what}" + (f" ({count(len(leave), 'photo')} left the batch)." if leave else "."), 6000)

    # -------------------------------------------------------------- rows changed (degradation, Back to)

    def task_set(self, changed: list[tuple[QueueItem, dict[str, Any]]], task: str) -> None:
        self.rows_changed(changed,
                          f"set {name_or_count(changed, changed[0][0].name)} to {TASK_LABELS.get(task, task)}",
                          lambda ids: self.window.runner.set_task(ids, task))

    def rows_changed(self, changed: list[tuple[QueueItem, dict[str, Any]]], what: str,
                     again: Callable[[list[str]], Any]) -> None:
        """Rows just changed ((item, its `to_json()` before)); `again` makes the change again for those ids."""
        rows = [(item.id, before, _row(item)) for item, before in changed]
        self.history.push(Step(what, lambda: self._revert(rows, what, again)))

    def _revert(self, rows: list[tuple[str, dict[str, Any], tuple]], what: str,
                again: Callable[[list[str]], Any]) -> None:
        back = [(item, before) for item_id, before, after in rows
                if (item := self.queue.get(item_id)) is not None and _row(item) == after]
        self.queue.revert(back)  # (one change for all: the window refreshes once)
        back = [item.id for item, _before in back]
        if not back:
            self._say("Nothing was undone: those photos have changed since (restored or removed).")
            return
        self.history.push(Step(what, lambda: again(back)))
        self._say(f"Undone: {what}" + (f" (not for {len(rows) - len(back)} photos changed since)."
                                        if len(back) < len(rows) else "."), 6000)
