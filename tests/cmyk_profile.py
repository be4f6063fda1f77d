"""A small CMYK ICC profile for tests (no CMYK profile ships with Pillow, Qt or Debian's base system):
a v2 output profile whose A2B0 table (lut8, 2 points per ink) maps inks to Lab colours that are not the
naive 1 − C, 1 − M, 1 − Y, on off-white paper, so a conversion that ignores the profile shows."""

from __future__ import annotations

import itertools
import struct

import numpy as np


def _s15(x: float) -> bytes:
    return struct.pack(">i", round(x * 65536))


def _lab(rgb: np.ndarray) -> tuple[float, float, float]:
    """sRGB (0–1) → CIE Lab (D50), as the profile connection space wants it."""
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    to_xyz = np.array([[0.4360747, 0.3850649, 0.1430804], [0.2225045, 0.7168786, 0.0606169],
                       [0.0139322, 0.0971045, 0.7141733]])  # sRGB → XYZ, adapted to D50
    xyz = to_xyz @ lin / np.array([0.9642, 1.0, 0.8249])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def cmyk_profile() -> bytes:
    clut = bytearray()
    for c, m, y, k in itertools.product((0, 1), repeat=4):  # the first ink varies slowest
        rgb = np.array([1 - 0.85 * c - 0.1 * m, 1 - 0.9 * m - 0.05 * y - 0.2 * c, 1 - 0.8 * y - 0.3 * c]) * (1 - 0.85 * k)
        lightness, a, b = _lab(np.clip(rgb, 0, 1) * np.array([0.96, 0.95, 0.9]))
        clut += bytes(round(float(np.clip(v, 0, 255))) for v in (lightness / 100 * 255, a + 128, b + 128))
    ramp = bytes(range(256))
    a2b0 = (b"mft1" + b"\0" * 4 + bytes([4, 3, 2, 0]) + b"".join(_s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
            + ramp * 4 + bytes(clut) + ramp * 3)
    name = b"Hourglass test CMYK"
    desc = b"desc" + b"\0" * 4 + struct.pack(">I", len(name) + 1) + name + b"\0" * 80
    tags = [(b"desc", desc), (b"cprt", b"text" + b"\0" * 4 + b"Test data\0"),
            (b"wtpt", b"XYZ " + b"\0" * 4 + _s15(0.9642) + _s15(1.0) + _s15(0.8249)), (b"A2B0", a2b0)]
    start = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        data += b"\0" * (-(start + len(data)) % 4)
        table += signature + struct.pack(">II", start + len(data), len(body))
        data += body
    body = struct.pack(">I", len(tags)) + table + data
    header = (struct.pack(">I", 128 + len(body)) + b"lcms" + bytes([2, 0x10, 0, 0]) + b"prtr" + b"CMYK" + b"Lab "
              + struct.pack(">6H", 2024, 1, 1, 0, 0, 0) + b"acsp" + b"\0" * 24 + b"\0" * 4
              + _s15(0.9642) + _s15(1.0) + _s15(0.8249) + b"\0" * 48)
    assert len(header) == 128
    return header + body
