"""Decoding a photo to float RGB in [0, 1] with its metadata, EXIF orientation applied: Pillow for 8-bit
formats, OpenCV for 16-bit data, LibRaw for RAW (`raw`); small reads for detection and previews."""

from __future__ import annotations

import io
import logging
import os
import stat
import struct
import warnings
import zlib
from contextlib import contextmanager, suppress
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from engine.errors import (
    HourglassError,
    ImageTooLargeError,
    InputNotFoundError,
    InputUnreadableError,
    UnsupportedInputError,
)
from engine.filetypes import AVIF_BRANDS, HEIF_EXTENSIONS, RAW_EXTENSIONS, is_photo, iso_media_brand
from engine.imaging.colour_codes import apply_cicp, deep_heif_pixels, is_deep_heif, photo_cicp
from engine.imaging.data import (
    _ALPHA_MODES,
    _PIL_FORMATS,
    MAX_PIXELS,
    ImageData,
    _check_size,
    _register_heif,
    _shrink_factor,
    _shrunk,
    _split_channels,
)
from engine.imaging.linear_light import recode_linear
from engine.imaging.location import GPS_IFD, gps_coordinates, xmp_has_gps
from engine.imaging.metadata import (
    _ICC_TAG,
    _IPTC_TAG,
    _XMP_TAG,
    _adobe_rgb_mark,
    _clean_exif,
    _png_gamma_mark,
    _read_dpi,
    _read_exif,
    _read_icc,
    _read_iptc,
    _read_png_text,
    _read_xmp,
    _reset_xmp_orientation,
    _tiff_entries,
    _tiff_ifd0,
    _tiff_number,
)
from engine.imaging.provenance import events_of, made_by_hourglass, provenance_of
from engine.imaging.raw import _develop_raw, _read_raw, _tiff_raw_exif
from engine.imaging.working_space import to_srgb
from engine.imaging.xmp_attachments import without_attachments
from engine.imaging.xmp_sidecar import photo_xmp

log = logging.getLogger(__name__)


def read_provenance(path) -> dict[str, str]:
    """How a result records it was made (`provenance`), read from its XMP without decoding its pixels;
    empty for a file that records nothing (not saved by Hourglass, a BMP, unreadable)."""
    return provenance_of(_file_xmp(Path(path)))


def read_made_by(path) -> str:
    """How Hourglass made this file, when it is one of its results (`made_by_hourglass`); '' otherwise."""
    return made_by_hourglass(_file_xmp(Path(path)))


def read_history(path) -> tuple[dict[str, str], ...]:
    """The save events Hourglass recorded in a result's XMP History (restored, saved again), oldest first."""
    return events_of(_file_xmp(Path(path)))


@contextmanager
def _opened_quietly(path: Path):
    """`path` opened by Pillow for its metadata (pixels not decoded), HEIF included, with Pillow's notes on
    damaged EXIF kept off the terminal: filtered before opening, as Pillow reads the EXIF then."""
    if path.suffix.lower() in HEIF_EXTENSIONS:
        _register_heif()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with Image.open(path) as img:
            yield img


def read_location(path) -> dict | None:
    """Where a file says it was taken, without decoding its pixels: {"latitude", "longitude" (degrees, from
    its EXIF GPS directory; None when only XMP holds them), "in": ["EXIF", "XMP"]}; None when it holds no
    coordinates (or cannot be read). For checking a result before sharing it (`hourglass info`)."""
    return _location_and_xmp(Path(path))[0]


def read_result_notes(path) -> tuple[dict[str, str], tuple[dict[str, str], ...], dict | None]:
    """What `hourglass info` says of a result, from one opening of the file: its record (`read_provenance`),
    its History (`read_history`, empty without a record) and where it says it was taken (`read_location`)."""
    location, xmp = _location_and_xmp(Path(path))
    record = provenance_of(xmp)
    return record, events_of(xmp) if record else (), location


