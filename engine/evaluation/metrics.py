"""PSNR and SSIM on the Y channel, exactly as DiffUIR's test code measures them (spec §6.1).

Both take float RGB images in [0, 1] (H×W×3, the same shape) and follow the official path step by step:

1. ``tensor2img``: clamp to [0, 1], RGB→BGR, ``np.round(x·255)`` (round half to even), uint8.
2. ``to_y_channel`` (BasicSR): uint8/255 in float32, BT.601 ``bgr2ycbcr`` luma
   Y = 16 + 24.966·B + 128.553·G + 65.481·R (B, G, R in [0, 1], Y on the 0–255 scale), kept as float32
   like BasicSR does (it casts back to the input's float32 type), then promoted to float64.
3. PSNR = 20·log10(255/√MSE) in float64 (``inf`` for identical images), crop_border 0.
4. SSIM with C1 = (0.01·255)², C2 = (0.03·255)², an 11×11 Gaussian window (σ = 1.5) applied with
   ``cv2.filter2D`` and BORDER_REPLICATE, and the mean of the full SSIM map (no border is cropped).
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["psnr_y", "ssim_y", "tensor2img", "y_channel"]

_Y_WEIGHTS_BGR = [24.966, 128.553, 65.481]
_C1 = (0.01 * 255) ** 2
_C2 = (0.03 * 255) ** 2


def tensor2img(rgb: np.ndarray) -> np.ndarray:
    """Float RGB in [0, 1] → uint8 BGR, with the official rounding (np.round: half to even)."""
    x = np.asarray(rgb)
    if x.ndim != 3 or x.shape[2] != 3:
        raise ValueError(f"expected an H×W×3 RGB image, got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"expected float pixels in [0, 1], got {x.dtype}")
    x = np.clip(x.astype(np.float32, copy=False), 0.0, 1.0)
    return np.round(x[..., ::-1] * np.float32(255.0)).astype(np.uint8)


def y_channel(bgr_u8: np.ndarray) -> np.ndarray:
    """BasicSR's ``to_y_channel`` of a uint8 BGR image: float64 Y on the 0–255 scale (16..235)."""
    img = bgr_u8.astype(np.float32) / np.float32(255.0)
    y = np.dot(img, _Y_WEIGHTS_BGR) + 16.0  # float64, as numpy promotes the Python weights
    y = (y / 255.0).astype(np.float32)  # bgr2ycbcr returns the input's type (float32) in [0, 1]
    return (y * np.float32(255.0)).astype(np.float64)


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"image shapes differ: {a.shape} vs {b.shape}")
    return y_channel(tensor2img(a)), y_channel(tensor2img(b))


def psnr_y(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB between two float RGB images in [0, 1], on the Y channel; ``inf`` when identical."""
    ya, yb = _pair(a, b)
    mse = float(np.mean((ya - yb) ** 2))
    if mse == 0:
        return float("inf")
    return float(20.0 * np.log10(255.0 / np.sqrt(mse)))


def _ssim_plane(x: np.ndarray, y: np.ndarray) -> float:
    kernel = cv2.getGaussianKernel(11, 1.5)
    window = np.outer(kernel, kernel.transpose())

    def filt(img: np.ndarray) -> np.ndarray:
        return cv2.filter2D(img, -1, window, borderType=cv2.BORDER_REPLICATE)

    mu1, mu2 = filt(x), filt(y)
    mu1_sq, mu2_sq, mu1_mu2 = mu1 * mu1, mu2 * mu2, mu1 * mu2
    sigma1_sq = filt(x * x) - mu1_sq
    sigma2_sq = filt(y * y) - mu2_sq
    sigma12 = filt(x * y) - mu1_mu2
    ssim_map = ((2 * mu1_mu2 + _C1) * (2 * sigma12 + _C2)) / ((mu1_sq + mu2_sq + _C1) * (sigma1_sq + sigma2_sq + _C2))
    return float(ssim_map.mean())


def ssim_y(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM between two float RGB images in [0, 1], on the Y channel (1.0 when identical)."""
    ya, yb = _pair(a, b)
    return _ssim_plane(ya, yb)
