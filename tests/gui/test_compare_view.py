"""The comparison widget: divider and zoom/pan maths (pure), and the widget driven by mouse and keys."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QColor, QImage, QWheelEvent
from PySide6.QtWidgets import QApplication

from app.compare_view import MAX_ZOOM, MIN_ZOOM, CompareView, ViewTransform, divider_fraction


def test_divider_fraction_is_clamped():
    assert divider_fraction(50, 200) == 0.25
    assert divider_fraction(-10, 200) == 0.0
    assert divider_fraction(999, 200) == 1.0
    assert divider_fraction(10, 0) == 0.5


def test_fit_centres_and_never_enlarges():
    t = ViewTransform()
    t.fit(1000, 500, 400, 400)
    assert t.zoom == pytest.approx(0.4)
    assert (t.ox, t.oy) == pytest.approx((0, 100))
    t.fit(100, 50, 400, 400)
    assert t.zoom == 1.0 and (t.ox, t.oy) == pytest.approx((150, 175))


def test_zoom_keeps_the_point_under_the_cursor_and_round_trips():
    t = ViewTransform(zoom=0.5, ox=10, oy=20)
    before = t.to_image(123, 77)
    t.zoom_at(2.0, 123, 77)
    assert t.zoom == 1.0
    assert t.to_image(123, 77) == pytest.approx(before)
    assert t.to_image(*t.to_view(42.5, 17.25)) == pytest.approx((42.5, 17.25))
    t.zoom_at(1e9, 0, 0)
    assert t.zoom == MAX_ZOOM
    t.zoom_at(1e-9, 0, 0)
    assert t.zoom == MIN_ZOOM


def test_pan_and_visible_rect():
    t = ViewTransform(zoom=2.0)
    assert t.visible_rect(1000, 800, 400, 300) == (0, 0, 200, 150)
    t.pan(-100, -60)
    assert t.visible_rect(1000, 800, 400, 300) == (50, 30, 200, 150)
    t.pan(-5000, 0)  # past the right edge: clipped
    assert t.visible_rect(1000, 800, 400, 300)[2] == 0


def _images():
    before = QImage(400, 200, QImage.Format.Format_RGB32)
    before.fill(QColor("black"))
    after = QImage(400, 200, QImage.Format.Format_RGB32)
    after.fill(QColor("white"))
    return before, after


def _crops():
    """Two 200×100 crops of a comparison ("Compare with"): red on the left, blue on the right."""
    left, right = (QImage(200, 100, QImage.Format.Format_RGB32) for _ in range(2))
    left.fill(QColor("red"))
    right.fill(QColor("blue"))
    return left, right


@pytest.fixture
def view(qtbot):
    v = CompareView()
    qtbot.addWidget(v)
    v.resize(400, 300)
    v.show()
    qtbot.waitExposed(v)
    v.set_images(*_images())
    return v


def test_divider_drag_with_the_mouse(view, qtbot):
    assert view.divider == 0.5
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(200, 150))
    qtbot.mouseMove(view, QPoint(100, 150))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(100, 150))
    assert view.divider == pytest.approx(0.25)
    # left of the divider shows before (black), right shows after (white)
    grab = view.grab().toImage()
    assert QColor(grab.pixel(60, 150)).lightness() < 50
    assert QColor(grab.pixel(300, 150)).lightness() > 200


def test_dragging_elsewhere_pans_both_images_together(view, qtbot):
    ox, oy = view.transform.ox, view.transform.oy
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(300, 100))
    qtbot.mouseMove(view, QPoint(320, 130))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(320, 130))
    assert (view.transform.ox, view.transform.oy) == pytest.approx((ox + 20, oy + 30))
    assert view.divider == 0.5 and not view.fit_mode


def test_wheel_zooms_around_the_cursor_fit_and_100_percent(view, qtbot):
    assert view.transform.zoom == 1.0  # 400×200 fits in 400×300 at 100 %
    anchor = QPointF(300, 120)
    under = view.transform.to_image(anchor.x(), anchor.y())
    event = QWheelEvent(anchor, view.mapToGlobal(anchor), QPoint(), QPoint(0, 120), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view, event)
    assert view.transform.zoom == pytest.approx(1.25)
    assert view.transform.to_image(anchor.x(), anchor.y()) == pytest.approx(under)
    qtbot.keyClick(view, Qt.Key.Key_F)
    assert view.fit_mode and view.transform.zoom == 1.0
    view.zoom_by(0.5)
    qtbot.keyClick(view, Qt.Key.Key_1)
    assert view.transform.zoom == 1.0


SCALED_SCREEN = r"""
import sys
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication
app = QApplication([])
from app.compare_view import CompareView
photo = QImage(64, 64, QImage.Format.Format_RGB32)  # a checkerboard of single pixels: any resampling greys it
for y in range(64):
    for x in range(64):
        photo.setPixelColor(x, y, QColor("white") if (x + y) % 2 else QColor("black"))