def _location_and_xmp(path: Path) -> tuple[dict | None, bytes | None]:
    gps: dict = {}
    xmp = None
    try:
        with _opened_quietly(path) as img:  # (once for both)
            xmp = _xmp_of(img)
            gps = dict(img.getexif().get_ifd(GPS_IFD))
    except (OSError, ValueError, SyntaxError, struct.error, Image.DecompressionBombError) as e:
        log.info("%s: no EXIF read (%s)", path.name, e)
    where = gps_coordinates(gps)
    found = (["EXIF"] if gps else []) + (["XMP"] if xmp_has_gps(xmp) else [])
    if not found:
        return None, xmp
    return {"latitude": where[0] if where else None, "longitude": where[1] if where else None, "in": found}, xmp


def _file_xmp(path: Path) -> bytes | None:
    """A file's XMP packet, without decoding its pixels; None when it has none or cannot be read."""
    try:
        with _opened_quietly(path) as img:
            return _xmp_of(img)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        log.info("%s: no XMP read (%s)", path.name, e)
        return None


def _xmp_of(img: Image.Image) -> bytes | None:
    """An opened file's XMP packet (a TIFF's from its tag, where Pillow does not put it in `info`)."""
    xmp = _read_xmp(img)
    if xmp is None and img.format == "TIFF":
        packet = img.tag_v2.get(_XMP_TAG)
        xmp = packet if isinstance(packet, bytes) else None
    return xmp


def read_image(path, at_least: int | None = None) -> ImageData:
    """Decode any supported photo to upright float RGB with its metadata, or raise a user-facing error.

    `at_least`: for looking at a photo small, never for restoring it: the decoded pixels are shrunk by a whole
    factor (box average) while still integers, keeping at least that many pixels a side, so a 100 MP photo
    never needs its full float copy. (RAW files have their own half-size path: `read_small`.)"""
    path = Path(path)
    head = _read_head(path)
    if path.suffix.lower() in RAW_EXTENSIONS:
        return _read_raw(path)
    brand = iso_media_brand(head)
    if brand is not None and brand not in AVIF_BRANDS or path.suffix.lower() in HEIF_EXTENSIONS:
        _register_heif()  # (Pillow reads AVIF itself)
    with _decode_errors(path), warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        warnings.simplefilter("ignore", UserWarning)  # Pillow's notes on damaged metadata it skips
        try:
            img = Image.open(path)
        except UnidentifiedImageError:
            if head[:4] in _TIFF_HEADS:  # float samples, which Pillow cannot hold
                return _read_tiff_with_opencv(path, at_least)
            raise
        with img:
            fmt = _PIL_FORMATS.get(img.format or "")
            if fmt is None:
                raise UnsupportedInputError(
                    f'"{path.name}" is an image in {img.format} format, which Hourglass cannot open. '
                    "Convert it to JPEG, PNG or TIFF first.")
            _check_size(path, *img.size)
            pixels = _cv2_pixels(path, at_least) if _is_high_bit_depth(img, head) else None
            if is_deep_heif(img, fmt):  # (pillow-heif's plugin would cut 10 or 12 bits to 8)
                pixels = deep_heif_pixels(path, at_least)
            if pixels is None:
                img.load()  # decode now, so damaged data fails here and not in the middle of a job
                pixels = _pillow_pixels(_reduced(img, at_least) if at_least else img)
            exif, orientation = _read_exif(img)
            gray = _is_gray(img)
            icc, dpi, xmp, iptc = _read_icc(img, gray), _read_dpi(img), _read_xmp(img), _read_iptc(img, path)
            text = _read_png_text(img)
            cicp = photo_cicp(img, fmt, path, icc)
            if icc is None and cicp is None:  # colour the file implies: an EXIF mark, a PNG's gAMA
                icc = _adobe_rgb_mark(img, gray) or _png_gamma_mark(img, gray)
            # MPO JPEGs carry camera previews and HEIF auxiliary images as extra frames: not the user's content
            frames = _frame_count(img) if fmt in ("PNG", "TIFF", "WEBP", "AVIF") else 1
    rgb, alpha, depth = pixels
    if cicp is not None:
        icc = apply_cicp(rgb, cicp, gray)
    if icc and not gray:
        icc = recode_linear(rgb, icc) or icc
    if orientation != 1:
        rgb, alpha = _orient(rgb, orientation), _orient(alpha, orientation)
    own_space = to_srgb(rgb, icc) if icc else None
    xmp = _kept_xmp(path, xmp, orientation)
    return ImageData(rgb, alpha, depth, fmt, exif, icc, dpi, xmp, path, frames, gray, iptc, text,
                     hdr=cicp.hdr_name if cicp is not None else None, own_space=own_space)


