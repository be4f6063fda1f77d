"""A photo's XMP together with its sidecar file, where tools that may not (or are told not to) change the
photo keep its rating, keywords, title and captions: Lightroom, Bridge and darktable beside a RAW
(`IMG_1.xmp`, `IMG_1.CR2.xmp`), darktable and digiKam beside any photo (`photo.jpg.xmp`). A RAW's packet
comes from the sidecar, else from inside the file (a DNG's); a developed photo's sidecar is merged into the
file's own packet. Develop settings are left out: they describe how an editor develops the sensor data
(or edits the photo), and an editor would apply them a second time to the result."""

from __future__ import annotations

import logging
from pathlib import Path

from engine.imaging.xmp_packet import merged, namespace, without

log = logging.getLogger(__name__)

MAX_XMP = 8 << 20  # a sidecar larger than this is not an XMP packet a photo needs
# Camera Raw / Lightroom develop settings and darktable's edit history
DEVELOP_NAMESPACES = frozenset({"http://ns.adobe.com/camera-raw-settings/1.0/", "http://darktable.sf.net/"})
# properties that describe the RAW file's layout, not the developed result (its size, samples, coding)
_TIFF, _EXIF = "http://ns.adobe.com/tiff/1.0/", "http://ns.adobe.com/exif/1.0/"
LAYOUT_PROPERTIES = frozenset(
    [f"{{{_TIFF}}}{name}" for name in ("ImageWidth", "ImageLength", "BitsPerSample", "Compression",
                                       "PhotometricInterpretation", "SamplesPerPixel", "PlanarConfiguration",
                                       "YCbCrSubSampling", "YCbCrPositioning")]
    + [f"{{{_EXIF}}}{name}" for name in ("PixelXDimension", "PixelYDimension")])


def sidecar(path: Path, *, adobe: bool = True) -> Path | None:
    """The XMP sidecar of `path`, in the naming of Adobe's apps (IMG_1.xmp; only with `adobe`) or of
    darktable's and digiKam's (IMG_1.CR2.xmp)."""
    adobes = (path.with_suffix(".xmp"), path.with_suffix(".XMP")) if adobe else ()
    for candidate in (*adobes, path.with_name(path.name + ".xmp"), path.with_name(path.name + ".XMP")):
        if candidate.is_file():
            return candidate
    return None


def _sidecar_packet(found: Path) -> bytes | None:
    """The sidecar's packet without develop settings; None if it is too large or cannot be read."""
    try:
        if found.stat().st_size <= MAX_XMP:
            return without_develop_settings(found.read_bytes())
    except OSError as e:
        log.warning("XMP sidecar %s not read: %s", found, e)
    return None


def raw_xmp(path: Path, embedded: bytes | None) -> bytes | None:
    """The XMP to keep with a RAW photo's result (see the module's docstring); None when there is none."""
    found = sidecar(path)
    kept = _sidecar_packet(found) if found is not None else None
    return kept or (without_develop_settings(embedded) if embedded else None)


def photo_xmp(path: Path, embedded: bytes | None) -> bytes | None:
    """A developed photo's XMP with its sidecar `photo.jpg.xmp` merged in, the sidecar's properties winning
    (it is what the user's catalogue says now; the file keeps what the camera or an earlier tool wrote).
    Only that naming: `photo.xmp` beside a JPEG belongs to the RAW of the same name. `embedded` itself when
    there is no sidecar to merge."""
    found = sidecar(path, adobe=False)
    kept = _sidecar_packet(found) if found is not None else None
    if not kept:
        return embedded
    if not embedded:
        return kept
    return merged(embedded, kept) or kept  # (None: the file's own packet cannot be read)


def _dropped(name: str) -> bool:
    return name in LAYOUT_PROPERTIES or namespace(name) in DEVELOP_NAMESPACES


def without_develop_settings(packet: bytes) -> bytes | None:
    """`packet` without the develop settings and the RAW's layout properties (attributes or elements);
    None if it is not readable XMP."""
    return without(packet, _dropped)
