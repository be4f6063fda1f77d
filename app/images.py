"""Decoding images off the GUI thread: queue thumbnails and the compare view's before/after pair."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QColorSpace, QImage, QImageReader, QTransform

from app.queue_model import QueueItem
from app.tasks import TaskSet
from engine.cicp import Cicp, exif_means_adobe_rgb, find_nclx_in, find_png_cicp, to_standard_range
from engine.filetypes import AVIF_BRANDS, HEIF_EXTENSIONS, RAW_EXTENSIONS, iso_media_brand
from engine.icc_profiles import png_gamma_profile, png_gamma_states_colour

log = logging.getLogger("app.images")


# Qt refuses to decode images above 256 MB by default: a 35 MP 16-bit PNG or TIFF (RGBA64) already is. The
# engine accepts photos up to 200 MP (engine.imaging.MAX_PIXELS), 1.6 GB at 16 bits a channel.
ALLOCATION_LIMIT_MB = 2048
QImageReader.setAllocationLimit(ALLOCATION_LIMIT_MB)


def for_display(image: QImage) -> QImage:
    """The photo as the screen should get it: in sRGB colours (see `in_srgb`), 8 bits a channel (a 16-bit
    or float photo would hold twice or four times the memory), then in the screen's colours (`on_screen`)."""
    image = in_srgb(image)
    if image.isNull() or image.depth() <= 32:
        return on_screen(image)
    return on_screen(image.convertToFormat(QImage.Format.Format_ARGB32 if image.hasAlphaChannel()
                                           else QImage.Format.Format_RGB32))


_SRGB = QColorSpace(QColorSpace.NamedColorSpace.SRgb)
_screen: QColorSpace | None = None  # the screen's profile, when photos are converted for it


def use_display_profile(profile: bytes | None) -> str:
    """Show photos from now on through the screen's ICC `profile` (app.display_profile; None: as sRGB
    numbers, unconverted), and say what that means, for Settings and About."""
    global _screen
    _screen = None
    if not profile:
        return "none found; photos are shown as sRGB"
    space = QColorSpace.fromIccProfile(profile)
    if not space.isValid() or space.colorModel() is not QColorSpace.ColorModel.Rgb or not space.isValidTarget():
        log.info("the display's profile cannot be used by Qt (%d bytes)", len(profile))
        return "the display's profile is of a kind Qt cannot convert to; photos are shown as sRGB"
    name = space.description() or "the display's profile"
    if _same_as_srgb(space):
        return f"{name} (sRGB: nothing to convert)"
    _screen = space
    return name


def _same_as_srgb(space: QColorSpace) -> bool:
    """Whether converting to `space` would change no 8-bit colour by more than one level."""
    probe = QImage(6, 1, QImage.Format.Format_RGB32)
    for x, rgb in enumerate((0xFF0000, 0x00FF00, 0x0000FF, 0x808080, 0x202020, 0xFFFFFF)):
        probe.setPixel(x, 0, 0xFF000000 | rgb)
    probe.setColorSpace(_SRGB)
    converted = probe.convertedToColorSpace(space)
    return all(abs(getattr(probe.pixelColor(x, 0), c)() - getattr(converted.pixelColor(x, 0), c)()) <= 1
               for x in range(6) for c in ("red", "green", "blue"))


def on_screen(image: QImage) -> QImage:
    """`image` (in sRGB, or untagged, which viewers take as sRGB) in the screen's colours, where a display
    profile is in use (`use_display_profile`); as it is otherwise."""
    space = _screen
    if space is None or image.isNull():
        return image
    if image.format() not in (QImage.Format.Format_RGB32, QImage.Format.Format_ARGB32):
        image = image.convertToFormat(QImage.Format.Format_ARGB32 if image.hasAlphaChannel()
                                      else QImage.Format.Format_RGB32)  # (gray, 24-bit: as Qt converts RGB)
    elif not image.colorSpace().isValid():
        image = image.copy()  # (the tag below must not change the caller's image)
    if not image.colorSpace().isValid():
        image.setColorSpace(_SRGB)
    converted = image.convertedToColorSpace(space)
    return image if converted.isNull() else converted


def off_screen(image: QImage) -> QImage:
    """What `on_screen` made of a photo (painted by the view) back in sRGB, to be saved for other screens."""
    space = _screen
    if space is None or image.isNull():
        return image
    image = image.copy()
    image.setColorSpace(space)
    converted = image.convertedToColorSpace(_SRGB)
    return image if converted.isNull() else converted


