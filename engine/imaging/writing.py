"""Writing a result: the output format and name rules, encoding (Pillow, or OpenCV for 16-bit PNG/TIFF)
with the source's metadata, and an atomic write that never replaces an existing file or the original
unless asked, with a clear message when the disk or folder refuses."""

from __future__ import annotations

import io
import logging
import os
import secrets
import warnings
from contextlib import suppress
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from engine.errors import (
    HourglassError,
    ImageTooLargeError,
    OutputExistsError,
    OutputNotWritableError,
)
from engine.imaging.data import (
    _ALPHA_FORMATS,
    _EXTENSIONS,
    _FORMAT_ALIASES,
    _GRAY_FORMATS,
    _SIXTEEN_BIT_FORMATS,
    ImageData,
    _gray,
    _register_heif,
    to_uint8,
    to_uint16,
)
from engine.imaging.iptc_xmp import with_iptc
from engine.imaging.location import exif_without_gps, xmp_without_gps
from engine.imaging.metadata import (
    _JPEG_SEGMENT,
    _add_png_metadata,
    _jpeg_app13,
    _retag_tiff,
    _srgb_profile,
    exif_without_orientation,
    with_jpeg_positioning,
    with_png_text,
)
from engine.imaging.provenance import Provenance, with_provenance, without_record

log = logging.getLogger(__name__)

_JPEG_XMP = _JPEG_SEGMENT - 29  # the most XMP one JPEG segment holds, less "http://ns.adobe.com/xap/1.0/\0"
_XMP_WITHOUT_IPTC = frozenset({"PNG", "WEBP", "HEIF", "AVIF"})  # formats that hold XMP but no IPTC block


def output_format_for(source: ImageData, requested: str | None = None) -> tuple[str, int]:
    """(format, bit depth) to write for `source`: its own format and depth where the format allows.

    RAW becomes a 16-bit TIFF (no RAW writer exists, and TIFF keeps all 16 bits). HEIF becomes JPEG:
    every viewer and editor opens it, HEIF encoding is slow and many Windows apps still cannot read it.
    """
    if requested:
        fmt = _FORMAT_ALIASES.get(str(requested).lstrip(".").upper())
        if fmt is None:
            raise OutputNotWritableError(f"Hourglass cannot save {requested} files; choose JPEG, PNG, "
                                         "TIFF, WebP, BMP, HEIC or AVIF.")
    else:
        fmt = {"RAW": "TIFF", "HEIF": "JPEG"}.get(source.format, source.format)
    return fmt, 16 if source.bit_depth == 16 and fmt in _SIXTEEN_BIT_FORMATS else 8


def extension_for(fmt: str) -> str:
    """The usual file extension for an output format ('JPEG' → '.jpg')."""
    return _EXTENSIONS[_FORMAT_ALIASES[fmt.upper()]]


