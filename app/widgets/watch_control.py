"""*Watch folder…* in the window: asking which folder, the status bar's "Watching Tether" and messages, and
the photos that arrive (queued and restored at once, or after a paused batch). The watching itself, looking
at the folder and resuming it at the next start, is `app.watch_folder.FolderWatch` (the window's `watch`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QLabel

from app.queue_model import ItemState
from engine.wording import count

if TYPE_CHECKING:
    from app.widgets.main_window import MainWindow


class WatchControl:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.label = QLabel()  # "Watching Tether" in the status bar while a folder is watched
        self.label.hide()
        self._note = ""  # what the status bar says of photos that just arrived, instead of "Added …"
        self._arrived: set[str] = set()  # (normcase) paths of the photos the watch took, written again included

    def connect(self) -> None:
        watch = self.window.watch
        watch.arrived.connect(self.arrived)
        watch.started.connect(self.started)
        watch.rewritten.connect(self.rewritten)
        watch.resumed.connect(self.resumed)

    def _say(self, text: str, ms: int) -> None:
        self.window.statusBar().showMessage(text, ms)

    def toggle(self, on: bool) -> None:
        """Watch folder…: asks which folder, then restores what arrives in it; again: stop."""
        window = self.window
        if not on:
            window.watch.stop()
            self.label.hide()
            self._say("No folder is watched now.", 6000)
            return
        dialog = QFileDialog(window, "Watch a folder: restore the photos that arrive in it")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(self.watch_folder)
        dialog.rejected.connect(lambda: window.watch_action.setChecked(window.watch.watching))
        window._keep(dialog)
        dialog.open()

    def watch_folder(self, folder: str) -> None:
        self.window.watch.start(folder)
        self._show(folder)

    def resume(self) -> None:
        """A folder watched when the app was closed is watched again (`FolderWatch.resume`)."""
        folder = self.window.watch.resume()
        if folder and not self.window.watch.watching:
            self._say(f"The watched folder {folder} is not there any more: it is not watched now (Watch folder… "
                      "watches it again)", 15000)

    def resumed(self, folder: str) -> None:
        self._show(folder)
        self._say(f"Watching {folder} again: photos that arrived in it while Hourglass was closed are restored "
                  "too", 10000)

    def _show(self, folder: str) -> None:
        self.window.watch_action.setChecked(True)
        self.label.setText(f"Watching {Path(folder).name}")
        self.label.setToolTip(f"New photos in {folder} are restored as they arrive (Watch folder… again stops)")
        self.label.show()

    def started(self, folder: str, there: int) -> None:
        left = ("" if not there else "; the photo already there is left as it is (Add folder… takes it)"
                if there == 1 else f"; the {there} photos already there are left as they are (Add folder… takes "
                "them)")
        self._say(f"Watching {folder}: photos that arrive in it are restored{left}", 10000)

    def arrived(self, paths: list[str]) -> None:
        runner = self.window.runner
        paused = not runner.running and bool(runner.queue.in_state(ItemState.QUEUED))
        self._note = (f"{count(len(paths), 'new photo')} in the watched folder, queued after the paused batch "
                      "(Start)" if paused else f"{count(len(paths), 'new photo')} in the watched folder: restoring")
        self._arrived.update(os.path.normcase(p) for p in paths)
        runner.add_paths(paths, restore=True)

    def rewritten(self, paths: list[str]) -> None:
        self._arrived.update(os.path.normcase(p) for p in paths)
        again = self.window.runner.restore_again(paths)
        if again:
            self._say(f"{again[0].name} was written again in the watched folder: restoring it again (its earlier "
                      "result is kept)" if len(again) == 1 else f"{len(again)} photos were written again in the "
                      "watched folder: restoring them again (their earlier results are kept)", 10000)

    def take_note(self) -> str:
        """What to say of the photos just added, if they are arrivals ("" otherwise); said once."""
        note, self._note = self._note, ""
        return note

    def only_arrivals(self, ids: list[str]) -> bool:
        """Whether these photos (a batch's) all arrived in the watched folder."""
        items = [self.window.queue.get(i) for i in ids]
        return bool(items) and all(i is not None and os.path.normcase(i.path) in self._arrived for i in items)
