"""Before/after comparison: two images drawn with one transform (so zoom and pan are always in sync),
split by a draggable divider, or side by side (`side_by_side`: two panes, as Lightroom's Left/Right view,
for judging the whole photo at once; panning or zooming either pane moves both).

`ViewTransform` and `divider_fraction` hold the maths and are Qt-free, so they are unit-tested directly.
Mouse: drag the divider, drag elsewhere to pan, wheel to zoom around the cursor, double-click for 100 % there
(or, zoomed, to fit).
Keys: Space or B toggles the original, F fits, 1 shows 100 % (Z: one or the other, as in Lightroom), + and
- zoom, S switches side by side; Up and Down (or Page Up and Page Down) go to the previous and next photo of
the queue (`step`), also in full screen, keeping the zoom and the place in view for photos of one size: a
batch reviewed without the mouse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QAccessible,
    QAccessibleAnnouncementEvent,
    QColor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.images import off_screen

MIN_ZOOM, MAX_ZOOM = 0.01, 32.0
WHEEL_STEP = 1.25  # zoom factor per wheel notch
GRAB_PX = 8  # how close to the divider a press grabs it
GAP = 4  # pixels between the panes side by side (of the view; of the photo's size in a saved image)
NAVIGATOR = 160  # the navigator's longer side (view pixels), bottom right while the photo is larger than the view


def announce(widget: QWidget, text: str) -> None:
    """Have a screen reader say `text` (Orca, NVDA, VoiceOver), if one is listening."""
    if QAccessible.isActive():
        QAccessible.updateAccessibility(QAccessibleAnnouncementEvent(widget, text))


def divider_fraction(x: float, width: float) -> float:
    """The divider position (0 = all after, 1 = all before) for a pointer at view x."""
    if width <= 0:
        return 0.5
    return min(1.0, max(0.0, x / width))


@dataclass
class ViewTransform:
    """view = image × zoom + offset (pixels). One instance drives both the before and the after image."""

    zoom: float = 1.0
    ox: float = 0.0
    oy: float = 0.0

    def to_view(self, ix: float, iy: float) -> tuple[float, float]:
        return ix * self.zoom + self.ox, iy * self.zoom + self.oy

    def to_image(self, vx: float, vy: float) -> tuple[float, float]:
        return (vx - self.ox) / self.zoom, (vy - self.oy) / self.zoom

    def fit(self, iw: int, ih: int, vw: int, vh: int, most: float = 1.0) -> None:
        """The whole image visible and centred, never enlarged past `most` (the view's 100 %)."""
        if iw <= 0 or ih <= 0 or vw <= 0 or vh <= 0:
            return
        self.zoom = min(most, vw / iw, vh / ih)
        self.ox = (vw - iw * self.zoom) / 2
        self.oy = (vh - ih * self.zoom) / 2

    def zoom_at(self, factor: float, ax: float, ay: float) -> None:
        """Zoom by `factor`, keeping the image point under (ax, ay) where it is."""
        ix, iy = self.to_image(ax, ay)
        self.zoom = min(MAX_ZOOM, max(MIN_ZOOM, self.zoom * factor))
        self.ox = ax - ix * self.zoom
        self.oy = ay - iy * self.zoom

    def set_zoom_at(self, zoom: float, ax: float, ay: float) -> None:
        self.zoom_at(zoom / self.zoom, ax, ay)

    def pan(self, dx: float, dy: float) -> None:
        self.ox += dx
        self.oy += dy

    def on_pixels(self, ratio: float) -> ViewTransform:
        """This transform with its offset on whole screen pixels (`ratio` of them to a view pixel) when it
        draws one photo pixel per screen pixel: a photo drawn half a pixel off is resampled, which blurs the
        100 % view that is there to judge noise and detail."""
        if abs(self.zoom * ratio - 1.0) > 1e-9:
            return self
        return ViewTransform(self.zoom, round(self.ox * ratio) / ratio, round(self.oy * ratio) / ratio)

    def visible_rect(self, iw: int, ih: int, vw: int, vh: int) -> tuple[int, int, int, int]:
        """The part of the image (x, y, w, h in image pixels) that the view shows, clipped to the image."""
        x0, y0 = self.to_image(0, 0)
        x1, y1 = self.to_image(vw, vh)
        left, top = max(0, int(x0)), max(0, int(y0))
        right, bottom = min(iw, math.ceil(x1 - 1e-9)), min(ih, math.ceil(y1 - 1e-9))
        return left, top, max(0, right - left), max(0, bottom - top)


class CompareView(QWidget):
    """Draws `before` left of the divider and `after` (blended by `strength`) right of it; in a comparison
    (`set_pair`), one preview crop on each side of the divider, over the original."""

    divider_moved = Signal(float)
    view_changed = Signal()
    toggled = Signal(bool)  # True while the original is shown alone
    side_by_side_changed = Signal(bool)
    step = Signal(int)  # -1 / +1: the previous or next photo is asked for

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 180)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setAccessibleName("Before and after")  # for screen readers: a painted widget has no text of its own
        self.setAccessibleDescription("The original left of the divider, the restored photo right of it (or "
                                      "side by side: S). Left and right arrows move the divider; up and down go "
                                      "to the previous and next photo; Space shows the original alone; F "
                                      "fits, 1 shows 100%, plus and minus zoom.")
        self.transform = ViewTransform()
        self.divider = 0.5
        self.strength = 1.0
        self.after_strength = 1.0  # the strength already in `after` (a saved result blended by the engine)
        self.show_before = False
        self.side_by_side = False
        self.fit_mode = True
        self.before: QImage | None = None
        self.after: QImage | None = None
        self.after_region: QRect | None = None  # where `after` sits in `before` (a preview crop)
        self.left: QImage | None = None  # a comparison's left-hand crop, at `after_region` too
        self.labels: tuple[str, str] | None = None  # a comparison's labels, left and right
        self.placeholder = "Drop photos here, or select one in the queue"
        self._drag: str | None = None  # "divider" | "pan" | "navigator"
        self._last: QPointF | None = None
        self._ratio = self.ratio()  # the screen pixels to a view pixel the zoom was last set for
        self._halved: dict[int, list[QImage]] = {}  # an image's cacheKey → it, halved, halved again… (`_sized`)

    # -------------------------------------------------------------- content

    def set_images(self, before: QImage | None, after: QImage | None = None, region: QRect | None = None,
                   after_strength: float = 1.0) -> None:
        same_size = (self.before is not None and before is not None and before.size() == self.before.size())
        self.before = before
        self.set_after(after, region, after_strength)
        if not same_size or self.fit_mode:
            self.fit()

    def set_after(self, after: QImage | None, region: QRect | None = None, after_strength: float = 1.0) -> None:
        """`after_strength`: how much of the restoration `after` already holds (1 for a preview)."""
        self.left, self.labels = None, None
        self.after = after
        self.after_region = region
        self.after_strength = after_strength
        self._forget_halved()
        self.update()

    def after_opacity(self) -> float:
        """Opacity of `after` over `before` that shows the chosen strength: original + s·(restored − original)
        is `after` at s / (the strength it was saved with); it cannot show more than was saved."""
        if self.after_strength <= 0:
            return 1.0  # the saved file is the original: nothing to blend
        return min(1.0, self.strength / self.after_strength)

    def set_pair(self, left: QImage, right: QImage, region: QRect, labels: tuple[str, str]) -> None:
        """Two restorations of the same crop of `before`: `left` left of the divider, `right` right of it."""
        self.set_after(right, region)
        self.left, self.labels = left, labels

    def set_strength(self, strength: float) -> None:
        self.strength = min(1.0, max(0.0, strength))
        self.update()

    def set_divider(self, fraction: float) -> None:
        self.divider = min(1.0, max(0.0, fraction))
        self.divider_moved.emit(self.divider)
        self.update()

    def set_side_by_side(self, on: bool) -> None:
        """Two panes instead of the divider; the same part of the photo stays in view (its centre, at the
        same zoom), or the photo is fitted to the panes when it was fitted."""
        if on == self.side_by_side:
            return
        cx, cy = self.transform.to_image(self.pane_width() / 2, self.height() / 2)
        self.side_by_side = on
        if self.fit_mode:
            self.fit()
        else:
            self.transform.ox = self.pane_width() / 2 - cx * self.transform.zoom
            self.transform.oy = self.height() / 2 - cy * self.transform.zoom
            self._changed()
        self.side_by_side_changed.emit(on)

    def pane_width(self) -> int:
        """The width one image is drawn in: the whole view, or each of the two panes side by side."""
        return max(1, (self.width() - GAP) // 2) if self.side_by_side else self.width()

    def _in_pane(self, x: float) -> float:
        """A view x in its pane's own coordinates (the transform's)."""
        if self.side_by_side and x >= self.pane_width() + GAP:
            return x - self.pane_width() - GAP
        return x

    def toggle_before(self) -> None:
        self.show_before = not self.show_before
        self.toggled.emit(self.show_before)
        self.update()

    def image_size(self) -> tuple[int, int]:
        return (self.before.width(), self.before.height()) if self.before is not None else (0, 0)

    def visible_image_rect(self) -> QRect:
        x, y, w, h = self.transform.visible_rect(*self.image_size(), self.pane_width(), self.height())
        return QRect(x, y, w, h)

    # -------------------------------------------------------------- zoom

    def ratio(self) -> float:
        """Screen pixels to one of the view's (Qt's device-independent) pixels: 1.5 or 2 on a scaled screen
        (Windows at 150 %, a Mac's Retina display)."""
        return self.devicePixelRatioF() or 1.0

    def one_to_one(self) -> float:
        """The zoom of 100 %: one photo pixel to one screen pixel, as in Lightroom and Photoshop. A zoom of 1
        drew each photo pixel 2 × 2 screen pixels large on a Retina display, and smoothed: a 100 % that hid
        the noise and detail it is for judging."""
        return 1.0 / self.ratio()

    def fit(self) -> None:
        self.fit_mode = True
        self.transform.fit(*self.image_size(), self.pane_width(), self.height(), self.one_to_one())
        self._changed()

    def actual_size(self) -> None:
        self.fit_mode = False
        self.transform.set_zoom_at(self.one_to_one(), self.pane_width() / 2, self.height() / 2)
        self._changed()

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        anchor = anchor or QPointF(self.pane_width() / 2, self.height() / 2)
        self.fit_mode = False
        self.transform.zoom_at(factor, self._in_pane(anchor.x()), anchor.y())
        self._changed()

    def _changed(self) -> None:
        self.update()
        self.view_changed.emit()

    # -------------------------------------------------------------- painting

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#1e1e1e"))
        if self.before is None:
            p.setPen(QColor("#9e9e9e"))
            p.drawText(self.rect().adjusted(24, 0, -24, 0), int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
                       self.placeholder)
            return
        ratio = self.ratio()
        on_screen = self.transform.zoom * ratio  # screen pixels a photo pixel takes
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, on_screen < 2 and abs(on_screen - 1) > 1e-9)
        t = self.transform.on_pixels(ratio)
        if self.side_by_side:
            self._draw_panes(p, t, self.pane_width(), self.height(), GAP)
        else:
            self._draw(p, t, round(self.divider * self.width()), self.width(), self.height(), handle=True)
        self._label(p, self.zoom_text(), self.width(), left=True, bottom=self.height())  # (not in a saved image)
        self._draw_navigator(p)

    def zoom_text(self) -> str:
        """The zoom, bottom left: "Fit 37%", "100%". Whether the photo is seen pixel for pixel decides what
        its noise and detail can be judged from."""
        return f"Fit {self.zoom_percent()}%" if self.fit_mode else f"{self.zoom_percent()}%"

    def render_image(self) -> QImage | None:
        """What the view shows, at the photo's full resolution, with the divider where it is on screen: a
        before/after (or comparison) image to share. None without a photo."""
        if self.before is None:
            return None
        iw, ih = self.image_size()
        gap = max(GAP, iw // 100)
        image = QImage(2 * iw + gap if self.side_by_side else iw, ih, QImage.Format.Format_RGB32)
        image.fill(QColor("black"))
        split = round(self.transform.to_image(self.divider * self.width(), 0)[0])
        p = QPainter(image)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        font = p.font()
        font.setPixelSize(max(12, min(iw, ih) // 40))  # labels readable at the photo's size
        p.setFont(font)
        if self.side_by_side:
            self._draw_panes(p, ViewTransform(), iw, ih, gap)
        else:
            self._draw(p, ViewTransform(), min(iw, max(0, split)), iw, ih, handle=False)
        p.end()
        return off_screen(image)  # painted in the screen's colours; saved for any screen

    def _draw(self, p: QPainter, t: ViewTransform, split_x: int, width: int, height: int, *, handle: bool) -> None:
        """`before`, then the after (or preview, or comparison) sides split at `split_x`, and the labels;
        in view pixels through `t` (the widget) or in image pixels (an export)."""
        iw, ih = self.image_size()
        p.drawImage(QRectF(t.ox, t.oy, iw * t.zoom, ih * t.zoom), self._sized(self.before, p, t))
        if self.after is not None and not self.show_before:
            sides = [(self.after, QRect(split_x, 0, width - split_x, height))]
            if self.left is not None:
                sides.append((self.left, QRect(0, 0, split_x, height)))
            for image, clip in sides:
                p.save()
                p.setClipRect(clip)
                self._draw_over(p, t, image)
                p.restore()
            p.setPen(QPen(QColor("white"), max(2, width // 800)))
            p.drawLine(split_x, 0, split_x, height)
            if handle:
                p.setBrush(QColor("white"))
                p.drawEllipse(QPointF(split_x, height / 2), 7, 7)
            left_label, right_label = self.labels or ("Before", "After" if self.after_region is None else "Preview")
            self._label(p, left_label, width, left=True)
            self._label(p, right_label, width, left=False)
        elif self.show_before:
            self._label(p, "Original (Space)" if handle else "Original", width, left=True)

    def _draw_over(self, p: QPainter, t: ViewTransform, image: QImage) -> None:
        """`image` (the after, a preview or a comparison's crop) over `before`, where it belongs and at the
        strength's opacity; a crop's edge dashed."""
        region = self.after_region or QRect(0, 0, *self.image_size())
        x, y = t.to_view(region.x(), region.y())
        target = QRectF(x, y, region.width() * t.zoom, region.height() * t.zoom)
        p.save()
        p.setOpacity(self.after_opacity())
        p.drawImage(target, self._sized(image, p, t))
        p.restore()
        if self.after_region is not None:
            p.setPen(QPen(QColor(255, 255, 255, 140), 1, Qt.PenStyle.DashLine))
            p.drawRect(target)

    def _draw_panes(self, p: QPainter, t: ViewTransform, pane: int, height: int, gap: int) -> None:
        """Side by side: the left pane shows `before` (or a comparison's left crop over it), the right one
        the after (or preview, or the comparison's right crop) over `before`; each clipped to its pane,
        through the same transform."""
        iw, ih = self.image_size()
        left_label, right_label = self.labels or ("Before", "After" if self.after_region is None else "Preview")
        for k, (image, label) in enumerate(((self.left, left_label), (self.after, right_label))):
            p.save()
            p.translate(k * (pane + gap), 0)
            p.setClipRect(QRect(0, 0, pane, height))
            if k == 1 and self.after is None and not self.show_before:  # not the photo twice: say why
                p.setPen(QColor("#9e9e9e"))
                p.drawText(QRect(0, 0, pane, height), int(Qt.AlignmentFlag.AlignCenter), "Not restored yet")
                p.restore()
                continue
            p.drawImage(QRectF(t.ox, t.oy, iw * t.zoom, ih * t.zoom), self._sized(self.before, p, t))
            if image is not None and not self.show_before:
                self._draw_over(p, t, image)
            if self.after is not None and (k == 0 or not self.show_before):
                self._label(p, label, pane, left=True)
            elif k == 1 and self.show_before:
                self._label(p, "Original (Space)", pane, left=True)
            p.restore()

    def navigator_rect(self) -> QRectF | None:
        """Where the navigator is drawn: the whole photo small, bottom right, with the part in view framed
        (a click or a drag in it brings that part into view), while the photo does not fit in the view.
        At 100 % a 24 MP photo is some forty views: the navigator says where in it this one is."""
        iw, ih = self.image_size()
        _x, _y, w, h = self.transform.visible_rect(iw, ih, self.pane_width(), self.height())
        if self.before is None or (w >= iw and h >= ih):
            return None
        scale = NAVIGATOR / max(iw, ih)
        nw, nh = max(8.0, iw * scale), max(8.0, ih * scale)
        if nw > self.pane_width() / 2 or nh > self.height() / 2:
            return None  # (a view too small for it)
        pad = 12
        return QRectF(self.width() - nw - pad, self.height() - nh - pad, nw, nh)

    def _draw_navigator(self, p: QPainter) -> None:
        rect = self.navigator_rect()
        if rect is None:
            return
        iw, ih = self.image_size()
        small = ViewTransform(rect.width() / iw, rect.x(), rect.y())
        whole = self.after if self.after is not None and self.after_region is None and not self.show_before else None
        p.setOpacity(0.9)
        p.drawImage(rect, self._sized(whole or self.before, p, small))  # (the result: a dark photo is seen)
        p.setOpacity(1.0)
        p.setPen(QPen(QColor(0, 0, 0, 160), 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(rect)
        x, y, w, h = self.transform.visible_rect(iw, ih, self.pane_width(), self.height())
        p.setPen(QPen(QColor("white"), 1.5))
        p.drawRect(QRectF(rect.x() + x * small.zoom, rect.y() + y * small.zoom, w * small.zoom, h * small.zoom))

    def show_part_at(self, navigator_point: QPointF) -> None:
        """Bring the part of the photo under this point of the navigator to the view's centre."""
        rect = self.navigator_rect()
        if rect is None:
            return
        iw, ih = self.image_size()
        ix = min(iw, max(0.0, (navigator_point.x() - rect.x()) / rect.width() * iw))
        iy = min(ih, max(0.0, (navigator_point.y() - rect.y()) / rect.height() * ih))
        self.fit_mode = False
        self.transform.ox = self.pane_width() / 2 - ix * self.transform.zoom
        self.transform.oy = self.height() / 2 - iy * self.transform.zoom
        self._changed()

    def _sized(self, image: QImage, p: QPainter, t: ViewTransform) -> QImage:
        """`image`, or a copy of it halved as often as it can be while still having a pixel for each screen
        pixel it is drawn on. Qt draws an image made smaller than half its size by sampling it, which showed
        a photo's noise at *Fit* far stronger than it is at that size (noise of 40 grey levels drawn at 12 %:
        22.5, where an average over the pixels each screen pixel covers gives 4.8) and made fine patterns
        shimmer. The halvings average (Qt's smooth scaling), cost 47 ms once for a 24 MP photo, and are kept
        while the photo is shown."""
        scale = t.zoom * p.device().devicePixelRatioF()  # screen pixels a photo pixel covers
        if scale > 0.5:
            return image
        levels = self._halved.setdefault(image.cacheKey(), [image])
        while scale * 2 ** len(levels) <= 1 and min(levels[-1].width(), levels[-1].height()) >= 2:
            last = levels[-1]
            levels.append(last.scaled(last.width() // 2, last.height() // 2, Qt.AspectRatioMode.IgnoreAspectRatio,
                                      Qt.TransformationMode.SmoothTransformation))
        return levels[min(len(levels) - 1, int(math.log2(1 / scale)))]

    def _forget_halved(self) -> None:
        """Only the halvings of the images on show are kept."""
        shown = {image.cacheKey() for image in (self.before, self.after, self.left) if image is not None}
        self._halved = {key: levels for key, levels in self._halved.items() if key in shown}

    def _label(self, p: QPainter, text: str, width: int, *, left: bool, bottom: int | None = None) -> None:
        """`text` on a dark box in a top corner (or a bottom one, above `bottom`)."""
        fm = p.fontMetrics()
        pad = max(8, fm.height() // 2)
        w, h = fm.horizontalAdvance(text) + 14, fm.height() + 6
        r = QRect(pad if left else width - w - pad, pad if bottom is None else bottom - h - pad, w, h)
        p.fillRect(r, QColor(0, 0, 0, 150))
        p.setPen(QColor("white"))
        p.drawText(r, Qt.AlignmentFlag.AlignCenter, text)

    # -------------------------------------------------------------- input

    def _near_divider(self, x: float) -> bool:
        return (self.after is not None and not self.show_before and not self.side_by_side
                and abs(x - self.divider * self.width()) <= GRAB_PX)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        pos = event.position()
        navigator = self.navigator_rect()
        if navigator is not None and navigator.contains(pos):
            self._drag = "navigator"
            self.show_part_at(pos)
            return
        self._drag = "divider" if self._near_divider(pos.x()) else "pan"
        self._last = pos
        if self._drag == "divider":
            self.set_divider(divider_fraction(pos.x(), self.width()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if self._drag == "divider":
            self.set_divider(divider_fraction(pos.x(), self.width()))
        elif self._drag == "navigator":
            self.show_part_at(pos)
        elif self._drag == "pan" and self._last is not None:
            self.fit_mode = False
            self.transform.pan(pos.x() - self._last.x(), pos.y() - self._last.y())
            self._last = pos
            self._changed()
        else:
            navigator = self.navigator_rect()
            shape = (Qt.CursorShape.PointingHandCursor if navigator is not None and navigator.contains(pos)
                     else Qt.CursorShape.SplitHCursor if self._near_divider(pos.x()) else Qt.CursorShape.OpenHandCursor)
            self.setCursor(shape)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag, self._last = None, None

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        """From Fit, 100 % around the point clicked (the detail to judge, as a click does in Lightroom);
        from any other zoom, Fit again."""
        if self.fit_mode and self.before is not None and not self._near_divider(event.position().x()):
            self.zoom_by(self.one_to_one() / self.transform.zoom, event.position())
        else:
            self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps and self.before is not None:
            self.zoom_by(WHEEL_STEP ** steps, event.position())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        said = ""  # what a screen reader is told the key did: the view itself is only pixels
        if key in (Qt.Key.Key_Space, Qt.Key.Key_B) and not event.isAutoRepeat():
            self.toggle_before()
            said = "Original" if self.show_before else "Before and after"
        elif key == Qt.Key.Key_F:
            self.fit()
            said = self.zoom_text()
        elif key == Qt.Key.Key_1:
            self.actual_size()
            said = self.zoom_text()
        elif key == Qt.Key.Key_Z and not event.modifiers() & Qt.KeyboardModifier.ControlModifier:  # Lightroom's
            if self.fit_mode:
                self.actual_size()
            else:
                self.fit()
            said = self.zoom_text()
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal, Qt.Key.Key_Minus):
            self.zoom_by(1 / WHEEL_STEP if key == Qt.Key.Key_Minus else WHEEL_STEP)
            said = self.zoom_text()
        elif key in (Qt.Key.Key_Down, Qt.Key.Key_PageDown, Qt.Key.Key_Up, Qt.Key.Key_PageUp):
            self.step.emit(1 if key in (Qt.Key.Key_Down, Qt.Key.Key_PageDown) else -1)  # (the queue says which)
        elif key == Qt.Key.Key_S and not event.isAutoRepeat():
            self.set_side_by_side(not self.side_by_side)
            said = "Side by side" if self.side_by_side else "Divider"
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right) and not self.side_by_side:  # the divider; Shift: finely
            step = 0.01 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 0.05
            self.set_divider(self.divider + (step if key == Qt.Key.Key_Right else -step))
            said = f"Divider at {round(self.divider * 100)}%"
        else:
            super().keyPressEvent(event)
        if said and self.before is not None:
            announce(self, said)

    def zoom_percent(self) -> int:
        """The zoom as the *100%* button counts it: photo pixels to screen pixels."""
        return round(self.transform.zoom / self.one_to_one() * 100)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.DevicePixelRatioChange:  # moved to a screen scaled otherwise
            self._ratio_changed()
        return super().event(event)

    def _ratio_changed(self) -> None:
        """The same zoom in screen pixels on the new screen (100 % stays 100 %), or fitted again."""
        old, self._ratio = self._ratio, self.ratio()
        if self.fit_mode:
            self.fit()
        elif old != self._ratio:
            self.zoom_by(old / self._ratio)

    def resizeEvent(self, event) -> None:
        if self.fit_mode:
            self.transform.fit(*self.image_size(), self.pane_width(), self.height(), self.one_to_one())
            self.view_changed.emit()