view = CompareView()
view.resize(300, 200)
view.show()
view.set_images(photo, None)
fitted = view.transform.zoom
view.actual_size()
view.transform.pan(0.3, 0.6)  # (a pan by the mouse leaves the photo between screen pixels)
grab = view.grab().toImage()
ratio = grab.devicePixelRatio()
x0, y0 = round(view.transform.ox * ratio), round(view.transform.oy * ratio)
values = {QColor(grab.pixel(x0 + dx, y0 + dy)).red() for dx in range(2, 60) for dy in range(2, 60)}
pairs = {QColor(grab.pixel(x0 + dx, y0 + 5)).red() == QColor(grab.pixel(x0 + dx + 1, y0 + 5)).red()
         for dx in range(2, 60)}
print(ratio, fitted, view.transform.zoom, sorted(values), pairs)
"""


@pytest.mark.parametrize("scale", ["1", "1.5", "2"])
def test_100_percent_is_one_photo_pixel_to_one_screen_pixel_on_a_scaled_screen(scale):
    """On a Retina display (or Windows at 150 %) a zoom of 1 drew each photo pixel over 2 × 2 (or 1.5 ×
    1.5) screen pixels, smoothed: the 100 % view, there to judge noise and detail, was blurred. Run in a
    process of its own, as the scale is set before Qt starts."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = dict(os.environ, QT_SCALE_FACTOR=scale, QT_QPA_PLATFORM="offscreen")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", SCALED_SCREEN], env=env, cwd=root, capture_output=True, text=True,
                         timeout=60, check=True).stdout.split()
    ratio = float(out[0])
    assert ratio == float(scale)
    assert float(out[1]) == float(out[2]) == pytest.approx(1 / ratio)  # fitted at most to 100 %, and 100 %
    assert " ".join(out[3:5]) == "[0, 255]"  # black and white only: no photo pixel resampled
    assert out[5:] == ["{False}"]  # each screen pixel differs from its neighbour: one photo pixel each


def test_moving_to_a_screen_scaled_otherwise_keeps_100_percent_and_fit(view, monkeypatch):
    from PySide6.QtCore import QEvent

    view.actual_size()
    assert view.transform.zoom == 1.0
    monkeypatch.setattr(view, "devicePixelRatioF", lambda: 2.0)  # dragged onto a Retina display
    QApplication.sendEvent(view, QEvent(QEvent.Type.DevicePixelRatioChange))
    assert view.transform.zoom == 0.5 and not view.fit_mode  # still one photo pixel to one screen pixel
    view.zoom_by(3)
    monkeypatch.setattr(view, "devicePixelRatioF", lambda: 1.0)
    QApplication.sendEvent(view, QEvent(QEvent.Type.DevicePixelRatioChange))
    assert view.transform.zoom == pytest.approx(3.0)  # 300 % there, 300 % here
    view.fit()
    monkeypatch.setattr(view, "devicePixelRatioF", lambda: 2.0)
    QApplication.sendEvent(view, QEvent(QEvent.Type.DevicePixelRatioChange))
    assert view.fit_mode and view.transform.zoom == 0.5  # the 400×200 photo fits at 100 %, in screen pixels