def _frame_count(img: Image.Image) -> int:
    """Frames or pages in the file; 1 when the later ones cannot be counted (a damaged second page of a
    TIFF: Pillow raises TypeError, or KeyError for a compression it does not know), since the first, the one
    restored, was read."""
    try:
        return int(getattr(img, "n_frames", 1) or 1)
    except (TypeError, KeyError, IndexError, OSError, ValueError, SyntaxError, EOFError, struct.error) as e:
        log.info("the pages after the first cannot be read: %s", e)
        return 1


def _kept_xmp(path: Path, xmp: bytes | None, orientation: int) -> bytes | None:
    """The photo's XMP with its sidecar merged in (`xmp_sidecar.photo_xmp`), its orientation reset where the
    pixels were turned upright or a sidecar came in: the result's pixels are upright as written (a sidecar's
    own orientation, a rotation in digiKam, is not applied)."""
    with_sidecar = without_attachments(photo_xmp(path, xmp))
    return _reset_xmp_orientation(with_sidecar) if orientation != 1 or with_sidecar is not xmp else xmp


_TIFF_HEADS = (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")  # classic and BigTIFF, either byte order


def _read_tiff_with_opencv(path: Path, at_least: int | None) -> ImageData:
    """A TIFF Pillow cannot open: float samples (32- or 16-bit), as HDR merges and RAW developers
    (darktable, RawTherapee, Photoshop's 32-bit mode) export them. OpenCV decodes the pixels (float values
    above 1 are clipped, or rolled off where the profile says linear light: Hourglass restores displayable
    photos, and writes such a result as a 16-bit TIFF); EXIF, ICC, XMP and IPTC are read from the file's
    first directory."""
    e, tags = _tiff_entries(path, (256, 257, 262, 277, _ICC_TAG, _XMP_TAG, _IPTC_TAG))
    width, height = _tiff_number(tags.get(256), e), _tiff_number(tags.get(257), e)
    with _decode_errors(path):
        if width and height:
            _check_size(path, width, height)
        pixels = _cv2_pixels(path, at_least, clip=False)
        if pixels is None:
            raise InputUnreadableError(f'"{path.name}" is a TIFF whose kind of pixels Hourglass cannot decode '
                                       "(or it is damaged); save it as an 8- or 16-bit TIFF.")
    rgb, alpha, depth = pixels
    if alpha is None and _tiff_number(tags.get(277), e) in (2, 4):  # SamplesPerPixel: alpha OpenCV dropped
        raise UnsupportedInputError(f'"{path.name}" is a kind of TIFF whose transparency Hourglass cannot read '
                                    "(gray with transparency at 16 bits); save it without transparency or "
                                    "as RGB.")
    exif_bytes, orientation = None, 1
    with suppress(OSError, ValueError, TypeError, KeyError, IndexError, SyntaxError, struct.error):
        exif = _tiff_raw_exif(path.read_bytes())  # (a BigTIFF: None)
        if exif is not None:
            exif_bytes, orientation = _clean_exif(exif, tiff_file=True)
    gray = _tiff_number(tags.get(262), e) in (0, 1)  # Photometric: stored as gray, as Pillow's modes say elsewhere
    icc = tags.get(_ICC_TAG)
    icc = icc if icc and icc[16:20] == (b"GRAY" if gray else b"RGB ") else None
    recoded = recode_linear(rgb, icc) if icc and not gray else None  # (highlights above white rolled off)
    if recoded is None:
        np.clip(rgb, 0, 1, out=rgb)
    icc = recoded or icc
    xmp = tags.get(_XMP_TAG) or None
    iptc = tags.get(_IPTC_TAG)
    if orientation != 1:
        rgb, alpha = _orient(rgb, orientation), _orient(alpha, orientation)
    own_space = to_srgb(rgb, icc) if icc else None
    xmp = _kept_xmp(path, xmp, orientation)
    return ImageData(rgb, alpha, depth, "TIFF", exif_bytes, icc, None, xmp, path, 1, gray,
                     iptc if iptc and iptc.startswith(b"\x1c") else None, own_space=own_space)


def read_small(path, at_least: int, decoded: np.ndarray | None = None) -> np.ndarray:
    """Upright float RGB of a photo for looking at it small (the detector's ≤384 px working copy): a JPEG is
    decoded at a reduced scale by the decoder itself (DCT scaling: 1/2 to 1/8 of the side, never below
    `at_least` pixels on either side), which for a 24 MP photo costs a tenth of a full decode, and a camera
    RAW is developed at half size when that keeps `at_least` pixels a side; any other photo is decoded in
    full and shrunk by a whole factor before its float copy is made (`read_image(at_least=)`), or, when its
    pixels are at hand already (`decoded`), those are shrunk the same way: restoring with auto-detection
    sees what `hourglass detect` and the app's analysis see."""
    path = Path(path)
    if path.suffix.lower() in RAW_EXTENSIONS:
        return _develop_raw(path, at_least, full=decoded)
    if _read_head(path).startswith(b"\xff\xd8\xff"):  # a JPEG, whatever its name says
        with _decode_errors(path), warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            warnings.simplefilter("ignore", UserWarning)
            with Image.open(path) as img:
                if img.format in ("JPEG", "MPO") and img.mode in ("RGB", "L"):  # (CMYK: through its profile)
                    _check_size(path, *img.size)
                    img.draft(img.mode, (at_least, at_least))
                    rgb = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
                    gray = img.mode == "L"  # (in sRGB numbers, as `read_image` gives them)
                    to_srgb(rgb, _read_icc(img, gray) or _adobe_rgb_mark(img, gray))
                    _exif, orientation = _read_exif(img)
                    return _orient(rgb, orientation) if orientation != 1 else rgb
    return _shrunk(decoded, at_least) if decoded is not None else read_image(path, at_least).rgb


def reads_small_itself(path) -> bool:
    """Whether `read_small` decodes this photo small by itself (a JPEG, a camera RAW) rather than shrinking
    a full decode: detecting it ahead of its restore then costs no more than detecting it while restoring,
    which for other formats reuses the pixels the restore decodes anyway."""
    path = Path(path)
    try:
        return path.suffix.lower() in RAW_EXTENSIONS or _read_head(path).startswith(b"\xff\xd8\xff")
    except HourglassError:  # (a missing or special file: its restore says what is wrong)
        return False


def photo_size(path) -> tuple[int, int] | None:
    """The photo's upright width and height from its header, without decoding its pixels; None where the
    header does not tell (the GUI's estimate of a batch's time left then goes by the photos' mean time)."""
    path = Path(path)
    try:
        head = _read_head(path)  # (refuses a pipe before anything opens it)
        if path.suffix.lower() in RAW_EXTENSIONS:
            import rawpy

            with open(path, "rb") as f, rawpy.imread(f) as raw:
                s = raw.sizes
                return (s.height, s.width) if s.flip in (5, 6) else (s.width, s.height)
        if path.suffix.lower() in HEIF_EXTENSIONS or iso_media_brand(head) is not None:
            _register_heif()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as img:
                w, h = img.size
                orientation = (_png_orientation(path) if img.format == "PNG" and "exif" not in img.info
                               else img.getexif().get(0x0112, 1))
    except Exception:  # noqa: BLE001 - (any damage: the photo's own read will say what is wrong)
        return None
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


def _png_orientation(path: Path) -> int:
    """The orientation in a PNG's eXIf chunk after its pixels, found by stepping over the chunks: Pillow's
    getexif() decodes the whole image to look there, which made the analysis of a PNG without EXIF (most
    of them) decode it once more only for its size (17 ms a photo here, seconds for a large scan)."""
    with open(path, "rb") as f:
        f.seek(8)  # (the signature: Pillow has opened it as a PNG)
        while len(head := f.read(8)) == 8:
            length, kind = int.from_bytes(head[:4], "big"), head[4:]
            if kind == b"eXIf":
                exif = Image.Exif()
                exif.load(f.read(length))
                return exif.get(0x0112, 1)
            if kind == b"IEND":
                break
            f.seek(length + 4, os.SEEK_CUR)  # its data and CRC
    return 1


_REDUCIBLE_MODES = frozenset({"L", "LA", "RGB", "RGBA", "RGBX", "CMYK", "I", "F"})  # (not palettes: indices)


def _reduced(img: Image.Image, at_least: int) -> Image.Image:
    factor = _shrink_factor(*img.size, at_least)
    return img.reduce(factor) if factor > 1 and img.mode in _REDUCIBLE_MODES else img


_GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})


