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

_D50 = (0.9642, 1.0, 0.8249)  # the ICC profile connection space's white
_BRADFORD = ((0.8951, 0.2664, -0.1614), (-0.7502, 1.7135, 0.0367), (0.0389, -0.0685, 1.0296))


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
        return matrix_trc_profile(_rgb_to_d50_xyz(red, green, blue, white), f"{name}, sRGB curve (Hourglass)")


_ADOBE_RGB = ((0.64, 0.33), (0.21, 0.71), (0.15, 0.06), (0.3127, 0.3290))
_ADOBE_RGB_GAMMA = 563 / 256  # Adobe RGB (1998)'s 2.19921875


def exif_means_adobe_rgb(color_space, interop_index) -> bool:
    """DCF's mark of an Adobe RGB photo without a profile, as a camera set to Adobe RGB writes its JPEGs:
    EXIF ColorSpace 'Uncalibrated' (0xFFFF) with the interoperability index "R03" (some software writes
    ColorSpace 2 instead). Lightroom, Photoshop and darktable read it so."""
    index = interop_index.decode("ascii", "replace") if isinstance(interop_index, bytes) else str(interop_index)
    return color_space == 2 or (color_space == 0xFFFF and index.strip(" \0") == "R03")


def adobe_rgb_profile() -> bytes:
    """An ICC profile equal to Adobe RGB (1998): its primaries, D65 white and 563/256 gamma."""
    colorants = _rgb_to_d50_xyz(*_ADOBE_RGB)
    curve = b"curv" + b"\0" * 4 + struct.pack(">IH", 1, round(_ADOBE_RGB_GAMMA * 256)) + b"\0\0"
    return matrix_trc_profile(colorants, "Adobe RGB (1998) compatible (Hourglass)", curve)


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
    if peak > 1.0:
        span = (peak - KNEE) / (1.0 - KNEE)
        for y in range(0, rgb.shape[0], rows):
            part = rgb[y:y + rows]
            m = part.max(axis=-1, keepdims=True)
            a = np.maximum(m - KNEE, 0.0) / (1.0 - KNEE)
            mapped = np.where(m > KNEE, KNEE + (1.0 - KNEE) * a * (1 + a / span**2) / (1 + a), m)
            part *= np.divide(mapped, m, out=np.ones_like(m), where=m > 0)
    for y in range(0, rgb.shape[0], rows):
        part = rgb[y:y + rows]
        np.clip(part, 0.0, 1.0, out=part)
        part[...] = np.where(part <= 0.0031308, part * 12.92, 1.055 * np.power(part, 1 / 2.4) - 0.055)
    return rgb


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


def _rgb_to_d50_xyz(red, green, blue, white):
    """Columns: each primary's XYZ, adapted from the photo's white to D50 (Bradford), as ICC colorants."""
    def xyz(x, y):
        return (x / y, 1.0, (1 - x - y) / y)

    cols = [xyz(*p) for p in (red, green, blue)]
    w = xyz(*white)
    scale = _solve([[cols[j][i] for j in range(3)] for i in range(3)], w)
    m = [[cols[j][i] * scale[j] for j in range(3)] for i in range(3)]
    src, dst = _mul(_BRADFORD, w), _mul(_BRADFORD, _D50)
    cone = [[(dst[i] / src[i]) * _BRADFORD[i][j] for j in range(3)] for i in range(3)]
    adapt = _matmul(_inverse(_BRADFORD), cone)
    return _matmul(adapt, m)


def _mul(m, v):
    return [sum(m[i][k] * v[k] for k in range(3)) for i in range(3)]


def _matmul(a, b):
    return [[sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)] for i in range(3)]


def _inverse(m):
    (a, b, c), (d, e, f), (g, h, i) = m
    det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
    adj = [[e * i - f * h, c * h - b * i, b * f - c * e], [f * g - d * i, a * i - c * g, c * d - a * f],
           [d * h - e * g, b * g - a * h, a * e - b * d]]
    return [[adj[r][k] / det for k in range(3)] for r in range(3)]


def _solve(m, v):
    return _mul(_inverse(m), v)


def _s15(x: float) -> bytes:
    return struct.pack(">i", round(x * 65536))


def _xyz_tag(x: float, y: float, z: float) -> bytes:
    return b"XYZ " + b"\0" * 4 + _s15(x) + _s15(y) + _s15(z)


def _srgb_curve_tag() -> bytes:
    """The sRGB curve as a 1024-point table (v2 has no parametric curves)."""
    def linear(v):
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4
    table = [round(linear(i / 1023) * 65535) for i in range(1024)]
    return b"curv" + b"\0" * 4 + struct.pack(f">I{len(table)}H", len(table), *table)


def _text_tags(name: str) -> list[tuple[bytes, bytes]]:
    ascii_name = name.encode("ascii", "replace") + b"\0"
    desc = (b"desc" + b"\0" * 4 + struct.pack(">I", len(ascii_name)) + ascii_name
            + struct.pack(">II", 0, 0) + struct.pack(">HB", 0, 0) + b"\0" * 67)
    return [(b"desc", desc), (b"cprt", b"text" + b"\0" * 4 + b"No copyright, use freely\0")]


def matrix_trc_profile(colorants, name: str, curve: bytes | None = None) -> bytes:
    """An ICC v2 RGB display profile: `colorants` (columns: each primary's XYZ, D50-adapted) with the sRGB
    curve, or the given tone-curve tag ('curv' or 'para')."""
    curve = curve or _srgb_curve_tag()
    tags = [*_text_tags(name), (b"wtpt", _xyz_tag(*_D50)),
            (b"rXYZ", _xyz_tag(*(colorants[i][0] for i in range(3)))),
            (b"gXYZ", _xyz_tag(*(colorants[i][1] for i in range(3)))),
            (b"bXYZ", _xyz_tag(*(colorants[i][2] for i in range(3)))),
            (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve)]
    start = 128 + 4 + 12 * len(tags)
    table, data, placed = b"", b"", {}
    for signature, body in tags:
        if body not in placed:  # the three curves share one copy
            data += b"\0" * (-(start + len(data)) % 4)
            placed[body] = start + len(data)
            data += body
        table += signature + struct.pack(">II", placed[body], len(body))
    body = struct.pack(">I", len(tags)) + table + data
    header = (struct.pack(">I", 128 + len(body)) + b"\0" * 4 + bytes([2, 0x10, 0, 0]) + b"mntr" + b"RGB "
              + b"XYZ " + struct.pack(">6H", 2026, 1, 1, 0, 0, 0) + b"acsp" + b"\0" * 24 + b"\0" * 4
              + _s15(_D50[0]) + _s15(_D50[1]) + _s15(_D50[2]) + b"\0" * 48)
    assert len(header) == 128
    return header + body