def test_space_toggles_the_original(view, qtbot):
    with qtbot.waitSignal(view.toggled) as blocker:
        qtbot.keyClick(view, Qt.Key.Key_Space)
    assert blocker.args == [True] and view.show_before
    grab = view.grab().toImage()
    assert QColor(grab.pixel(300, 150)).lightness() < 50  # the after image is hidden
    qtbot.keyClick(view, Qt.Key.Key_B)
    assert not view.show_before


def test_the_divider_moves_with_the_arrow_keys_and_screen_readers_can_name_the_view(view, qtbot):
    """Keyboard-only users could zoom and toggle but not move the divider, the comparison itself; and a
    painted widget has no text a screen reader could read."""
    from PySide6.QtGui import QAccessible

    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.divider == pytest.approx(0.55)
    qtbot.keyClick(view, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    assert view.divider == pytest.approx(0.54)
    for _ in range(30):
        qtbot.keyClick(view, Qt.Key.Key_Left)
    assert view.divider == 0.0
    accessible = QAccessible.queryAccessibleInterface(view)
    assert accessible.text(QAccessible.Text.Name) == "Before and after"
    assert "arrows move the divider" in accessible.text(QAccessible.Text.Description)


def test_a_photo_drawn_small_shows_its_noise_as_it_is_at_that_size(qtbot):
    """Qt samples an image drawn below half its size: at *Fit* a photo's noise showed about 4.7 times as
    strong as it is at that size, and a fine pattern shimmered."""
    import numpy as np

    w, h = 2400, 1600
    grey = np.clip(np.random.default_rng(0).normal(128, 40, (h, w)), 0, 255).astype(np.uint8)
    pixels = np.dstack([grey, grey, grey, np.full_like(grey, 255)])
    photo = QImage(pixels.data, w, h, w * 4, QImage.Format.Format_RGB32).copy()
    view = CompareView()
    qtbot.addWidget(view)
    view.resize(300, 200)
    view.show()
    view.set_images(photo, photo)
    assert view.transform.zoom == pytest.approx(0.125)
    grab = view.grab().toImage()
    ratio = grab.devicePixelRatio()
    x0, y0 = round(view.transform.ox * ratio), round(view.transform.oy * ratio)
    shown = np.array([QColor(grab.pixel(x0 + 10 + i, y0 + 30 + j)).red() for i in range(0, 120, 2)
                      for j in range(0, 140, 2)])
    assert abs(shown.mean() - 128) < 3 and shown.std() < 10  # an average over 8 × 8 pixels: 5; sampled: ~22
    assert len(view._halved) == 1  # before and after are one image here: halved once, kept
    view.set_images(photo.copy(), None)
    view.grab()
    assert len(view._halved) == 1  # the earlier photo's halvings are let go


def test_a_double_click_zooms_to_100_percent_where_it_is_and_another_fits_again(view, qtbot):
    view.resize(240, 180)  # the 400×200 fixture fits at 60 %
    assert view.fit_mode and view.transform.zoom == pytest.approx(0.6)
    at = QPointF(60, 90)
    under = view.transform.to_image(at.x(), at.y())
    qtbot.mouseDClick(view, Qt.MouseButton.LeftButton, pos=at.toPoint())
    assert not view.fit_mode and view.transform.zoom == pytest.approx(1.0)
    assert view.transform.to_image(at.x(), at.y()) == pytest.approx(under)  # the detail clicked stays put
    qtbot.mouseDClick(view, Qt.MouseButton.LeftButton, pos=at.toPoint())
    assert view.fit_mode and view.transform.zoom == pytest.approx(0.6)


def test_the_zoom_is_shown_bottom_left_on_screen_but_not_in_a_saved_image(view, qtbot):
    """Whether a photo is seen pixel for pixel decides what its noise and detail can be judged from; the
    view did not say its zoom."""
    def white_bottom_left(image) -> int:
        return sum(QColor(image.pixel(x, y)).lightness() > 200
                   for x in range(4, 70) for y in range(image.height() - 34, image.height() - 4))

    assert view.zoom_text() == "Fit 100%"  # the 400×200 fixture fits at 100 %
    view.zoom_by(0.5)
    assert view.zoom_text() == "50%"
    qtbot.keyClick(view, Qt.Key.Key_F)
    view.resize(240, 180)
    assert view.zoom_text() == "Fit 60%"
    assert white_bottom_left(view.grab().toImage()) > 10  # the figures, white on their dark box
    view.set_divider(1.0)  # all "before" (black) in the saved image: a white figure would show
    assert white_bottom_left(view.render_image()) == 0


def test_a_navigator_shows_where_the_view_is_in_a_zoomed_photo_and_a_click_in_it_goes_there(view, qtbot):
    view.set_after(None)  # (the black photo alone: the navigator's white frame stands out)
    assert view.navigator_rect() is None  # the whole photo in view
    view.zoom_by(4, QPointF(50, 100))  # top left of the 400×200 fixture, at 400 %
    nav = view.navigator_rect()
    assert nav is not None and nav.width() == pytest.approx(160) and nav.height() == pytest.approx(80)
    assert nav.right() <= view.width() and nav.bottom() <= view.height()
    assert white_somewhere(view.grab().toImage(), nav)  # the part in view framed in white (the photo is black)
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=nav.center().toPoint())  # the photo's centre
    centre = view.transform.to_image(view.width() / 2, view.height() / 2)
    assert centre == pytest.approx((200, 100), abs=3) and view.transform.zoom == pytest.approx(4)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=nav.center().toPoint())
    qtbot.mouseMove(view, QPoint(round(nav.right()) - 1, round(nav.bottom()) - 1))  # dragged to the corner
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(round(nav.right()) - 1, round(nav.bottom()) - 1))
    centre = view.transform.to_image(view.width() / 2, view.height() / 2)
    assert centre == pytest.approx((400, 200), abs=4) and view.divider == 0.5  # (the divider did not move)
    view.fit()
    assert view.navigator_rect() is None
    view.zoom_by(4)
    assert white_somewhere(view.grab().toImage(), view.navigator_rect())
    assert view.render_image().size() == view.before.size()  # (a saved image has no navigator: drawn apart)


