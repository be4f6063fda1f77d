"""Restoring in sRGB numbers, whatever RGB space the photo is stored in. The networks and the detector were
trained on sRGB photos; the same dark photo stored in Adobe RGB (as cameras set to it save) came out 2.7 dB
further from the clean photo than in sRGB (Display P3, as phones save: 0.6 dB; on rain and snow Adobe RGB
was by chance 0.4-0.7 dB closer; six evaluation photos, stop 33): its numbers, darker in the shadows and
less saturated, are not what they learnt, and a result should not depend on how its photo is stored.

So a photo with an RGB matrix/TRC profile other than sRGB is converted to sRGB numbers when read, and back
to its own space when written: its file keeps its profile and its gamut. Colours beyond sRGB, which the
networks cannot see, keep what lies beyond sRGB as it was (`OwnSpace.excess`): a photo saved again
unrestored comes back as it was, to rounding. Gray photos with a gray profile (Gray Gamma 2.2) are
converted the same way; LUT profiles and sRGB ones are left as they are. `write_image(srgb=True)` keeps
the sRGB numbers instead, for the web."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.cicp import srgb_decode, srgb_encode
from engine.imaging.matrix_profiles import MatrixProfile, read_matrix_profile, srgb_colorants

ROWS = 256  # rows converted at a time: a 24 MP photo needs no full-size temporary


@dataclass(frozen=True)
class OwnSpace:
    """The photo's own RGB space, and what of its colours lay outside sRGB: enough to take sRGB numbers
    back to the photo's space."""

    profile: MatrixProfile
    from_srgb: np.ndarray  # 3×3: linear sRGB → the photo's linear RGB
    shape: tuple[int, int]  # the photo's height and width, upright
    excess_at: np.ndarray  # flat pixel indices (ascending) of the colours outside sRGB
    excess: np.ndarray  # N×3 float32: how far outside, in sRGB numbers

    def beyond_srgb(self, by: float = 1 / 255) -> float:
        """The fraction of the photo's pixels whose colour lies beyond sRGB by more than `by` (an 8-bit
        step) in some channel."""
        far = int((np.abs(self.excess) > by).any(axis=-1).sum()) if len(self.excess) else 0
        return far / max(1, self.shape[0] * self.shape[1])

    def back(self, rgb: np.ndarray) -> np.ndarray:
        """A copy of `rgb` (sRGB numbers, float) in the photo's own space; the colours beyond sRGB are put
        back where the pixels are the photo's (same size)."""
        out = np.empty(rgb.shape, np.float32)
        h, w = rgb.shape[:2]
        excess = (h, w) == self.shape and len(self.excess_at) > 0
        matrix = self.from_srgb.T.astype(np.float32)
        for y in range(0, h, ROWS):
            part = out[y:y + ROWS]
            part[...] = rgb[y:y + ROWS]
            if excess:
                lo, hi = np.searchsorted(self.excess_at, (y * w, (y + len(part)) * w))
                part.reshape(-1, 3)[self.excess_at[lo:hi] - y * w] += self.excess[lo:hi]
            linear = np.clip(srgb_decode(part) @ matrix, 0.0, 1.0)
            for c, curve in enumerate(self.profile.curves):
                part[..., c] = curve.encoded(linear[..., c])
        return out


def to_srgb(rgb: np.ndarray, icc: bytes | None) -> OwnSpace | None:
    """Convert `rgb` (float H×W×3 in [0, 1], in place) from the RGB space `icc` describes to sRGB numbers,
    clipped to [0, 1], and return how to go back; None (`rgb` untouched) for sRGB, a profile that is neither
    an RGB matrix/TRC one nor a gray one (three equal channels stay equal), or none."""
    profile = read_matrix_profile(icc)
    if profile is None or profile.is_srgb():
        return None
    to_srgb_linear = np.linalg.solve(srgb_colorants(), profile.colorants)
    to_srgb_linear /= to_srgb_linear.sum(axis=1, keepdims=True)  # white stays exactly white (profiles round)
    matrix = to_srgb_linear.T.astype(np.float32)
    h, w = rgb.shape[:2]
    places, amounts = [], []
    for y in range(0, h, ROWS):
        part = rgb[y:y + ROWS]
        for c, curve in enumerate(profile.curves):
            part[..., c] = curve.linear(np.clip(part[..., c], 0.0, 1.0))
        part[...] = srgb_encode(part @ matrix)
        outside = ((part < 0.0) | (part > 1.0)).any(axis=-1)
        if outside.any():
            places.append(np.flatnonzero(outside) + y * w)
            amounts.append(part[outside] - np.clip(part[outside], 0.0, 1.0))
        np.clip(part, 0.0, 1.0, out=part)
    index = np.int32 if h * w < 2**31 else np.int64
    excess_at = np.concatenate(places).astype(index) if places else np.empty(0, index)
    excess = np.concatenate(amounts) if amounts else np.empty((0, 3), np.float32)
    return OwnSpace(profile, np.linalg.inv(to_srgb_linear), (h, w), excess_at, excess)

