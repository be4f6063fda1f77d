"""Camera RAW files, developed by LibRaw (rawpy) with the camera's white balance into 16-bit sRGB, small
(half size) when only a look is needed; their EXIF read from the file's TIFF directory, a CR3's CMT boxes
or the embedded preview JPEG."""

from __future__ import annotations

import struct
import warnings
from contextlib import suppress
from pathlib import Path

import numpy as np
from PIL import Image

from engine.errors import (
    HourglassError,
    ImageTooLargeError,
    InputUnreadableError,
    UnsupportedInputError,
)
from engine.imaging.data import ImageData, _check_size
from engine.imaging.metadata import (
    _XMP_TAG,
    _clean_exif,
    _file_reader,
    _reset_xmp_orientation,
    _srgb_profile,
    _tiff_directories,
)
from engine.imaging.xmp_sidecar import raw_xmp


def _read_raw(path: Path) -> ImageData:
    """Camera RAW via LibRaw: camera white balance, sRGB, 16 bits.

    No auto-brightening: it would clip highlights and change the exposure the photographer chose; the
    low-light models brighten dark photos themselves.
    """
    rgb = _develop_raw(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Pillow's notes on damaged tags it skips
        exif, embedded_xmp = _raw_metadata(path)
    xmp = _reset_xmp_orientation(raw_xmp(path, embedded_xmp))  # LibRaw turned the pixels upright
    if _equal_channels(rgb):  # a monochrome camera's RAW (Leica's Monochrom): a black-and-white result
        return ImageData(rgb, None, 16, "RAW", exif, None, None, xmp, path, grayscale=True)
    return ImageData(rgb, None, 16, "RAW", exif, _srgb_profile(), None, xmp, path)


def _equal_channels(rgb: np.ndarray) -> bool:
    """Whether the three channels are one (a sample of pixels first: a colour photo fails there, at once)."""
    sample = rgb[::61, ::59]
    if not (np.array_equal(sample[..., 0], sample[..., 1]) and np.array_equal(sample[..., 1], sample[..., 2])):
        return False
    return np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2])


def _develop_raw(path: Path, at_least: int | None = None, full: np.ndarray | None = None) -> np.ndarray:
    """LibRaw's development of a RAW file as upright float RGB; with `at_least`, at half size (LibRaw's
    quick mode: each 2×2 block of sensor sites is one pixel, no demosaicing) when that keeps `at_least`
    pixels on either side; the same settings otherwise, so the picture is the same, only smaller. `full`:
    the full development already at hand, returned instead of developing again when half size is too small."""
    import rawpy

    name = f'"{path.name}"'
    try:
        with open(path, "rb") as f, rawpy.imread(f) as raw:
            _check_size(path, raw.sizes.width, raw.sizes.height)
            half = at_least is not None and min(raw.sizes.width, raw.sizes.height) // 2 >= at_least
            if not half and full is not None:
                return full
            rgb16 = raw.postprocess(use_camera_wb=True, no_auto_bright=True, output_bps=16,
                                    gamma=(2.4, 12.92), half_size=half)
    except rawpy.LibRawTooBigError:
        raise ImageTooLargeError(f"{name} is too large for the RAW decoder.") from None
    except (rawpy.LibRawError, OSError, ValueError) as e:
        raise _undecodable(path, e) from None
    if rgb16.ndim == 3 and rgb16.shape[2] == 1:  # one colour plane (a monochrome sensor): gray in three channels
        rgb16 = np.repeat(rgb16, 3, axis=2)
    rgb = rgb16.astype(np.float32)
    rgb /= 65535.0
    return rgb


def _undecodable(path: Path, e: Exception) -> HourglassError:
    """What to tell of a RAW file LibRaw could not decode: damaged, too new, or compressed with JPEG XL."""
    import rawpy

    name = f'"{path.name}"'
    if isinstance(e, rawpy.LibRawError) and _jpeg_xl_dng(path):
        return UnsupportedInputError(
            f"{name} is a DNG compressed with JPEG XL (DNG 1.7: the JPEG XL formats of recent iPhones' ProRAW, "
            "or Adobe's DNG Converter with JPEG XL on), which Hourglass's RAW decoder cannot read yet. Export "
            "it as a 16-bit TIFF from your RAW editor, or convert it again without JPEG XL.", detail=str(e))
    if isinstance(e, rawpy.LibRawFileUnsupportedError):
        return UnsupportedInputError(
            f"{name} is not a camera RAW file Hourglass can decode: it may be damaged, or the camera is "
            "too new for the RAW decoder. Export it as a 16-bit TIFF from your RAW editor.", detail=str(e))
    return InputUnreadableError(f"{name} is damaged or incomplete and could not be decoded.", detail=str(e))


DNG_JPEG_XL = 52546  # DNG 1.7's Compression value for JPEG XL