def white_somewhere(image, rect) -> bool:
    return any(QColor(image.pixel(round(rect.x()) + dx, round(rect.y()) + dy)).lightness() > 200
               for dx in range(int(rect.width())) for dy in range(int(rect.height())))


def test_a_screen_reader_is_told_what_each_key_did_to_the_view(view, qtbot, monkeypatch):
    """The view is pixels: a screen reader user moving the divider or zooming with the keys heard nothing."""
    from app import compare_view

    said = []
    monkeypatch.setattr(compare_view, "announce", lambda widget, text: said.append(text))
    view.set_after(view.before)
    for key, modifier in ((Qt.Key.Key_Right, None), (Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier),
                          (Qt.Key.Key_Space, None), (Qt.Key.Key_Space, None), (Qt.Key.Key_Plus, None),
                          (Qt.Key.Key_Minus, None), (Qt.Key.Key_1, None), (Qt.Key.Key_F, None), (Qt.Key.Key_S, None),
                          (Qt.Key.Key_S, None), (Qt.Key.Key_Down, None)):
        qtbot.keyClick(view, key, modifier or Qt.KeyboardModifier.NoModifier)
    assert said == ["Divider at 55%", "Divider at 54%", "Original", "Before and after", "125%", "100%", "100%",
                    "Fit 100%", "Side by side", "Divider"]  # (Down: the queue names the next photo)
    view.resize(240, 180)  # (fits at 60 %)
    said.clear()
    for _ in range(2):  # Z, as in Lightroom: 100 %, then Fit again
        qtbot.keyClick(view, Qt.Key.Key_Z)
    qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # (Ctrl+Z is the window's undo)
    assert said == ["100%", "Fit 60%"] and view.fit_mode


