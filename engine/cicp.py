"""Colour stated without an ICC profile: CICP codes (ITU-T H.273), and DCF's Adobe RGB mark in EXIF.

HEIF and AVIF photos may carry an 'nclx' colour box (primaries, transfer curve, matrix), and PNGs a cICP
chunk, where a JPEG carries an ICC profile: a Canon, Sony or Nikon HDR .HIF is BT.2020 with the PQ or HLG
curve, an AVIF exported by a browser or phone may be Display P3. A camera set to Adobe RGB marks its JPEGs
in their EXIF only. Read as sRGB they come out dull or washed out, and the result, saved without a profile,
keeps the error. Here an SDR photo keeps its pixels and gains the equivalent ICC profile, which the engine
keeps in the result and the GUI shows through; an HDR one (PQ, HLG) is first tone-mapped to standard range,
as our results are not HDR, and one in linear light or another gamma is re-encoded with the sRGB curve.

Standard library at import: the GUI imports this too. numpy is imported inside the functions that need it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from engine.icc_profiles import matrix_trc_profile, rgb_to_d50_xyz

# colour_primaries → (name, red, green, blue, white) as CIE xy
_PRIMARIES = {
    1: ("BT.709", (0.640, 0.330), (0.300, 0.600), (0.150, 0.060), (0.3127, 0.3290)),
    5: ("BT.601 (625 lines)", (0.640, 0.330), (0.290, 0.600), (0.150, 0.060), (0.3127, 0.3290)),
    6: ("BT.601 (525 lines)", (0.630, 0.340), (0.310, 0.595), (0.155, 0.070), (0.3127, 0.3290)),
    7: ("SMPTE 240M", (0.630, 0.340), (0.310, 0.595), (0.155, 0.070), (0.3127, 0.3290)),
    9: ("BT.2020", (0.708, 0.292), (0.170, 0.797), (0.131, 0.046), (0.3127, 0.3290)),
    11: ("DCI-P3", (0.680, 0.320), (0.265, 0.690), (0.150, 0.060), (0.314, 0.351)),
    12: ("Display P3", (0.680, 0.320), (0.265, 0.690), (0.150, 0.060), (0.3127, 0.3290)),
    22: ("EBU 3213", (0.630, 0.340), (0.295, 0.605), (0.155, 0.077), (0.3127, 0.3290)),
}
_SRGB_PRIMARIES = {1, 2}  # 2: unspecified, which every viewer shows as sRGB
# transfer_characteristics: the BT.709 family and sRGB (and unspecified) are all shown with the sRGB curve,
# as browsers do; codes not listed here are shown that way too
_GAMMAS = {4: 2.2, 5: 2.8, 8: 1.0}  # BT.470 M, BT.470 B/G, linear
PQ, HLG = 16, 18  # SMPTE ST 2084 and ARIB STD-B67 (BT.2100)
_HDR_NAMES = {PQ: "PQ", HLG: "HLG"}

REFERENCE_WHITE_NITS = 203.0  # BT.2408: HDR's diffuse white, which becomes standard range's white
HLG_PEAK_NITS = 1000.0  # the nominal display HLG's system gamma of 1.2 belongs to (BT.2100)
KNEE = 0.75  # tone mapping leaves linear light below this fraction of white as it is


@dataclass(frozen=True)
class Cicp:
    """The colour codes of one photo; the matrix and range are the decoder's business (already applied)."""

    primaries: int
    transfer: int

    @classmethod
    def from_nclx(cls, nclx) -> Cicp | None:
        """From pillow-heif's `info["nclx_profile"]`; None when absent or malformed."""
        try:
            return cls(int(nclx["color_primaries"]), int(nclx["transfer_characteristics"]))
        except (TypeError, KeyError, ValueError):
            return None

    @property
    def is_hdr(self) -> bool:
        return self.transfer in _HDR_NAMES

    @property
    def hdr_name(self) -> str | None:
        return _HDR_NAMES.get(self.transfer)

    @property
    def recodes(self) -> bool:
        """Its pixels are re-encoded with the sRGB curve when read (`to_standard_range`): HDR curves, and the
        gamma curves, linear light among them, which the networks were never shown."""
        return self.is_hdr or self.transfer in _GAMMAS

    @property
    def srgb_primaries(self) -> bool:
        """sRGB's primaries (BT.709's), or none that we know, which viewers show as sRGB."""
        return self.primaries not in _PRIMARIES or self.primaries in _SRGB_PRIMARIES

    @property
    def is_srgb(self) -> bool:
        """Shown correctly as plain sRGB: nothing to do."""
        return self.srgb_primaries and not self.recodes

    def icc_profile(self) -> bytes:
        """An ICC v2 matrix/TRC profile for the pixels as they stand once read (`recodes`): the photo's
        primaries with the sRGB curve."""
        name, red, green, blue, white = _PRIMARIES.get(self.primaries, ("sRGB", *_PRIMARIES[1][1:]))
        return matrix_trc_profile(rgb_to_d50_xyz(red, green, blue, white), f"{name}, sRGB curve (Hourglass)")


