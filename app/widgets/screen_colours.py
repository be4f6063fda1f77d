"""Photos shown through the colour profile of the screen the window is on (app.display_profile), as the
settings say: chosen at start, and again when the window moves to another screen or the setting changes
(the thumbnails and the photo on view are made again through the new one)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QGuiApplication

from app.display_profile import system_profile
from app.images import use_display_profile

if TYPE_CHECKING:
    from app.widgets.main_window import MainWindow


class ScreenColours:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.screen = 0  # the number of the screen whose profile is in use
        self._following = False
        self.described = self.use()  # what the setting does now, for Settings and About

    def use(self) -> str:
        """Take the profile of the window's screen (none: the setting is off) and say what it is."""
        self.screen = self.screen_number()
        if not self.window.settings.screen_profile:
            use_display_profile(None)
            return "off; photos are shown as sRGB"
        return use_display_profile(system_profile(QGuiApplication.platformName(), self.screen))

    def screen_number(self) -> int:
        screens, here = QGuiApplication.screens(), self.window.screen()
        return screens.index(here) if here in screens else 0

    def follow(self) -> None:
        """Once the window has a native window (its first show): follow it from screen to screen."""
        handle = self.window.windowHandle()
        if handle is not None and not self._following:
            handle.screenChanged.connect(lambda _screen: self.moved())
            self._following = True

    def moved(self) -> None:
        """The window moved to another screen: its profile from now on, and the photos shown through it."""
        if self.window.settings.screen_profile and self.screen_number() != self.screen:
            self.show_again()

    def setting_changed(self, before: bool) -> None:
        """Thumbnails and the photo on view again, through the profile or not, when the setting changed."""
        if self.window.settings.screen_profile != before:
            self.show_again()

    def show_again(self) -> None:
        self.described = self.use()
        window = self.window
        window.images.request_thumbnails(list(window.queue))
        shown = window.queue.get(window.panel.shown_item) if window.panel.shown_item is not None else None
        if shown is not None:
            window.panel.show_item(shown)