def test_announcements_reach_qt_s_accessibility_when_a_screen_reader_listens(view, monkeypatch):
    from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent

    from app.compare_view import announce

    sent = []
    monkeypatch.setattr(QAccessible, "isActive", staticmethod(lambda: True))
    monkeypatch.setattr(QAccessible, "updateAccessibility", staticmethod(sent.append))
    announce(view, "Divider at 55%")
    assert len(sent) == 1 and isinstance(sent[0], QAccessibleAnnouncementEvent)
    assert sent[0].message() == "Divider at 55%" and sent[0].object() is view


def test_strength_blends_the_after_image(view):
    view.set_strength(0.5)
    grab = view.grab().toImage()
    assert 100 < QColor(grab.pixel(300, 150)).lightness() < 160


def test_a_result_saved_at_a_strength_is_not_blended_twice(view):
    """The engine saved original + 0.5·(restored − original): at strength 50 % the view shows that file as it
    is; at 25 % half of it; above 50 % it cannot show more than was saved."""
    before, after = _images()
    view.set_images(before, after, after_strength=0.5)
    view.set_strength(0.5)
    assert view.after_opacity() == 1.0
    assert QColor(view.grab().toImage().pixel(300, 150)).lightness() > 200  # the saved file, not dimmed again
    view.set_strength(0.25)
    assert view.after_opacity() == 0.5
    view.set_strength(0.9)
    assert view.after_opacity() == 1.0
    view.set_after(after, QRect(0, 0, 10, 10))  # a preview holds the full restoration
    assert view.after_opacity() == 0.9


def test_preview_region_is_drawn_in_place(view):
    crop = QImage(100, 50, QImage.Format.Format_RGB32)
    crop.fill(QColor("white"))
    before, _ = _images()
    view.set_images(before, None)
    view.set_after(crop, QRect(250, 100, 100, 50))
    grab = view.grab().toImage()
    x, y = view.transform.to_view(300, 125)
    assert QColor(grab.pixel(int(x), int(y))).lightness() > 200
    x, y = view.transform.to_view(380, 20)  # outside the preview crop: still the original
    assert QColor(grab.pixel(int(x), int(y))).lightness() < 50


def test_a_comparison_draws_one_crop_each_side_of_the_divider(view):
    before, _ = _images()
    left, right = _crops()
    view.set_images(before, None)
    view.set_divider(0.5)
    view.set_pair(left, right, QRect(100, 50, 200, 100), ("Best (3 steps)", "Fast (1 step)"))
    assert view.labels == ("Best (3 steps)", "Fast (1 step)")
    grab = view.grab().toImage()
    split = view.width() / 2
    for ix, expected in ((150, "red"), (250, "blue")):  # image x left and right of the divider
        x, y = view.transform.to_view(ix, 100)
        assert (x < split) == (expected == "red")
        assert QColor(grab.pixel(int(x), int(y))) == QColor(expected)
    x, y = view.transform.to_view(20, 20)  # outside the crop: the original
    assert QColor(grab.pixel(int(x), int(y))).lightness() < 50
    view.set_after(right, QRect(100, 50, 200, 100))  # a plain preview ends the comparison
    assert view.left is None and view.labels is None