def in_srgb(image: QImage) -> QImage:
    """A photo tagged with another RGB profile (Adobe RGB from a camera, Display P3 from a phone) or a gray
    one (Gray Gamma 2.2) converted to sRGB, as other viewers show it; Qt would paint its numbers as sRGB,
    washed out. The files themselves keep their profile: the engine restores in sRGB numbers and saves in
    the photo's own space. A CMYK photo (a print file) goes through its profile to sRGB, as the engine reads
    it; Qt would paint 1 − C, 1 − M, 1 − Y."""
    space = image.colorSpace()
    if image.isNull() or not space.isValid() or space == _SRGB:
        return image
    if space.colorModel() is QColorSpace.ColorModel.Cmyk:
        converted = image.convertedToColorSpace(_SRGB, QImage.Format.Format_RGB32)
    elif space.colorModel() in (QColorSpace.ColorModel.Rgb, QColorSpace.ColorModel.Gray):  # (gray stays gray)
        converted = image.convertedToColorSpace(_SRGB)
    else:
        return image
    return image if converted.isNull() else converted


def _read_for_display(path: str) -> QImage:
    return for_display(read_image(path))  # both in the worker thread: converting 100 MP takes a while


def _read_thumbnail(path: str, max_side: int) -> QImage:
    return on_screen(in_srgb(read_image(path, max_side)))


def read_image(path: str, max_side: int | None = None) -> QImage:
    """Decode with EXIF orientation applied (as the engine does), optionally scaled down. Thread-safe.

    Qt decodes what it can; camera RAW (which Qt would show as its embedded thumbnail, if at all), HEIF and
    AVIF (no Qt plugin) are decoded as the engine decodes them, so before and after match."""
    if not os.path.isfile(path):  # gone, or a pipe: opening one waits for a writer, possibly forever
        log.debug("not a file: %s", path)
        return QImage()
    suffix = Path(path).suffix.lower()
    if suffix in RAW_EXTENSIONS:
        image = _raw_preview(path) if max_side else QImage()
        return _scaled(image if not image.isNull() else _develop_raw(path, half_size=bool(max_side)), max_side)
    fd = None
    try:
        reader, fd = _reader(path)
        if reader is None:
            return QImage()
        reader.setAutoTransform(True)
        if max_side:
            size = reader.size()
            if size.isValid() and max(size.width(), size.height()) > max_side:
                reader.setScaledSize(_fitted(size, max_side))
        # Qt orients JPEG and TIFF itself, but ignores the EXIF of PNG and WebP, which the engine honours
        kind = bytes(reader.format())
        orientation = _exif_orientation(path) if kind in (b"png", b"webp") else 1
        image = reader.read()
        error = reader.errorString()
        del reader
    finally:
        if fd is not None:
            os.close(fd)
    if image.isNull():
        brand = _iso_brand(path)  # HEIC and AVIF, named so or not (a phone's HEIC saved as .jpg)
        if suffix in PILLOW_EXTENSIONS or brand is not None:
            return _scaled(_decode_with_pillow(path, brand in AVIF_BRANDS, max_side), max_side)
        log.debug("cannot decode %s: %s", path, error)
        return image
    if kind == b"png":  # Qt ignores a PNG's cICP chunk, and takes a gAMA of 1/2.2 for a pure 2.2 curve
        image = _png_with_gamma(path, _png_with_codes(path, image))
    elif not image.colorSpace().isValid() and not image.isGrayscale() and _exif_says_adobe_rgb(path):
        image.setColorSpace(QColorSpace(QColorSpace.NamedColorSpace.AdobeRgb))  # as the engine reads it
    if orientation != 1:
        image = image.transformed(_ORIENTATIONS[orientation])
    return image