def exif_means_adobe_rgb(exif) -> bool:
    """DCF's mark of an Adobe RGB photo without a profile, in `exif` (Pillow's `Image.Exif`), as a camera
    set to Adobe RGB writes its JPEGs: ColorSpace 'Uncalibrated' (0xFFFF) with the interoperability index
    "R03" (some software writes ColorSpace 2 instead). Lightroom, Photoshop and darktable read it so."""
    color_space = exif.get_ifd(0x8769).get(0xA001)
    index = exif.get_ifd(0xA005).get(1, "")
    index = index.decode("ascii", "replace") if isinstance(index, bytes) else str(index)
    return color_space == 2 or (color_space == 0xFFFF and index.strip(" \0") == "R03")


def find_nclx(data: bytes) -> Cicp | None:
    """The first 'nclx' colour box of an ISO media file (HEIF, AVIF) whose start is `data`, else None.
    (Where a file has an ICC profile as well, the caller uses that.)"""
    path = (b"meta", b"iprp", b"ipco")
    level, start, end = 0, 0, len(data)
    while level < len(path):
        for kind, body, box_end in _boxes(data, start, end):
            if kind == path[level]:
                start, end = body + (4 if kind == b"meta" else 0), box_end  # (meta is a full box)
                break
        else:
            return None
        level += 1
    for kind, body, box_end in _boxes(data, start, end):
        if kind == b"colr" and data[body:body + 4] == b"nclx" and box_end >= body + 8:
            primaries, transfer = struct.unpack(">HH", data[body + 4:body + 8])
            return Cicp(primaries, transfer)
    return None


_META_LIMIT = 1 << 22  # a 'meta' box lists items and their properties; the pixels are elsewhere


def find_nclx_in(f) -> Cicp | None:
    """`find_nclx` for the open ISO media file `f`: its top-level boxes are skipped by their headers up to
    the 'meta' box, wherever it is (most writers put it first; a large 'mdat' may come before it)."""
    while True:
        header = f.read(8)
        if len(header) < 8:
            return None
        size, kind = struct.unpack(">I4s", header)
        used = 8
        if size == 1:
            wide = f.read(8)
            if len(wide) < 8:
                return None
            size, used = struct.unpack(">Q", wide)[0], 16
        if kind == b"meta":
            body = f.read(min(size - used, _META_LIMIT) if size else _META_LIMIT)
            return find_nclx(struct.pack(">I4s", 8 + len(body), b"meta") + body)
        if size < used:  # 0 (to the end of the file) or damaged: nothing after it
            return None
        f.seek(size - used, 1)


def find_png_cicp(f) -> Cicp | None:
    """The cICP chunk of a PNG (PNG's third edition: HDR PNGs from browsers, editors and frames of HDR video),
    read from the open file `f` chunk header by chunk header; None where it has none before its pixels."""
    if f.read(8) != b"\x89PNG\r\n\x1a\n":
        return None
    while True:
        header = f.read(8)
        if len(header) < 8:
            return None
        length, kind = struct.unpack(">I4s", header)
        if kind in (b"IDAT", b"IEND"):
            return None
        if kind == b"cICP" and length == 4:
            body = f.read(4)
            return Cicp(body[0], body[1]) if len(body) == 4 else None
        f.seek(length + 4, 1)  # the body and its CRC


def _boxes(data: bytes, start: int, end: int):
    """(type, where its body starts, where it ends) of each box between start and end, the last one
    clamped to the data at hand; stops at anything malformed."""
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        header = 8
        if size == 1:
            if at + 16 > end:
                return
            size, header = struct.unpack(">Q", data[at + 8:at + 16])[0], 16
        elif size == 0:  # to the end of the file
            size = end - at
        if size < header:
            return
        yield kind, at + header, min(end, at + size)
        at += size