def test_the_view_renders_what_it_shows_at_the_photos_resolution(view):
    before, after = _images()  # 400×200: black before, white after
    view.set_images(before, after)
    view.set_divider(0.5)  # the middle of the view is the middle of the fitted photo
    image = view.render_image()
    assert (image.width(), image.height()) == (400, 200)
    assert QColor(image.pixel(100, 150)).lightness() < 50 and QColor(image.pixel(300, 150)).lightness() > 200
    view.set_divider(0.0)  # all after
    assert QColor(view.render_image().pixel(100, 150)).lightness() > 200
    view.set_images(None)
    assert view.render_image() is None


def _gradient(w=400, h=200) -> tuple[QImage, QImage]:
    """A before whose red grows left to right (so a pixel says which part of the photo it shows) and an
    after that is the same with full green."""
    before = QImage(w, h, QImage.Format.Format_RGB32)
    after = QImage(w, h, QImage.Format.Format_RGB32)
    for x in range(w):
        red = round(255 * x / (w - 1))
        for y in range(h):
            before.setPixelColor(x, y, QColor(red, 0, 0))
            after.setPixelColor(x, y, QColor(red, 255, 0))
    return before, after


def test_side_by_side_shows_the_same_part_of_before_and_after_in_two_panes(view, qtbot):
    """Two panes of (width - GAP) / 2, each fitted; the same image point sits at the same place in each; a
    drag or a wheel turn in either pane moves both; the divider is not there to grab; S switches back."""
    from app.compare_view import GAP

    view.set_images(*_gradient())
    with qtbot.waitSignal(view.side_by_side_changed) as blocker:
        qtbot.keyClick(view, Qt.Key.Key_S)
    assert blocker.args == [True] and view.side_by_side and view.fit_mode
    pane = (400 - GAP) // 2
    assert view.pane_width() == pane and view.transform.zoom == pytest.approx(pane / 400)
    grab = view.grab().toImage()
    x, y = (round(v) for v in view.transform.to_view(300, 100))
    left, right = QColor(grab.pixel(x, y)), QColor(grab.pixel(x + pane + GAP, y))
    assert left.green() < 30 and right.green() > 220  # before | after
    assert abs(left.red() - round(255 * 300 / 399)) <= 3 and abs(right.red() - left.red()) <= 3  # the same point
    qtbot.keyClick(view, Qt.Key.Key_1)  # 100 %: what Preview area restores is one pane's view
    assert view.visible_image_rect() == QRect(101, 0, pane, 200)
    qtbot.keyClick(view, Qt.Key.Key_F)
    x, y = (round(v) for v in view.transform.to_view(300, 100))

    anchor = QPointF(x + pane + GAP, y)  # a wheel turn over the right pane zooms around that point in both
    under = view.transform.to_image(x, y)
    QApplication.sendEvent(view, QWheelEvent(anchor, view.mapToGlobal(anchor), QPoint(), QPoint(0, 120),
                                             Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                                             Qt.ScrollPhase.NoScrollPhase, False))
    assert view.transform.to_image(x, y) == pytest.approx(under) and not view.fit_mode
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(round(view.width() * view.divider), 150))
    qtbot.mouseMove(view, QPoint(40, 160))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(40, 160))
    assert view.divider == 0.5  # (a pan, not the divider)
    qtbot.keyClick(view, Qt.Key.Key_Left)
    assert view.divider == 0.5

    centre = view.transform.to_image(pane / 2, 150)  # back to the divider: the same centre at the same zoom
    zoom = view.transform.zoom
    view.set_side_by_side(False)
    assert view.transform.zoom == zoom and view.transform.to_image(200, 150) == pytest.approx(centre)