def _is_gray(img: Image.Image) -> bool:
    """A black-and-white file (gray pixels, or a palette of grays): its result is written gray too."""
    if img.mode in _GRAY_MODES:
        return True
    if img.mode in ("P", "PA"):
        palette = np.array(img.getpalette("RGB") or [], np.int64).reshape(-1, 3)
        return bool(len(palette)) and bool((palette == palette[:, :1]).all())
    return False


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "pipe"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device"


def _read_head(path: Path) -> bytes:
    """Turn 'missing / folder / no permission / empty / not a file' into clear errors before any decoder
    runs. A pipe or device is refused before it is opened: opening one waits for a writer, possibly forever,
    and the decoders read a file twice."""
    try:
        mode = path.stat().st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise InputUnreadableError(f'"{path.name}" is not a file but a {_special_kind(mode)}; Hourglass '
                                       "reads photo files.")
        with open(path, "rb") as f:
            head = f.read(32)
    except FileNotFoundError:
        raise InputNotFoundError(f'The file "{path.name}" does not exist in {path.parent} '
                                 "(was it moved, renamed or deleted?).") from None
    except (IsADirectoryError, PermissionError) as e:
        if path.is_dir():
            raise InputUnreadableError(f'"{path.name}" is a folder, not an image file.') from None
        raise InputUnreadableError(f'Hourglass is not allowed to read "{path.name}"; check the '
                                   "file's permissions.", detail=str(e)) from None
    except OSError as e:
        raise InputUnreadableError(f'"{path.name}" could not be read: {e.strerror or e}.') from None
    if not head:
        raise InputUnreadableError(f'"{path.name}" is empty (0 bytes); it may not have been copied '
                                   "completely.")
    return head