def write_image(path, rgb: np.ndarray, source: ImageData | None = None, *, format: str | None = None,
                quality: int = 95, bit_depth: int | None = None, alpha: np.ndarray | None = None,
                overwrite: bool = False, srgb: bool = False, provenance: Provenance | None = None,
                location: bool = True) -> Path:
    """Write float RGB to `path` atomically, keeping the source's metadata, alpha, bit depth and grayness.

    The format comes from `format`, else the extension of `path`, else the source. Refuses to replace an
    existing file unless `overwrite`, and never replaces the source photo. A source in another colour space
    (`ImageData.own_space`) is written back in it, or, with `srgb`, in sRGB (tagged so; for the web).
    `provenance` is recorded in the XMP of the formats that hold one (all but BMP); without it, a record the
    source carries (a result restored again) is left out. `location=False` leaves out where the photo was
    taken (`engine.imaging.location`).
    """
    path = Path(path)
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an H×W×3 RGB array, got shape {rgb.shape}")
    fmt, depth = _resolve_output(path, source, format, bit_depth)
    _check_target(path, source, overwrite)
    _check_fits(fmt, rgb.shape[1], rgb.shape[0])
    if alpha is None and source is not None:
        alpha = source.alpha
    if alpha is not None:
        alpha = np.asarray(alpha, dtype=np.float32)
        if alpha.shape != rgb.shape[:2]:
            alpha = cv2.resize(alpha, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
        if fmt not in _ALPHA_FORMATS:  # JPEG, BMP: flatten onto white, as editors export; the colours
            rgb = over_white(rgb, alpha)  # under transparent pixels (often black) would show otherwise
            alpha = None
    meta = source if source is not None else ImageData(rgb, None, 8, fmt, None, None, None, None, None)
    gray_as_rgb = meta.grayscale and (alpha is not None or fmt not in _GRAY_FORMATS)
    if meta.own_space is not None:  # back to the photo's own space, which its profile describes; where the
        # result holds no profile (or not that gray one): sRGB numbers, as untagged files are shown
        if fmt in _NO_PROFILE_FORMATS or gray_as_rgb:
            meta = replace(meta, icc_profile=None)
        elif srgb:
            meta = replace(meta, icc_profile=None if meta.grayscale else _srgb_profile())
        else:
            rgb = meta.own_space.back(rgb)
    if meta.grayscale:  # a black-and-white photo stays black and white, without the network's faint tints
        rgb = _gray(rgb, keep_rgb=gray_as_rgb)
        if rgb.ndim == 3 and meta.icc_profile:  # a GRAY profile cannot describe RGB pixels
            meta = replace(meta, icc_profile=None)
    with warnings.catch_warnings():  # Pillow's notes on odd tags of the photo's EXIF, which it reads again
        warnings.simplefilter("ignore", UserWarning)
        if meta.text and fmt != "PNG":
            meta = replace(meta, exif=with_png_text(meta.exif, meta.text))
        if meta.iptc and fmt in _XMP_WITHOUT_IPTC:  # its captions and keywords go into the XMP instead
            meta = replace(meta, xmp=with_iptc(meta.xmp, meta.iptc))
        if not location:
            meta = replace(meta, exif=exif_without_gps(meta.exif), xmp=xmp_without_gps(meta.xmp))
        if provenance is not None and fmt != "BMP":
            meta = replace(meta, xmp=_recorded(meta.xmp, provenance, fmt))
        elif meta.xmp:  # it would describe how the source was made, not this result
            meta = replace(meta, xmp=without_record(meta.xmp))
        if fmt in ("PNG", "TIFF"):
            parts = _encode_with_cv2(fmt, depth, rgb, alpha, meta)
        else:
            parts = [_encode_with_pillow(fmt, rgb, alpha, meta, quality)]
    _atomic_write(path, parts, overwrite)
    return path


def _recorded(xmp: bytes | None, provenance: Provenance, fmt: str) -> bytes | None:
    """The photo's XMP with the record added; without it where only the record would push a JPEG's XMP
    past its one segment, which would lose the photo's own XMP with it."""
    recorded = with_provenance(xmp, provenance.record, provenance.event, earlier=provenance.earlier)
    if fmt == "JPEG" and recorded and len(recorded) > _JPEG_XMP and (not xmp or len(xmp) <= _JPEG_XMP):
        log.warning("The photo's XMP leaves no room in a JPEG for how the result was made; not recorded")
        return xmp
    return recorded


# The widest or tallest image each format holds (libjpeg-turbo's JPEG_MAX_DIMENSION, WebP's, AV1's); PNG,
# TIFF and BMP hold any photo Hourglass opens.
_MAX_SIDE = {"JPEG": 65500, "WEBP": 16383, "AVIF": 65536}


def check_output_size(path, source: ImageData, format: str | None = None) -> None:
    """Refuse, before any work, a result its format cannot hold (a panorama 20,000 pixels wide as a WebP):
    the encoder failed only after the restoration, with its own words."""
    h, w = source.rgb.shape[:2]
    _check_fits(_resolve_output(Path(path), source, format, None)[0], w, h)


def _check_fits(fmt: str, width: int, height: int) -> None:
    limit = _MAX_SIDE.get(fmt)
    if limit is not None and max(width, height) > limit:
        name = "WebP" if fmt == "WEBP" else fmt
        raise ImageTooLargeError(f"{width:,} × {height:,} pixels is too large for {name}, which holds "
                                 f"{limit:,} pixels a side at most; save it as PNG or TIFF instead.")


def format_without_transparency(path, source: ImageData | None, format: str | None = None) -> str | None:
    """The format `write_image(path, …, source, format=format)` writes, when it has no alpha channel (JPEG,
    BMP: a transparent photo is flattened onto white there); None when it keeps transparency."""
    fmt = _resolve_output(Path(path), source, format, None)[0]
    return None if fmt in _ALPHA_FORMATS else fmt


def format_without_profile(path, source: ImageData | None, format: str | None = None) -> str | None:
    """The format `write_image(path, …, source, format=format)` writes, when it holds no colour profile (BMP:
    a photo in another colour space is saved there in sRGB numbers); None when it holds one."""
    fmt = _resolve_output(Path(path), source, format, None)[0]
    return fmt if fmt in _NO_PROFILE_FORMATS else None


_NO_PROFILE_FORMATS = frozenset({"BMP"})


def over_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """`rgb` flattened onto white by `alpha`, as a format without transparency (JPEG, BMP) is saved."""
    a = np.clip(alpha, 0.0, 1.0)[..., None]
    return rgb * a + (1.0 - a)


def _resolve_output(path: Path, source: ImageData | None, fmt: str | None, bit_depth: int | None):
    if bit_depth not in (None, 8, 16):
        raise ValueError(f"bit_depth must be 8 or 16, not {bit_depth}")
    requested = fmt or path.suffix
    if not requested and source is None:
        raise OutputNotWritableError(f'"{path.name}" has no file extension; add .jpg, .png or .tif.')
    stand_in = source or ImageData(np.empty((0, 0, 3)), None, 8, "PNG", None, None, None, None, None)
    fmt, depth = output_format_for(stand_in, requested or None)
    if bit_depth is not None:
        depth = bit_depth if fmt in _SIXTEEN_BIT_FORMATS else 8
    return fmt, depth


def check_output_folder(folder: str | os.PathLike) -> None:
    """Refuse, before any work, a folder the result could not be saved in (it, or the nearest folder above
    it that exists, must be a writable folder); creating it is left to the write."""
    folder = Path(folder)
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputNotWritableError(f"Results cannot be saved in {folder}: {existing} is a file, not a folder.")
    if not os.access(existing, os.W_OK | os.X_OK):
        reason = "is on a read-only disk" if _read_only_disk(existing) else "is not writable for you"
        raise OutputNotWritableError(f"Results cannot be saved in {folder}: {existing} {reason}. Choose another "
                                     "output folder.")


def _read_only_disk(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (AttributeError, OSError):  # no statvfs on Windows
        return False


def check_not_original(path: Path, original: Path) -> None:
    """Refuse an output path that is the input photo itself (any spelling of it, links included)."""
    if same_file(path, original):
        raise OutputExistsError(f'Hourglass never saves over the original photo "{Path(path).name}"; choose '
                                "another folder, or a name suffix (--suffix in the command line).")


NAME_MAX = 255  # bytes in one file name on ext4, APFS and NTFS (255 UTF-16 units there)


def check_output_name(path: str | os.PathLike) -> None:
    """Refuse, before any work, a result name no disk takes (a long photo name plus a name suffix)."""
    name = Path(path).name
    size = len(os.fsencode(name))
    if size > NAME_MAX:
        raise OutputNotWritableError(f'The result\'s name "{name[:40]}…" is too long to save ({size} bytes; '
                                     f"disks allow {NAME_MAX}). Shorten the photo's name or the name suffix.")


def _check_target(path: Path, source: ImageData | None, overwrite: bool) -> None:
    check_output_name(path)
    if source is not None and source.path is not None:
        check_not_original(path, source.path)
    if not overwrite and os.path.lexists(path):
        raise OutputExistsError(f'"{path.name}" already exists in {path.parent}; choose another name or '
                                "allow overwriting.")


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name one file (links and other spellings included)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def _encode_with_pillow(fmt: str, rgb: np.ndarray, alpha, meta: ImageData, quality: int) -> bytes:
    """JPEG, WebP, BMP, HEIF and AVIF through Pillow, with the metadata each of them can hold."""
    arr = to_uint8(rgb)
    if alpha is not None:
        arr = np.dstack([arr, to_uint8(alpha)])
    img = Image.fromarray(arr)
    opts: dict = {"exif": meta.exif, "icc_profile": meta.icc_profile, "xmp": meta.xmp}
    if fmt == "JPEG":  # full-resolution colour at high quality, as Photoshop and Lightroom save (Pillow: 4:2:0)
        opts.update(quality=quality, dpi=meta.dpi, subsampling=0 if quality >= 90 else -1)
        # each goes in one JPEG segment; better a photo without them than none (XMP from a TIFF or PNG,
        # such as Photoshop's document history, can be megabytes)
        opts["exif"] = with_jpeg_positioning(meta.exif)
        if opts["exif"] and len(opts["exif"]) > _JPEG_SEGMENT:
            log.warning("EXIF too large for JPEG (%d bytes), not written", len(opts["exif"]))
            opts["exif"] = None
        if meta.xmp and len(meta.xmp) > _JPEG_XMP:
            log.warning("XMP too large for JPEG (%d bytes), not written", len(meta.xmp))
            opts["xmp"] = None
        if meta.iptc and len(meta.iptc) <= _JPEG_SEGMENT - 28:  # less the Photoshop header and resource
            opts["extra"] = _jpeg_app13(meta.iptc)
        elif meta.iptc:
            log.warning("IPTC too large for JPEG (%d bytes), not written", len(meta.iptc))
    elif fmt == "WEBP" and quality >= 100:  # lossless, keeping even the colour of transparent pixels
        opts.update(lossless=True, exact=True)
    elif fmt == "WEBP":
        opts.update(quality=quality)
    elif fmt == "BMP":
        opts = {"dpi": meta.dpi}
    elif fmt == "HEIF":
        _register_heif()
        opts.update(quality=quality)
    elif fmt == "AVIF":  # 12 MP at quality 95: 1.8 s on 2 cores, small beside the restoration itself
        opts.update(quality=quality, exif=exif_without_orientation(meta.exif))
    buf = io.BytesIO()
    img.save(buf, format=fmt, **{k: v for k, v in opts.items() if v is not None})
    return buf.getvalue()


def _encode_with_cv2(fmt: str, depth: int, rgb: np.ndarray, alpha, meta: ImageData) -> list:
    """PNG and TIFF through OpenCV (the only encoder here for 16-bit RGB), then add the metadata.

    Returns the file as consecutive pieces, so a 1 GB encoding is never copied just to prepend a header.
    """
    quantize = to_uint16 if depth == 16 else to_uint8
    arr = quantize(rgb) if rgb.ndim == 2 else quantize(rgb)[..., ::-1]
    if alpha is not None:
        arr = np.dstack([arr, quantize(alpha)])
    params = [cv2.IMWRITE_PNG_COMPRESSION, 6] if fmt == "PNG" else []  # TIFF: LZW with predictor
    ok, buf = cv2.imencode(".png" if fmt == "PNG" else ".tif", np.ascontiguousarray(arr), params)
    if not ok:
        raise OutputNotWritableError(f"The image could not be encoded as {fmt}.")
    encoded = memoryview(buf).cast("B")
    if fmt == "PNG":
        return _add_png_metadata(encoded, meta)
    return _retag_tiff(encoded, meta, alpha is not None)


def _atomic_write(path: Path, parts: list, overwrite: bool) -> None:
    """Temp file in the same folder, fsync, then rename: a crash never leaves half a photo behind."""
    folder = path.parent
    name = f'"{path.name}"'
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputNotWritableError(f"The folder {folder} cannot be created: {e.strerror or e}.") from None
    short = path.name  # cut to 150 bytes, so that a name near NAME_MAX still fits with the suffixes
    while len(os.fsencode(short)) > 150:  # (by characters: a name may hold any bytes, which it keeps)
        short = short[:-1]
    tmp = folder / f".{short}.{secrets.token_hex(4)}.hourglass-tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        with os.fdopen(fd, "wb") as f:
            for part in parts:
                f.write(part)
            f.flush()
            os.fsync(f.fileno())
        _publish(tmp, path, overwrite)
        _fsync_folder(folder)
    except HourglassError:
        raise
    except OSError as e:
        raise OutputNotWritableError(_write_error_message(e, name, folder), detail=str(e)) from None
    finally:
        with suppress(OSError):
            os.unlink(tmp)


def _publish(tmp: Path, path: Path, overwrite: bool) -> None:
    """Move the finished file into place; without `overwrite`, a hard link refuses atomically if the
    name was taken meanwhile (falls back to a check + rename on file systems without hard links)."""
    if not overwrite:
        try:
            os.link(tmp, path)
            return
        except FileExistsError:
            raise OutputExistsError(f'"{path.name}" already exists in {path.parent}; choose another name '
                                    "or allow overwriting.") from None
        except OSError:
            if os.path.lexists(path):
                raise OutputExistsError(f'"{path.name}" already exists in {path.parent}.') from None
    os.replace(tmp, path)


def _fsync_folder(folder: Path) -> None:
    if os.name == "posix":
        with suppress(OSError):
            fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _write_error_message(e: OSError, name: str, folder: Path) -> str:
    import errno

    if e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return f"There is not enough free disk space to save {name} in {folder}."
    if e.errno == errno.EROFS:
        return f"The folder {folder} is on a read-only disk; {name} cannot be saved there."
    if isinstance(e, PermissionError):
        return f"Hourglass is not allowed to save files in {folder}; choose another folder."
    return f"{name} could not be saved in {folder}: {e.strerror or e}."
