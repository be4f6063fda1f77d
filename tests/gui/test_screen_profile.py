"""Photos shown through the screen's colour profile (app.display_profile, app.images.on_screen): converted for a
wide-gamut screen, saved from the view in sRGB again, read from X11 where the system sets it."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess

import pytest
from gui_helpers import make_photo
from PySide6.QtGui import QColorSpace, QImage

from app import display_profile
from app.images import off_screen, on_screen, use_display_profile
from engine.icc_profiles import adobe_rgb_profile

TIMEOUT = 10000
SRGB = QColorSpace(QColorSpace.NamedColorSpace.SRgb)


@pytest.fixture(autouse=True)
def _no_profile_after():
    yield
    use_display_profile(None)


def _red(tagged: bool = True, fmt=QImage.Format.Format_RGB32) -> QImage:
    image = QImage(4, 4, fmt)
    image.fill(0xFFFF0000)
    if tagged:
        image.setColorSpace(SRGB)
    return image


def _rgb(image: QImage) -> tuple[int, int, int]:
    c = image.pixelColor(1, 1)
    return c.red(), c.green(), c.blue()


def test_an_adobe_rgb_screen_gets_srgb_red_as_its_own_less_saturated_red_and_the_view_saves_srgb_again():
    assert "Adobe RGB" in use_display_profile(adobe_rgb_profile())
    for image in (_red(), _red(tagged=False), _red(fmt=QImage.Format.Format_RGB888)):
        shown = on_screen(image)
        assert _rgb(shown) == (219, 0, 0)  # sRGB red inside the wider Adobe RGB gamut
        assert _rgb(image) == (255, 0, 0) and image.colorSpace() in (SRGB, QColorSpace())  # the caller's kept
        assert _rgb(off_screen(shown)) == (255, 0, 0)
    gray = QImage(4, 4, QImage.Format.Format_Grayscale8)
    gray.fill(0xFF808080)
    assert abs(_rgb(on_screen(gray))[0] - 128) <= 2  # grays stay (nearly) where they were, in RGB now


@pytest.mark.parametrize(("profile", "said"), [(None, "none found"), (b"not a profile", "cannot convert to")])
def test_without_a_usable_profile_photos_are_shown_as_their_srgb_numbers(profile, said):
    assert said in use_display_profile(profile)
    assert _rgb(on_screen(_red())) == (255, 0, 0) and _rgb(off_screen(_red())) == (255, 0, 0)


def test_an_srgb_screen_profile_converts_nothing():
    assert "nothing to convert" in use_display_profile(bytes(SRGB.iccProfile()))
    image = _red()
    assert on_screen(image) is image


def test_the_profile_is_read_only_where_the_system_leaves_colour_management_to_the_app(monkeypatch):
    asked = []
    monkeypatch.setattr(display_profile, "x11_profile", lambda display, screen=0: asked.append(display) or b"icc")
    monkeypatch.setenv("DISPLAY", ":5")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert display_profile.system_profile("xcb") == b"icc" and asked == [":5"]
    assert display_profile.system_profile("offscreen") is None and display_profile.system_profile("wayland") is None
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")  # the compositor converts X11 windows itself
    assert display_profile.system_profile("xcb") is None and asked == [":5"]


def test_a_second_screen_has_its_own_profile_or_the_first_one_s(monkeypatch):
    profiles = {0: b"first", 1: b"second"}
    monkeypatch.setattr(display_profile, "x11_profile", lambda display, screen=0: profiles.get(screen))
    monkeypatch.setenv("DISPLAY", ":5")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert [display_profile.system_profile("xcb", n) for n in (0, 1, 2)] == [b"first", b"second", b"first"]


@pytest.fixture
def xvfb():
    if shutil.which("Xvfb") is None or ctypes.util.find_library("X11") is None:
        pytest.skip("Xvfb or libX11 is not installed")
    read, write = os.pipe()  # Xvfb picks a free display and says which (-displayfd); -noreset: a server
    # resets (its properties gone) when its last client leaves, which a desktop's never does
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-nolisten", "tcp", "-noreset"], pass_fds=(write,),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as said:
        number = said.readline().strip()
    if not number:
        server.kill()
        pytest.skip("Xvfb did not start")
    yield f":{number}"
    server.terminate()
    server.wait(10)


def _set_root_property(display: str, name: bytes, value: bytes) -> None:
    """What colord and `dispwin -I` do (tools/set_screen_profile.py)."""
    from tools.set_screen_profile import set_root_property

    set_root_property(display, name, value)


def test_the_x11_root_window_s_profile_is_read_as_colord_sets_it(xvfb):
    assert display_profile.x11_profile(xvfb) is None  # nothing set yet
    profile = adobe_rgb_profile()
    _set_root_property(xvfb, b"_ICC_PROFILE", profile)
    _set_root_property(xvfb, b"_ICC_PROFILE_1", b"second screen")
    assert display_profile.x11_profile(xvfb) == profile
    assert display_profile.x11_profile(xvfb, screen=1) == b"second screen"
    assert display_profile.x11_profile(":999") is None  # no such display


def test_the_window_shows_photos_through_the_screen_s_profile_as_set(make_window, qtbot, tmp_path, monkeypatch):
    from app.widgets import screen_colours

    monkeypatch.setattr(screen_colours, "system_profile", lambda platform, screen=0: adobe_rgb_profile())
    window = make_window()
    assert "Adobe RGB" in window.screen_profile
    window.add_paths([str(make_photo(tmp_path / "red.png", colour=(255, 0, 0)))])
    qtbot.waitUntil(lambda: window.compare.before is not None, timeout=TIMEOUT)
    assert _rgb(window.compare.before) == (219, 0, 0)
    assert _rgb(window.compare.render_image()) == (255, 0, 0)  # saved from the view: sRGB for any screen
    window.settings.screen_profile = False
    window.screen_colours.setting_changed(True)
    qtbot.waitUntil(lambda: _rgb(window.compare.before) == (255, 0, 0), timeout=TIMEOUT)
    assert window.screen_profile.startswith("off")


def test_settings_say_which_profile_the_screen_setting_uses(qtbot):
    from PySide6.QtWidgets import QGroupBox, QLabel

    from app.settings import Settings
    from app.widgets.settings_dialog import SettingsDialog

    dialog = SettingsDialog(Settings(), screen="DELL U2720Q (calibrated)")
    qtbot.addWidget(dialog)
    assert "Now: DELL U2720Q (calibrated)." in [label.text() for label in dialog.findChildren(QLabel)]
    assert [box.title() for box in dialog.findChildren(QGroupBox)] == ["Restoring", "Saving results", "Display"]
    assert dialog.screen_profile.isChecked()


def test_moving_the_window_to_another_screen_shows_photos_through_that_screen_s_profile(make_window, qtbot, tmp_path,
                                                                                         monkeypatch):
    from app.widgets import screen_colours

    monkeypatch.setattr(screen_colours, "system_profile",
                        lambda platform, screen=0: adobe_rgb_profile() if screen == 0 else None)
    window = make_window()
    window.add_paths([str(make_photo(tmp_path / "red.png", colour=(255, 0, 0)))])
    qtbot.waitUntil(lambda: window.compare.before is not None and _rgb(window.compare.before) == (219, 0, 0),
                    timeout=TIMEOUT)
    monkeypatch.setattr(window.screen_colours, "screen_number", lambda: 1)  # (offscreen Qt has one screen: as if moved)
    window.screen_colours.moved()
    qtbot.waitUntil(lambda: _rgb(window.compare.before) == (255, 0, 0), timeout=TIMEOUT)  # an sRGB screen
    assert "none found" in window.screen_profile
    window.screen_colours.moved()  # the same screen again: nothing to do
    assert window.screen_colours.screen == 1