def to_standard_range(rgb, cicp: Cicp, rows: int = 256):
    """Pixels (float, 0–1) encoded with the curve `cicp` names → the sRGB curve, in place (for codes that
    `recodes`). HDR (PQ, HLG): linear light relative to HDR's reference white (203 nits), highlights above
    `KNEE` of white rolled off smoothly up to the photo's brightest pixel, hue kept (each pixel is scaled by
    the curve of its largest channel). A gamma curve: its linear light, as it is. Done in slices of `rows`
    rows, so a 24 MP photo needs no full-size temporary."""
    import numpy as np

    for y in range(0, rgb.shape[0], rows):
        part = rgb[y:y + rows]
        if cicp.transfer == PQ:
            part[...] = _pq_to_relative(part)
        elif cicp.transfer == HLG:
            part[...] = _hlg_to_relative(part)
        else:
            np.power(np.clip(part, 0.0, 1.0, out=part), _GAMMAS.get(cicp.transfer, 2.2), out=part)
    return encode_linear(rgb, rows)


def encode_linear(rgb, rows: int = 256):
    """Linear light relative to white (float, may exceed 1) → the sRGB curve, in place: above `KNEE` of
    white, light rolls off smoothly up to the photo's brightest pixel, hue kept (each pixel is scaled by the
    curve of its largest channel); nothing changes below it, nor anywhere when nothing exceeds white."""
    import numpy as np

    peak = 0.0
    for y in range(0, rgb.shape[0], rows):
        peak = max(peak, float(rgb[y:y + rows].max(initial=0.0)))
    span = (peak - KNEE) / (1.0 - KNEE)
    for y in range(0, rgb.shape[0], rows):
        part = rgb[y:y + rows]
        if peak > 1.0:
            m = np.maximum(np.maximum(part[..., 0], part[..., 1]), part[..., 2])  # (max(axis=-1) is slow)
            a = np.maximum(m - KNEE, 0.0) / (1.0 - KNEE)
            mapped = KNEE + (1.0 - KNEE) * a * (1 + a / span**2) / (1 + a)
            part *= np.where(m > KNEE, mapped / np.maximum(m, KNEE), 1.0)[..., None]
        srgb_encode(np.clip(part, 0.0, 1.0, out=part))
    return rgb


def srgb_encode(x):
    """Linear light → the sRGB curve, in place on a float32 array (returned). Values below 0 follow it by
    symmetry and values above 1 by continuation, as extended sRGB holds colours beyond sRGB's gamut."""
    import numpy as np

    negative = x < 0
    signed = bool(negative.any())
    if signed:
        np.abs(x, out=x)
    dark = x <= 0.0031308
    linear_part = x[dark] * np.float32(12.92)
    np.power(x, np.float32(1 / 2.4), out=x)
    x *= np.float32(1.055)
    x -= np.float32(0.055)
    x[dark] = linear_part
    if signed:
        np.negative(x, out=x, where=negative)
    return x


def srgb_decode(v):
    """The sRGB curve → linear light, extended as `srgb_encode` is (a new float32 array)."""
    import numpy as np

    a = np.abs(v)
    curved = np.copysign(np.power((a + np.float32(0.055)) / np.float32(1.055), np.float32(2.4)), v)
    return np.where(a <= 0.04045, v / np.float32(12.92), curved).astype(np.float32)


def _pq_to_relative(e):
    import numpy as np

    m1, m2, c1, c2, c3 = 2610 / 16384, 2523 / 4096 * 128, 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
    p = np.power(np.clip(e, 0.0, 1.0), 1 / m2)
    nits = 10000.0 * np.power(np.maximum(p - c1, 0.0) / (c2 - c3 * p), 1 / m1)
    return nits / REFERENCE_WHITE_NITS


def _hlg_to_relative(e):
    import numpy as np

    a, b, c = 0.17883277, 0.28466892, 0.55991073
    e = np.clip(e, 0.0, 1.0)
    scene = np.where(e <= 0.5, e * e / 3, (np.exp((e - c) / a) + b) / 12)
    ys = scene @ np.array([0.2627, 0.6780, 0.0593], scene.dtype)  # BT.2100 luminance
    gain = HLG_PEAK_NITS * np.power(np.maximum(ys, 1e-12), 1.2 - 1)[..., None]  # the OOTF, system gamma 1.2
    return scene * gain / REFERENCE_WHITE_NITS