def _jpeg_xl_dng(path: Path) -> bool:
    """Whether a TIFF-based RAW keeps an image compressed with JPEG XL, which this LibRaw has no decoder for
    (rawpy's wheels are built without libjxl): asked only once LibRaw has failed, to say why."""
    try:
        with _file_reader(path) as read:
            for e, entries in _tiff_directories(read):
                for tag, kind, _count, at in entries:
                    if tag == 259 and kind == 3 and struct.unpack(e + "H", read(at + 8, 2))[0] == DNG_JPEG_XL:
                        return True
    except (OSError, struct.error):
        pass
    return False


def _raw_metadata(path: Path) -> tuple[bytes | None, bytes | None]:
    """The camera's EXIF (capture time, exposure, lens, GPS) of a RAW file, wherever its format keeps it:
    TIFF-based RAWs (DNG, NEF, ARW, CR2, PEF; ORF and RW2 behind their own magic numbers), Canon CR3's
    CMT boxes, or the EXIF of the JPEG preview embedded in the file (Fujifilm RAF); and the XMP packet in
    a TIFF-based RAW's first directory (a DNG's). None for what is not found.

    The maker note is dropped: it is large (JPEG allows 64 KB of EXIF) and breaks when moved.
    """
    try:
        data = path.read_bytes()
    except OSError:
        return None, None
    tiff, xmp = None, None
    with suppress(*_DAMAGED):
        tiff = _tiff_raw_exif(data)  # read once: it copies the whole file
        packet = tiff.get(_XMP_TAG) if tiff is not None else None
        xmp = packet if isinstance(packet, bytes) and packet else None
    return _camera_exif(data, tiff), xmp


_DAMAGED = (OSError, ValueError, TypeError, KeyError, IndexError, SyntaxError, struct.error)


def _camera_exif(data: bytes, tiff: Image.Exif | None) -> bytes | None:
    """The first directory `tiff` of a TIFF-based RAW (already read), else a CR3's or the preview's EXIF."""
    found = None
    for reader in (lambda _: tiff, _cr3_exif, _embedded_jpeg_exif):
        with suppress(*_DAMAGED):
            exif = reader(data)
            if exif is not None and len(exif):
                found = found or exif
                if 0x8769 in exif:  # with the Exif sub-directory: the capture details are there
                    found = exif
                    break
    if found is None:
        return None
    found.get_ifd(0x8769).pop(0x927C, None)
    return _clean_exif(found, tiff_file=True)[0]


# TIFF-like RAW headers: standard TIFF, Olympus ORF ("IIRO", "IIRS", "MMOR") and Panasonic RW2 ("IIU\0")
_RAW_TIFF_MAGIC = {b"II*\0": b"II*\0", b"MM\0*": b"MM\0*", b"IIRO": b"II*\0", b"IIRS": b"II*\0",
                   b"MMOR": b"MM\0*", b"IIU\0": b"II*\0"}


def _tiff_raw_exif(data: bytes) -> Image.Exif | None:
    magic = _RAW_TIFF_MAGIC.get(data[:4])
    if magic is None:
        return None
    exif = Image.Exif()
    exif.load(magic + data[4:])
    return exif


def _cr3_exif(data: bytes) -> Image.Exif | None:
    """Canon CR3 (ISO BMFF, brand "crx "): TIFF blocks in boxes CMT1 (IFD0), CMT2 (Exif), CMT4 (GPS)."""
    if data[4:12] != b"ftypcrx ":
        return None
    blocks = {}
    for name in (b"CMT1", b"CMT2", b"CMT4"):
        at = data.find(name, 0, 1 << 22)  # in the moov box, at the start of the file
        if at >= 4:
            (size,) = struct.unpack_from(">I", data, at - 4)
            body = data[at + 4:at - 4 + size]
            if body[:4] in (b"II*\0", b"MM\0*"):
                blocks[name] = body
    if b"CMT1" not in blocks:
        return None
    exif = Image.Exif()
    exif.load(blocks[b"CMT1"])
    for name, tag in ((b"CMT2", 0x8769), (b"CMT4", 0x8825)):
        if name in blocks:
            sub = Image.Exif()
            sub.load(blocks[name])
            exif[tag] = {k: sub[k] for k in sub}
    return exif


def _embedded_jpeg_exif(data: bytes) -> Image.Exif | None:
    """The EXIF segment (APP1 "Exif") of the first JPEG preview that holds one, within the file's first
    64 MB (RAF keeps its JPEG preview, with the camera's EXIF, near the start)."""
    at = data.find(b"Exif\0\0", 0, 1 << 26)
    while at >= 4:
        if data[at - 4:at - 2] == b"\xff\xe1":
            (size,) = struct.unpack_from(">H", data, at - 2)
            exif = Image.Exif()
            exif.load(data[at:at - 2 + size])
            return exif
        at = data.find(b"Exif\0\0", at + 6, 1 << 26)
    return None
