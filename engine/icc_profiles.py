"""ICC profiles built here, for colour a photo states without one (engine.cicp): v2 RGB matrix/TRC display
profiles from primaries and a white point, which LittleCMS, Qt and every editor read. Standard library
only: the GUI imports it through engine.cicp."""

from __future__ import annotations

import struct

_D50 = (0.9642, 1.0, 0.8249)  # the ICC profile connection space's white
_BRADFORD = ((0.8951, 0.2664, -0.1614), (-0.7502, 1.7135, 0.0367), (0.0389, -0.0685, 1.0296))
SRGB_PRIMARIES = ((0.64, 0.33), (0.30, 0.60), (0.15, 0.06), (0.3127, 0.3290))  # red, green, blue, white x, y
_ADOBE_RGB = ((0.64, 0.33), (0.21, 0.71), (0.15, 0.06), (0.3127, 0.3290))
_ADOBE_RGB_GAMMA = 563 / 256  # Adobe RGB (1998)'s 2.19921875
_SRGB_PNG_GAMMA = 0.45455  # gAMA 45455: the 1/2.2 that libpng and web browsers take for sRGB


def adobe_rgb_profile() -> bytes:
    """An ICC profile equal to Adobe RGB (1998): its primaries, D65 white and 563/256 gamma."""
    return matrix_trc_profile(rgb_to_d50_xyz(*_ADOBE_RGB), "Adobe RGB (1998) compatible (Hourglass)",
                              gamma_curve_tag(_ADOBE_RGB_GAMMA))


def png_gamma_profile(info, gray: bool) -> bytes | None:
    """The profile a PNG's gAMA chunk (with its cHRM chunk, if any) describes, where nothing more precise
    does: `info` holds Pillow's reading of the chunks ("gamma", "chromaticity"; "icc_profile" or "srgb"
    when an iCCP or sRGB chunk says more, and then this is None; a cICP chunk is the caller's). None too
    where they mean sRGB: a gAMA of 1/2.2 (within 1%) with sRGB's chromaticities or none, as libpng and web
    browsers take it (Qt would show such a PNG through a pure 2.2 curve, with darker shadows), or where
    there is no usable gAMA."""
    if not png_gamma_states_colour(info):
        return None
    gamma = info.get("gamma")
    if not isinstance(gamma, (int, float)) or not 0.1 <= gamma <= 10:  # (damaged, or absent)
        return None
    chroma = info.get("chromaticity")  # (cHRM's order: white x, y, then red, green and blue x, y)
    primaries = SRGB_PRIMARIES
    if isinstance(chroma, tuple) and len(chroma) == 8 and all(0 < v < 1 for v in chroma):
        primaries = tuple(zip(chroma[2::2], chroma[3::2])) + ((chroma[0], chroma[1]),)
    srgb_primaries = all(abs(a - b) <= 0.002 for p, q in zip(primaries, SRGB_PRIMARIES) for a, b in zip(p, q))
    if abs(gamma - _SRGB_PNG_GAMMA) <= 0.01 * _SRGB_PNG_GAMMA and (gray or srgb_primaries):
        return None
    curve = gamma_curve_tag(1 / gamma)
    name = f"PNG gamma {1 / gamma:.2f} (Hourglass)"
    if gray:
        return gray_trc_profile(curve, name)
    try:
        return matrix_trc_profile(rgb_to_d50_xyz(*primaries), name, curve)
    except (ZeroDivisionError, OverflowError, struct.error):  # primaries (nearly) on one line: no colour
        return matrix_trc_profile(rgb_to_d50_xyz(*SRGB_PRIMARIES), name, curve)  # space; sRGB's, with the gamma


def png_gamma_states_colour(info) -> bool:
    """Whether a PNG's colours are stated by its gAMA chunk alone (with cHRM): it has one, and no iCCP or
    sRGB chunk that says more (`info`: Pillow's reading of the chunks)."""
    return "gamma" in info and "icc_profile" not in info and "srgb" not in info


def rgb_to_d50_xyz(red, green, blue, white):
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


def gamma_curve_tag(gamma: float) -> bytes:
    """A pure gamma curve (device value → linear light = value ** gamma)."""
    return b"curv" + b"\0" * 4 + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"


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
    return _profile(b"RGB ", [*_text_tags(name), (b"wtpt", _xyz_tag(*_D50)),
                              (b"rXYZ", _xyz_tag(*(colorants[i][0] for i in range(3)))),
                              (b"gXYZ", _xyz_tag(*(colorants[i][1] for i in range(3)))),
                              (b"bXYZ", _xyz_tag(*(colorants[i][2] for i in range(3)))),
                              (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve)])


def gray_trc_profile(curve: bytes, name: str) -> bytes:
    """An ICC v2 gray display profile with the given tone-curve tag (Photoshop's Gray Gamma 2.2 is
    `gamma_curve_tag(2.2)`)."""
    return _profile(b"GRAY", [*_text_tags(name), (b"wtpt", _xyz_tag(*_D50)), (b"kTRC", curve)])


def _profile(colour_space: bytes, tags: list[tuple[bytes, bytes]]) -> bytes:
    start = 128 + 4 + 12 * len(tags)
    table, data, placed = b"", b"", {}
    for signature, body in tags:
        if body not in placed:  # the three curves share one copy
            data += b"\0" * (-(start + len(data)) % 4)
            placed[body] = start + len(data)
            data += body
        table += signature + struct.pack(">II", placed[body], len(body))
    body = struct.pack(">I", len(tags)) + table + data
    header = (struct.pack(">I", 128 + len(body)) + b"\0" * 4 + bytes([2, 0x10, 0, 0]) + b"mntr" + colour_space
              + b"XYZ " + struct.pack(">6H", 2026, 1, 1, 0, 0, 0) + b"acsp" + b"\0" * 24 + b"\0" * 4
              + _s15(_D50[0]) + _s15(_D50[1]) + _s15(_D50[2]) + b"\0" * 48)
    assert len(header) == 128
    return header + body