def _png_with_codes(path: str, image: QImage) -> QImage:
    """A PNG whose colours are given by a cICP chunk, as the engine reads it: an HDR one tone-mapped to
    standard range, and shown through the profile the codes stand for."""
    try:
        with open(path, "rb") as f:
            codes = find_png_cicp(f)
    except OSError:
        return image
    if codes is None or codes.is_srgb:
        return image
    if codes.recodes:
        import numpy as np

        w, h = image.width(), image.height()
        alpha = image.hasAlphaChannel()
        deep = image.convertToFormat(QImage.Format.Format_RGBA64)
        rows = np.frombuffer(deep.constBits(), np.uint16).reshape(h, deep.bytesPerLine() // 2)
        samples = rows[:, :w * 4].reshape(h, w, 4)
        out = np.empty((h, w, 4), np.uint8)
        out[..., :3] = _recoded_8bit(samples[..., :3], 65535.0, codes)
        out[..., 3] = np.floor(samples[..., 3] / 257.0 + 0.5)
        image = QImage(out.tobytes(), w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
        if not alpha:
            image = image.convertToFormat(QImage.Format.Format_RGB888)
    if not codes.srgb_primaries and not image.isGrayscale():  # (gray is gray in any primaries)
        image.setColorSpace(QColorSpace.fromIccProfile(codes.icc_profile()))
    return image


def _png_with_gamma(path: str, image: QImage) -> QImage:
    """A PNG whose colours only a gAMA chunk (with cHRM) states, shown as the engine reads it
    (`icc_profiles.png_gamma_profile`): a gAMA of 1/2.2 as sRGB, as libpng and web browsers take it (Qt's
    pure 2.2 curve made 13 of 255 a 5), another through the profile the chunks describe. Qt gave such a
    PNG a gamma colour space; any other image is returned as it is, without opening the file again."""
    space = image.colorSpace()
    if not space.isValid() or space.transferFunction() is not QColorSpace.TransferFunction.Gamma:
        return image
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:  # (the header's chunks only; the pixels stay Qt's)
            info, gray = dict(im.info), im.mode in ("L", "LA", "I", "I;16", "1")
    except (OSError, ValueError, UnidentifiedImageError, SyntaxError):
        return image
    if not png_gamma_states_colour(info):
        return image  # (a profile with a gamma curve: Qt reads it as the engine does)
    profile = png_gamma_profile(info, gray)
    image.setColorSpace(QColorSpace.fromIccProfile(profile) if profile else QColorSpace())
    return image


PILLOW_EXTENSIONS = HEIF_EXTENSIONS | {".avif"}


def _iso_brand(path: str) -> bytes | None:
    """The file's ISO media brand (HEIC, AVIF), None for any other or an unreadable file."""
    try:
        with open(path, "rb") as f:
            return iso_media_brand(f.read(12))
    except OSError:
        return None


def _reader(path: str) -> tuple[QImageReader | None, int | None]:
    """A reader of the file, and the descriptor to close after reading (or None).

    A POSIX file name that is not UTF-8 (names are bytes there, which Qt cannot open by name) is opened by
    Python and read through /dev/fd/N. Not through a QBuffer made in Python: Qt calls that buffer's methods
    back in Python from the decoding thread, holding its image-format lock while it waits for the GIL, and
    another thread's reader waits for that lock holding the GIL (a deadlock seen in the tests)."""
    try:
        path.encode("utf-8")
        return QImageReader(path), None
    except UnicodeEncodeError:
        pass
    if not os.path.isdir("/dev/fd"):  # (Windows: a name with a lone surrogate; not worth another path)
        log.debug("cannot open %r by name", path)
        return None, None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        log.debug("cannot read %s: %s", path, exc)
        return None, None
    return QImageReader(f"/dev/fd/{fd}"), fd


def _to_qimage(pixels) -> QImage:
    """An 8-bit array as a QImage of its own: H×W×3 RGB, or one channel (a monochrome camera's RAW comes
    back from LibRaw as H×W×1) as gray. Read as RGB, one channel's bytes were a third of what Qt read:
    it crashed the window."""
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[..., 0]
    h, w = pixels.shape[:2]
    if pixels.ndim == 2:
        return QImage(pixels.tobytes(), w, h, w, QImage.Format.Format_Grayscale8).copy()
    if pixels.shape[2] != 3:
        raise ValueError(f"expected RGB or gray pixels, got shape {pixels.shape}")
    return QImage(pixels.tobytes(), w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def _fitted(size: QSize, max_side: int) -> QSize:
    """`size` scaled to fit a `max_side` square, at least 1 pixel each way: a long panorama strip's
    thumbnail height rounded to 0, and Qt returned no image at all."""
    size = size.scaled(max_side, max_side, Qt.AspectRatioMode.KeepAspectRatio)
    return QSize(max(1, size.width()), max(1, size.height()))


def _scaled(image: QImage, max_side: int | None) -> QImage:
    if max_side and not image.isNull() and max(image.width(), image.height()) > max_side:
        return image.scaled(_fitted(image.size(), max_side), Qt.AspectRatioMode.IgnoreAspectRatio,
                            Qt.TransformationMode.SmoothTransformation)
    return image


# LibRaw's `flip` (the camera's orientation) → the turn that shows its embedded preview upright
_RAW_FLIPS = {3: QTransform().rotate(180), 5: QTransform().rotate(270), 6: QTransform().rotate(90)}


def _raw_preview(path: str) -> QImage:
    """The JPEG preview the camera embedded in a RAW file, turned as LibRaw turns the photo: a thumbnail in
    milliseconds instead of developing the RAW (seconds for 24 MP). Null when there is none."""
    try:
        import rawpy

        with open(path, "rb") as f, rawpy.imread(f) as raw:
            thumb = raw.extract_thumb()
            flip = raw.sizes.flip
    except Exception as exc:  # noqa: BLE001 - no preview, or not readable: develop the RAW instead
        log.debug("no embedded preview in %s: %s", path, exc)
        return QImage()
    if thumb.format != rawpy.ThumbFormat.JPEG:
        return QImage()
    image = QImage.fromData(thumb.data, "JPEG")  # its own EXIF orientation, if any, is ignored: the
    return image.transformed(_RAW_FLIPS[flip]) if flip in _RAW_FLIPS and not image.isNull() else image  # RAW's counts


def _develop_raw(path: str, half_size: bool) -> QImage:
    """A camera RAW developed like engine.imaging does (camera white balance, no auto-brightening, sRGB
    gamma, LibRaw's rotation), in 8 bits for the screen; half size for thumbnails. Null if it cannot."""
    try:
        import numpy as np
        import rawpy

        with open(path, "rb") as f, rawpy.imread(f) as raw:
            rgb = raw.postprocess(use_camera_wb=True, no_auto_bright=True, output_bps=8, gamma=(2.4, 12.92),
                                  half_size=half_size)
        return _to_qimage(np.ascontiguousarray(rgb))
    except Exception as exc:  # noqa: BLE001 - any LibRaw or file error: the view says it cannot show it
        log.debug("cannot develop %s: %s", path, exc)
        return QImage()


def _decode_with_pillow(path: str, avif: bool, max_side: int | None = None) -> QImage:
    """HEIF/HEIC through pillow-heif and AVIF through Pillow (as the engine reads them), EXIF orientation
    applied, colour from the ICC profile or else the CICP codes (an HDR photo tone-mapped as the engine does,
    engine.cicp). Null if it cannot."""
    try:
        import numpy as np
        from PIL import Image

        if not avif:  # Pillow reads AVIF itself; pillow-heif is slow to import
            import pillow_heif

            pillow_heif.register_heif_opener()
        with Image.open(path) as im:
            icc = im.info.get("icc_profile")
            codes = None if icc else _colour_codes(path, im, avif)
            if codes is not None and codes.recodes:
                rgb = _standard_range(path, im, codes, avif, max_side)
            else:
                rgb = np.asarray(im.convert("RGB"))
            orientation = im.getexif().get(0x0112, 1)
        image = _to_qimage(np.ascontiguousarray(rgb))
        if orientation in _ORIENTATIONS:
            image = image.transformed(_ORIENTATIONS[orientation])
        if codes is not None and not codes.srgb_primaries:
            icc = codes.icc_profile()
        if icc:  # an iPhone's Display P3, for one: the view converts it like Qt-decoded photos
            image.setColorSpace(QColorSpace.fromIccProfile(icc))
        return image
    except Exception as exc:  # noqa: BLE001 - any decoder error: the view says it cannot show it
        log.debug("cannot decode %s: %s", path, exc)
        return QImage()


def _colour_codes(path: str, im, avif: bool) -> Cicp | None:
    if not avif:
        return Cicp.from_nclx(im.info.get("nclx_profile"))
    with open(path, "rb") as f:
        return find_nclx_in(f)


def _standard_range(path: str, im, codes: Cicp, avif: bool, max_side: int | None):
    """The pixels of a photo whose codes `recodes` (HDR, linear light) with the sRGB curve, 8-bit, as stored;
    a HEIF read at its full 10 or 12 bits. For a thumbnail (`max_side`) every nth pixel is enough, taken
    before the tone mapping, which costs seconds for a 24 MP photo."""
    import numpy as np

    if avif:  # (Pillow reads AVIF at 8 bits)
        samples, scale = np.asarray(im.convert("RGB")), 255.0
    else:
        import pillow_heif

        heif = pillow_heif.open_heif(path, convert_hdr_to_8bit=False)
        bits = int(heif.info.get("bit_depth") or 16)
        samples, scale = np.asarray(heif), float(((1 << bits) - 1) << (16 - bits))
    step = max(1, min(samples.shape[:2]) // (2 * max_side)) if max_side else 1
    samples = samples[::step, ::step]
    samples = np.repeat(samples[..., None], 3, axis=2) if samples.ndim == 2 else samples[..., :3]
    return _recoded_8bit(samples, scale, codes)


def _recoded_8bit(samples, scale: float, codes: Cicp):
    """RGB integer samples (full scale `scale`) recoded as `codes` says (engine.cicp), as 8-bit RGB."""
    import numpy as np

    rgb = to_standard_range(np.multiply(samples, np.float32(1 / scale), dtype=np.float32), codes)
    rgb *= 255
    rgb += 0.5
    return rgb.astype(np.uint8)  # (floor: the values are not negative)


# EXIF orientation → the transform that shows the photo upright (Qt's y axis points down: rotate(90) turns
# clockwise), as PIL.ImageOps.exif_transpose and engine.imaging apply it.
_ORIENTATIONS = {2: QTransform().scale(-1, 1), 3: QTransform().rotate(180), 4: QTransform().scale(1, -1),
                 5: QTransform().rotate(90) * QTransform().scale(-1, 1), 6: QTransform().rotate(90),
                 7: QTransform().rotate(90) * QTransform().scale(1, -1), 8: QTransform().rotate(270)}


def _exif_says_adobe_rgb(path: str) -> bool:
    """A camera set to Adobe RGB marks its JPEGs so in their EXIF, without a profile (engine.cicp)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return exif_means_adobe_rgb(im.getexif())
    except Exception:  # noqa: BLE001 - any decoder error: shown as sRGB
        return False


def _exif_orientation(path: str) -> int:
    """The EXIF orientation tag (1 when absent, damaged or unreadable); reads the header only."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            value = im.getexif().get(0x0112, 1)
    except Exception:  # noqa: BLE001 - any decoder error: show the photo as stored
        return 1
    return value if value in _ORIENTATIONS else 1


_plugins_loaded = False


def load_format_plugins() -> None:
    """Make Qt's image-format plugins (JPEG, TIFF, WebP, GIF…) now, on the GUI thread, before any image is
    read in a worker thread. Qt makes a plugin when a reader first needs it and moves it to the GUI thread,
    which takes a lock that the GUI thread may hold while it waits for the GIL (`disconnect` asks Python
    whether a slot is overridden); the worker's reader holds the GIL while it waits for that lock. The test
    suite hung so, for good, at a window's first thumbnail; the app could too. Listing the readable formats
    makes every plugin, here."""
    global _plugins_loaded
    if not _plugins_loaded:
        QImageReader.supportedImageFormats()
        _plugins_loaded = True


class ImageLoader(QObject):
    thumbnail_ready = Signal(str, QImage)  # item id, image
    pair_ready = Signal(int, object, object)  # request token, before (QImage|None), after (QImage|None)

    def __init__(self, thumb_size: int = 48, parent: QObject | None = None) -> None:
        super().__init__(parent)
        load_format_plugins()  # (made first in the window, before the readers: preview crops use them too)
        self.thumb_size = thumb_size
        self.tasks = TaskSet("images")
        self._token = 0
        self._semaphore: asyncio.Semaphore | None = None

    def request_thumbnails(self, items: list[QueueItem]) -> None:
        if items:
            self.tasks.spawn(self._thumbnails([(i.id, i.path) for i in items]))

    def load_pair(self, before: str, after: str | None) -> int:
        """Decode both images in the background; `pair_ready` carries the returned token (latest wins)."""
        self._token += 1
        self.tasks.spawn(self._pair(self._token, before, after))
        return self._token

    async def _thumbnails(self, items: list[tuple[str, str]]) -> None:
        loop = asyncio.get_running_loop()
        for item_id, path in items:
            image = await loop.run_in_executor(None, _read_thumbnail, path, self.thumb_size * 2)
            if not image.isNull():
                self.thumbnail_ready.emit(item_id, image)

    async def _pair(self, token: int, before: str, after: str | None) -> None:
        loop = asyncio.get_running_loop()
        b = await loop.run_in_executor(None, _read_for_display, before)
        if token != self._token:
            return
        a = await loop.run_in_executor(None, _read_for_display, after) if after else None
        if token != self._token:
            return
        self.pair_ready.emit(token, None if b.isNull() else b, None if a is None or a.isNull() else a)

    async def close(self) -> None:
        await self.tasks.cancel_all()