@contextmanager
def _decode_errors(path: Path):
    """Map the many ways decoders fail onto the engine's error classes."""
    name = f'"{path.name}"'
    try:
        yield
    except HourglassError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageTooLargeError(f"{name} has too many pixels; Hourglass opens images up to "
                                 f"{MAX_PIXELS // 1_000_000} megapixels.", detail=str(e)) from None
    except UnidentifiedImageError as e:
        if is_photo(path):
            raise InputUnreadableError(f"{name} is damaged, or is not the {path.suffix[1:].upper()} image its "
                                       "name says.", detail=str(e)) from None
        raise UnsupportedInputError(f"{name} is not an image Hourglass can open. Supported: JPEG, PNG, "
                                    "TIFF, WebP, BMP, HEIC, AVIF and camera RAW files.", detail=str(e)) from None
    except PermissionError as e:
        raise InputUnreadableError(f"Hourglass is not allowed to read {name}.", detail=str(e)) from None
    except FileNotFoundError:
        raise InputNotFoundError(f"The file {name} disappeared while it was being read.") from None
    except MemoryError:
        raise ImageTooLargeError(f"There is not enough memory to open {name}.") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error,
            RuntimeError) as e:  # (RuntimeError: libavif's and libheif's decoders, through Pillow and pillow-heif)
        raise InputUnreadableError(f"{name} is damaged or incomplete and could not be decoded.",
                                   detail=str(e)) from None


