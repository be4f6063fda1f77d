"""Where a photo was taken, left out of its result on request (`write_image(location=False)`): for results
that are shared, as Lightroom's export "Remove Location Info" and a phone's share sheet do.

What goes is the coordinates, wherever a photo keeps them: the EXIF GPS directory (latitude, longitude,
altitude, direction, GPS time), and every XMP property named GPS... in any namespace (exif:GPSLatitude,
the IPTC Extension's LocationCreated/LocationShown coordinates, drone makers' GpsLatitude). Place names a
person typed (City, Country, Sub-location in IPTC or XMP) are captions and stay.
"""

from __future__ import annotations

import logging
import struct
import warnings

from PIL import Image

from engine.imaging.metadata import _exif_bytes
from engine.imaging.xmp_packet import without

log = logging.getLogger(__name__)

GPS_IFD = 0x8825


def exif_without_gps(exif: bytes | None) -> bytes | None:
    """`exif` without its GPS directory; unchanged (byte for byte) when it has none. An EXIF block that cannot
    be read is left out whole: it might hold the coordinates."""
    if not exif:
        return exif
    tags = Image.Exif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            tags.load(exif)
            if GPS_IFD not in tags:
                return exif
            del tags[GPS_IFD]
            return _exif_bytes(tags) if len(tags) else None
    except (ValueError, TypeError, SyntaxError, OSError, struct.error) as exc:  # a damaged block
        log.warning("The photo's EXIF could not be read (%s); left out, as it may hold where it was taken", exc)
        return None


def is_gps(name: str) -> bool:
    """An XMP property (expanded name '{uri}local') that holds coordinates."""
    return name.rsplit("}", 1)[-1].lower().startswith("gps")


def xmp_without_gps(xmp: bytes | None) -> bytes | None:
    """`xmp` without GPS properties; unchanged when it has none. A packet that cannot be read is left out
    whole: it might hold the coordinates."""
    if not xmp:
        return xmp
    kept = without(xmp, is_gps)
    if kept is None:
        log.warning("The photo's XMP could not be read; left out, as it may hold where it was taken")
    return kept