def test_side_by_side_without_a_result_shows_the_photo_once_and_saves_both_panes(view):
    from app.compare_view import GAP

    before, after = _gradient()
    view.set_images(before, None)
    view.set_side_by_side(True)
    grab = view.grab().toImage()
    pane = view.pane_width()
    x, y = (round(v) for v in view.transform.to_view(390, 100))
    assert QColor(grab.pixel(x, y)).red() > 200 and QColor(grab.pixel(x + pane + GAP, y)).red() < 60  # "not restored yet"
    view.set_images(before, after)
    image = view.render_image()
    gap = max(GAP, 400 // 100)
    assert (image.width(), image.height()) == (800 + gap, 200)
    assert QColor(image.pixel(390, 150)).green() < 30 and QColor(image.pixel(400 + gap + 390, 150)).green() > 220
    assert abs(QColor(image.pixel(390, 150)).red() - QColor(image.pixel(400 + gap + 390, 150)).red()) <= 3
    view.strength = 0.0  # the after pane follows the strength slider, as the divider's after side does
    view.update()
    assert QColor(view.render_image().pixel(400 + gap + 390, 150)).green() < 30


def test_a_comparison_side_by_side_shows_one_crop_in_each_pane(view):
    from app.compare_view import GAP

    before, _ = _images()
    left, right = _crops()
    view.set_images(before, None)
    view.set_side_by_side(True)
    view.set_pair(left, right, QRect(100, 50, 200, 100), ("Best (3 steps)", "Fast (1 step)"))
    grab = view.grab().toImage()
    x, y = (round(v) for v in view.transform.to_view(200, 100))  # the crop's middle, in each pane
    assert QColor(grab.pixel(x, y)) == QColor("red")
    assert QColor(grab.pixel(x + view.pane_width() + GAP, y)) == QColor("blue")
    x, y = (round(v) for v in view.transform.to_view(20, 20))  # outside the crop: the original in both
    assert QColor(grab.pixel(x, y)).lightness() < 50
    assert QColor(grab.pixel(x + view.pane_width() + GAP, y)).lightness() < 50


@pytest.mark.parametrize("size", [(1, 1), (3, 1000), (1000, 3), (2000, 1500)])
def test_any_order_of_zooms_pans_keys_and_clicks_keeps_the_view_sound(qtbot, size):
    """Random sequences over odd photo shapes (a pixel, long strips): the view paints, stays within its
    zoom limits, its navigator inside it, and Fit brings the whole photo back."""
    import random

    from PySide6.QtCore import QEvent

    rng = random.Random(sum(size))
    photo = QImage(*size, QImage.Format.Format_RGB32)
    photo.fill(QColor("gray"))
    view = CompareView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    view.set_images(photo, photo.copy())
    keys = [Qt.Key.Key_F, Qt.Key.Key_1, Qt.Key.Key_Plus, Qt.Key.Key_Minus, Qt.Key.Key_S, Qt.Key.Key_Left,
            Qt.Key.Key_Right, Qt.Key.Key_Space]
    for _ in range(80):
        point = QPoint(rng.randrange(view.width()), rng.randrange(view.height()))
        action = rng.randrange(6)
        if action == 0:
            qtbot.keyClick(view, rng.choice(keys))
        elif action == 1:
            view.zoom_by(rng.choice((0.2, 0.5, 2, 7)), QPointF(point))
        elif action == 2:
            qtbot.mouseDClick(view, Qt.MouseButton.LeftButton, pos=point)
        elif action == 3:
            nav = view.navigator_rect()
            qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=nav.center().toPoint() if nav else point)
        elif action == 4:
            view.resize(rng.randrange(240, 700), rng.randrange(180, 500))
        else:
            QApplication.sendEvent(view, QEvent(QEvent.Type.DevicePixelRatioChange))
        view.grab()
        assert MIN_ZOOM <= view.transform.zoom <= MAX_ZOOM
        nav = view.navigator_rect()
        assert nav is None or QRect(0, 0, view.width(), view.height()).contains(nav.toRect())
    view.fit()
    x, y, w, h = view.visible_image_rect().getRect()
    assert (x, y, w, h) == (0, 0, *size) and view.navigator_rect() is None
