"""The status bar's permanent line: how many photos and how they stand ("5 photos · 3 restored · 1 failed",
the photo being restored, the time left; before Start, how long the pending photos should take), the
batch's progress bar, the engine's state and a queue that cannot be saved; and the window title, which
carries the batch's progress to the taskbar and the window switcher."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QProgressBar

from app.queue_model import ItemState
from engine.batch_time import format_time_left
from engine.wording import count

if TYPE_CHECKING:
    from app.widgets.main_window import MainWindow

TITLE = "Hourglass — photo restoration"
# the engine client's states in the status bar's words (its tooltip says why)
ENGINE_STATE_WORDS = {"stopped": "stopped", "starting": "starting…", "ready": "ready", "busy": "busy",
                      "unresponsive": "not responding", "crashed": "restarting…",
                      "fatal": "not running (Start tries again)"}


class StatusLine:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.label = QLabel()
        self.overall = QProgressBar()
        self.overall.setMaximumWidth(260)
        self.overall.setRange(0, 1000)
        self.overall.setFormat("%p%")
        self.overall.setAccessibleName("Batch progress")
        self.engine_label = QLabel("Engine: starting…")
        self.unsaved_label = QLabel("⚠ Queue not saved")  # while the queue cannot be written (its tooltip: why)
        self.unsaved_label.hide()
        self.ahead = ""  # "12 to restore, about 25 min": the pending photos' time
        self._ahead_timer = QTimer(window, singleShot=True, interval=300, timeout=self._update_ahead)

    def install(self, *between) -> None:
        """Into the window's status bar; `between`: widgets of others, before the progress bar."""
        bar = self.window.statusBar()
        bar.addWidget(self.label, 1)
        bar.addPermanentWidget(self.unsaved_label)
        for widget in between:
            bar.addPermanentWidget(widget)
        bar.addPermanentWidget(self.overall)
        bar.addPermanentWidget(self.engine_label)

    def update(self, counts: dict[ItemState, int]) -> float | None:
        """Say how the queue stands; the running batch's fraction done (None when none runs)."""
        window = self.window
        queue, runner = window.queue, window.runner
        running = runner.running
        finished = counts[ItemState.DONE] + counts[ItemState.FAILED] + counts[ItemState.CANCELLED]
        running_items = queue.in_state(ItemState.RUNNING)
        active = [i for i in queue if i.state is not ItemState.PENDING]
        fraction = (finished + sum(i.progress for i in running_items)) / len(active) if active else 0.0
        self.overall.setValue(round(fraction * 1000))
        parts = [count(len(queue), "photo")]
        skipped = [i for i in queue.in_state(ItemState.DONE) if i.skipped]
        results = sum(1 for i in skipped if i.left_as_result)
        if counts[ItemState.DONE] - len(skipped):
            parts.append(f"{counts[ItemState.DONE] - len(skipped)} restored")
        if len(skipped) - results:
            parts.append(f"{len(skipped) - results} already fine")
        if results:
            parts.append(f"{results} restored before (Hourglass's results)")
        if counts[ItemState.FAILED]:
            parts.append(f"{counts[ItemState.FAILED]} failed")
        if self.ahead and not running:
            parts.append(self.ahead)
        self._ahead_timer.start()  # (worked out once the changes settle)
        left = runner.time_left()
        left_text = format_time_left(left) if left is not None else ""
        if running_items:
            parts.append(f"restoring {running_items[0].name} ({finished + 1} of {len(active)})")
            if left_text:
                parts.append(left_text)
        elif runner.pausing:
            parts.append("pausing")
        self.label.setText(" · ".join(parts))
        # the batch's progress in the title, so a minimised window shows it in the taskbar and window switcher
        title = f"{self.overall.value() / 10:.0f}% · {finished} of {len(active)}"
        if left_text:
            title += f" · {left_text.removeprefix('about ')}"
        window.setWindowTitle(f"{title} — Hourglass" if running and active else TITLE)
        return self.overall.value() / 1000 if running and active else None

    def _update_ahead(self) -> None:
        """Before Start, how long the pending photos should take (app.photo_times), worked out once changes
        settle: it weighs every pending photo, and a folder of 1,000 being detected changes them 1,000 times."""
        ahead = self.window.runner.pending_estimate()
        text = f"{ahead[0]} to restore, {format_time_left(ahead[1]).removesuffix(' left')}" if ahead else ""
        if text != self.ahead:
            self.ahead = text
            self.window._refresh()

    def saving(self, problem: str) -> None:
        """The queue file could not be written (`problem`), or can again ("")."""
        self.unsaved_label.setToolTip(problem)
        self.unsaved_label.setVisible(bool(problem))
        if problem:
            self.window.statusBar().showMessage(problem, 30000)

    def engine_status(self, state: str, message: str) -> None:
        self.engine_label.setText(f"Engine: {ENGINE_STATE_WORDS.get(state, state)}")
        self.engine_label.setToolTip(message)

    def engine_ready(self, ready) -> None:
        devices = ", ".join(d.name for d in ready.devices) if ready.devices else "CPU"
        self.engine_label.setText("Engine: ready")
        self.engine_label.setToolTip(f"Devices: {devices}")
