"""Where a photo was taken, left out of its result on request (`write_image(location=False)`): for results
that are shared, as Lightroom's export "Remove Location Info" and a phone's share sheet do.

What goes is the coordinates, wherever a photo keeps them: the EXIF GPS directory (latitude, longitude,
altitude, direction, GPS time), and every XMP property named GPS... in any namespace (exif:GPSLatitude,
the IPTC Extension's LocationCreated/LocationShown coordinates, drone makers' GpsLatitude). Place names a
person typed (City, Country, Sub-location in IPTC or XMP) are captions and stay.
"""

from __future__ import annotations

import logging
import math
import struct
import warnings

from PIL import Image

from engine.imaging.metadata import _exif_bytes
from engine.imaging.xmp_packet import parse, without

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


def gps_coordinates(gps: dict) -> tuple[float, float] | None:
    """(latitude, longitude) in degrees, south and west negative, from an EXIF GPS directory's tags; None
    when it holds no readable pair (a directory with only a GPS time or altitude, or damaged values)."""
    try:
        lat = _degrees(gps[2]) * (-1 if str(gps.get(1, "N")).strip().upper().startswith("S") else 1)
        lon = _degrees(gps[4]) * (-1 if str(gps.get(3, "E")).strip().upper().startswith("W") else 1)
    except (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
        return None
    return lat, lon


def _degrees(dms) -> float:
    """Degrees, minutes, seconds (EXIF rationals; fewer parts where a writer gave fewer) as degrees."""
    parts = [float(x) for x in (dms if isinstance(dms, (tuple, list)) else (dms,))]
    if not 1 <= len(parts) <= 3:
        raise ValueError(dms)
    return sum(value / 60**i for i, value in enumerate(parts))


def xmp_has_gps(xmp: bytes | None) -> bool:
    """Whether an XMP packet holds a GPS property; one that cannot be read counts if it mentions GPS."""
    if not xmp:
        return False
    parsed = parse(xmp)
    if parsed is None:
        return b"gps" in xmp.lower()
    return any(is_gps(name) for element in parsed[1].iter() for name in (element.tag, *element.attrib))
