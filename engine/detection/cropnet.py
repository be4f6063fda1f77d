"""A tiny convolutional network that looks at pixel crops of the working copy (numpy inference).

Why: the image statistics (`features`) summarise the whole photo; thin rain streaks and small snow flakes
are local textures that a few learned 3×3 filters see better. The network classifies 96×96 crops of the
≤384 px working copy (`crops` takes a fixed grid of them, so the answer is deterministic); the detector
averages its log-probabilities over the crops and mixes them with the statistics' classifier.

Architecture (47 k parameters): four 3×3 convolutions (3→16→32→48→64, zero padding, ReLU), 2×2 max-pooling
after the first three, then global average and max pooling (128 values) and one linear layer to the classes.
The input is normalised as (x − 0.5) / 0.25. `forward` is plain numpy (im2col + matrix products, ~2 ms a
crop); `torch_module` builds the identical network for training (engine/detection/train.py).
"""

from __future__ import annotations

import numpy as np

CROP = 96
CHANNELS = (16, 32, 48, 64)
GRID = (2, 3)  # rows × columns of crops taken from the working copy


def crops(work: np.ndarray, size: int = CROP, grid: tuple[int, int] = GRID) -> np.ndarray:
    """A fixed grid of size×size crops of the working copy, float32 (N, 3, size, size); a small image is
    upscaled first so that it holds one crop."""
    import cv2

    h, w = work.shape[:2]
    if min(h, w) < size:
        f = size / min(h, w)
        work = cv2.resize(work, (max(size, round(w * f)), max(size, round(h * f))), interpolation=cv2.INTER_CUBIC)
        h, w = work.shape[:2]
    ys = np.linspace(0, h - size, grid[0]).round().astype(int)
    xs = np.linspace(0, w - size, grid[1]).round().astype(int)
    out = np.stack([work[y:y + size, x:x + size, :3] for y in ys for x in xs])
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2), dtype=np.float32)


def _conv3x3(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Zero-padded 3×3 convolution (cross-correlation, as torch) on channel-first activations:
    x (C, N, H, W), w (O, C, 3, 3) → (O, N, H, W); nine (O×C)·(C×NHW) matrix products."""
    c, n, h, wd = x.shape
    p = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    if c < 8:  # few input channels: one product with the 9 shifts stacked (K = 9·C)
        cols = np.empty((3, 3, c, n, h, wd), np.float32)
        for dy in range(3):
            for dx in range(3):
                cols[dy, dx] = p[:, :, dy:dy + h, dx:dx + wd]
        out = w.transpose(0, 2, 3, 1).reshape(w.shape[0], 9 * c) @ cols.reshape(9 * c, -1)
    else:
        out = np.zeros((w.shape[0], n * h * wd), np.float32)
        for dy in range(3):
            for dx in range(3):
                out += w[:, :, dy, dx] @ p[:, :, dy:dy + h, dx:dx + wd].reshape(c, -1)
    out += b[:, None]
    return out.reshape(w.shape[0], n, h, wd)


def _maxpool2(x: np.ndarray) -> np.ndarray:
    h, w = x.shape[2] // 2 * 2, x.shape[3] // 2 * 2
    return np.maximum(np.maximum(x[:, :, 0:h:2, 0:w:2], x[:, :, 1:h:2, 0:w:2]),
                      np.maximum(x[:, :, 0:h:2, 1:w:2], x[:, :, 1:h:2, 1:w:2]))


def forward(x: np.ndarray, layers: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Logits (N, classes) for crops x (N, 3, H, W) in [0, 1]; `layers`: 4 convolutions, then the linear one."""
    h = ((np.asarray(x, np.float32) - np.float32(0.5)) / np.float32(0.25)).transpose(1, 0, 2, 3)
    for i, (w, b) in enumerate(layers[:-1]):
        h = np.maximum(_conv3x3(h, w, b), 0.0)
        if i < len(layers) - 2:
            h = _maxpool2(h)
    pooled = np.concatenate([h.mean(axis=(2, 3)).T, h.max(axis=(2, 3)).T], axis=1)
    w, b = layers[-1]
    return pooled @ w + b


def torch_module(classes: int):
    """The same network in torch, for training; `export` turns it into `forward`'s layers."""
    from torch import nn

    class CropNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            chans = (3, *CHANNELS)
            self.convs = nn.ModuleList(nn.Conv2d(chans[i], chans[i + 1], 3, padding=1) for i in range(len(CHANNELS)))
            self.fc = nn.Linear(2 * CHANNELS[-1], classes)

        def forward(self, x):
            import torch

            h = (x - 0.5) / 0.25
            for i, conv in enumerate(self.convs):
                h = torch.relu(conv(h))
                if i < len(self.convs) - 1:
                    h = torch.nn.functional.max_pool2d(h, 2)
            pooled = torch.cat([h.mean(dim=(2, 3)), h.amax(dim=(2, 3))], dim=1)
            return self.fc(pooled)

    return CropNet()


def export(module) -> list[tuple[np.ndarray, np.ndarray]]:
    """The torch module's weights as `forward`'s layers (the linear one transposed to x @ w + b)."""
    layers = [(c.weight.detach().numpy().copy(), c.bias.detach().numpy().copy()) for c in module.convs]
    layers.append((module.fc.weight.detach().numpy().T.copy(), module.fc.bias.detach().numpy().copy()))
    return layers