def _is_high_bit_depth(img: Image.Image, head: bytes) -> bool:
    if img.format == "PNG":
        return head[24] == 16  # IHDR bit depth
    if img.format == "TIFF":
        bits = img.tag_v2.get(258, 8)
        return max(bits if isinstance(bits, tuple) else (bits,)) > 8
    return False


def _cv2_pixels(path: Path, at_least: int | None = None, clip: bool = True):
    """16-bit PNG/TIFF through OpenCV (Pillow would truncate them to 8 bits); None if it cannot.
    `at_least`: shrunk as `_reduced` does, before the float copy. `clip=False` leaves float samples
    outside 0–1 for the caller."""
    data = np.fromfile(path, dtype=np.uint8)  # imdecode, unlike imread, copes with any path on Windows
    if data[:2].tobytes() in (b"II", b"MM"):
        _clear_tiff_orientation(data)
    arr = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if arr is None or arr.ndim not in (2, 3) or arr.dtype not in (np.uint8, np.uint16, np.float32):
        return None
    arr = _shrunk(arr, at_least)
    scale = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(arr.dtype, 1.0)
    arr = arr.astype(np.float32)
    arr /= scale
    rgb, alpha = _split_channels(arr, bgr=True)
    if scale == 1.0 and clip:
        np.clip(rgb, 0, 1, out=rgb)
    return rgb, alpha, 16


def _clear_tiff_orientation(data: np.ndarray) -> None:
    """OpenCV's TIFF decoder applies the Orientation tag itself (a PNG's eXIf it ignores): set the tag
    to 1 in our copy of the bytes, so every path is rotated exactly once, by _orient."""
    found = _tiff_ifd0(lambda at, n: data[at:at + n].tobytes())
    if found is not None:
        e, entries = found
        for tag, kind, _count, at in entries:
            if (tag, kind) == (274, 3):
                struct.pack_into(e + "H", data, at + 8, 1)


def _pillow_pixels(img: Image.Image):
    if img.mode == "CMYK":
        img = _cmyk_to_rgb(img)
    if img.mode.startswith("I") or img.mode == "F":  # 16/32-bit grayscale
        gray = np.asarray(img).astype(np.float32)
        gray /= 1.0 if img.mode == "F" else 65535.0
        np.clip(gray, 0, 1, out=gray)
        return np.repeat(gray[..., None], 3, axis=2), None, 16
    has_alpha = img.mode in _ALPHA_MODES or "transparency" in img.info
    arr = np.asarray(img.convert("RGBA" if has_alpha else "RGB"))
    rgb = arr[..., :3].astype(np.float32)
    rgb /= 255.0
    alpha = arr[..., 3].astype(np.float32) / 255.0 if has_alpha else None
    return rgb, alpha, 8


def _cmyk_to_rgb(img: Image.Image) -> Image.Image:
    """Use the embedded CMYK profile when there is one; Pillow's plain conversion is only a fallback."""
    icc = img.info.get("icc_profile")
    if icc:
        try:
            from PIL import ImageCms

            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            return ImageCms.profileToProfile(img, src, ImageCms.createProfile("sRGB"), outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError) as e:  # a broken profile must not lose the photo
            log.warning("CMYK profile ignored: %s", e)
    return img.convert("RGB")


def _orient(a: np.ndarray | None, orientation: int) -> np.ndarray | None:
    """Apply an EXIF orientation (2-8) to an H×W(×C) array, exactly as PIL.ImageOps.exif_transpose."""
    if a is None:
        return None
    ops = {2: lambda x: x[:, ::-1], 3: lambda x: x[::-1, ::-1], 4: lambda x: x[::-1],
           5: lambda x: x.swapaxes(0, 1), 6: lambda x: np.rot90(x, -1),
           7: lambda x: x[::-1, ::-1].swapaxes(0, 1), 8: lambda x: np.rot90(x, 1)}
    return np.ascontiguousarray(ops[orientation](a)) if orientation in ops else a
