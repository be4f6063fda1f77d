"""Train the degradation detector on synthetic degradations of the clean training photos.

    python -m engine.detection.train [--variants 6] [--members 5] [--cnn-epochs 15] [--seed 2024]
                                     [--workers 1] [--out resources/models/hourglass-detector.safetensors]

Steps: build (or load from `out/detect/`) the synthetic data set (`dataset.py`: every clean photo in
`../shared/data/train/clean` × 6 classes × `variants` random degradations; per sample the image
statistics and two 96×96 crops), hold out every tenth photo, then on the rest fit
- `members` small MLPs on the statistics (N → 64 → 32 → 6, ReLU, dropout, input noise, AdamW, label
  smoothing; each with its own seed), and
- the crop network (`cropnet.py`) on random 64×64 windows of the crops, for `cnn-epochs` epochs;
calibrate both softmax temperatures and the mixing weight (at most `MAX_MIX`) on the held-out photos
(lowest negative log-likelihood), report the held-out accuracy and confusion matrix, and write the weights (safetensors,
numpy-only at inference). Never touches the real/ or eval/ photos: those are the test set
(`engine.detection.evaluate`). Reproducible for a given seed, data and torch version (`--threads 1`).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np

from engine.detection.dataset import DataSet, build
from engine.detection.features import FEATURE_NAMES, WORK_SIDE
from engine.detection.model import DetectorWeights
from engine.detection.synthetic import CLASSES

log = logging.getLogger("engine.detection.train")

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "resources" / "models" / "hourglass-detector.safetensors"
HIDDEN = (64, 32)
MAX_MIX = 0.5  # the largest weight the crop network may get in the mix


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n: int = len(CLASSES)) -> np.ndarray:
    m = np.zeros((n, n), np.int64)
    np.add.at(m, (y_true, y_pred), 1)
    return m


def balanced_accuracy(m: np.ndarray) -> float:
    rows = m.sum(axis=1)
    present = rows > 0
    return float(np.mean(np.diag(m)[present] / rows[present]))


def fit_member(x: np.ndarray, y: np.ndarray, seed: int, *, epochs: int = 120, lr: float = 3e-3,
               weight_decay: float = 1e-3, dropout: float = 0.15, smoothing: float = 0.05,
               input_noise: float = 0.1) -> list[tuple[np.ndarray, np.ndarray]]:
    """One MLP on standardised features; returns its layers as numpy (w, b) with y = x @ w + b."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    sizes = (x.shape[1], *HIDDEN, len(CLASSES))
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers += [nn.ReLU(), nn.Dropout(dropout)]
    net = nn.Sequential(*layers)
    params = list(net.parameters())
    # AdamW written out (torch.optim pulls in torch._dynamo, seconds of import time for a few lines of maths)
    moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]
    b1, b2, step = 0.9, 0.999, 0
    loss_fn = nn.CrossEntropyLoss(label_smoothing=smoothing)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    gen = torch.Generator().manual_seed(seed)
    batch = 256
    for epoch in range(epochs):
        net.train()
        rate = lr * 0.5 * (1 + math.cos(math.pi * epoch / epochs))  # cosine schedule
        order = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            xb = xt[idx]
            xb = xb + input_noise * torch.randn(xb.shape, generator=gen)  # robustness to feature shifts
            loss = loss_fn(net(xb), yt[idx])
            net.zero_grad()
            loss.backward()
            step += 1
            with torch.no_grad():
                for p, (m, v) in zip(params, moments, strict=True):
                    p.mul_(1 - rate * weight_decay)
                    m.mul_(b1).add_(p.grad, alpha=1 - b1)
                    v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                    denom = (v / (1 - b2**step)).sqrt_().add_(1e-8)
                    p.addcdiv_(m, denom, value=-rate / (1 - b1**step))
    linears = [m for m in net if isinstance(m, nn.Linear)]
    return [(m.weight.detach().numpy().T.copy(), m.bias.detach().numpy().copy()) for m in linears]


def calibrate_temperature(weights: DetectorWeights, x: np.ndarray, y: np.ndarray) -> float:
    """The softmax temperature with the lowest held-out negative log-likelihood (grid search)."""
    best, best_t = float("inf"), 1.0
    for t in np.exp(np.linspace(np.log(0.5), np.log(4.0), 29)):
        weights.temperature = float(t)
        p = weights.probabilities(x)
        nll = float(-np.log(p[np.arange(len(y)), y] + 1e-12).mean())
        if nll < best:
            best, best_t = nll, float(t)
    weights.temperature = best_t
    return best_t


def fit_cropnet(crops: np.ndarray, labels: np.ndarray, seed: int, *, epochs: int, size: int = 64,
                batch: int = 64, lr: float = 2e-3, weight_decay: float = 1e-4, smoothing: float = 0.05):
    """Train the crop network on random size×size windows of the stored crops (N, K, 96, 96, 3) uint8,
    flipped left-right half of the time; returns the torch module."""
    import torch
    from torch import nn

    from engine.detection import cropnet

    torch.manual_seed(seed)
    net = cropnet.torch_module(len(CLASSES))
    flat = crops.reshape(-1, *crops.shape[2:])
    ys = np.repeat(labels, crops.shape[1])
    params = list(net.parameters())
    moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]
    b1, b2, step = 0.9, 0.999, 0
    loss_fn = nn.CrossEntropyLoss(label_smoothing=smoothing)
    rng = np.random.default_rng(seed)
    span = flat.shape[1] - size
    for epoch in range(epochs):
        net.train()
        order = rng.permutation(len(flat))
        total, t0 = 0.0, time.perf_counter()
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            oy, ox = rng.integers(0, span + 1, 2)
            xb = flat[idx, oy:oy + size, ox:ox + size]
            if rng.random() < 0.5:
                xb = xb[:, :, ::-1]
            xt = torch.from_numpy(np.ascontiguousarray(xb.transpose(0, 3, 1, 2), dtype=np.float32) / 255)
            loss = loss_fn(net(xt), torch.from_numpy(ys[idx]))
            net.zero_grad()
            loss.backward()
            step += 1
            rate = lr * 0.5 * (1 + math.cos(math.pi * step / (epochs * math.ceil(len(order) / batch))))
            with torch.no_grad():
                for p, (m, v) in zip(params, moments, strict=True):
                    p.mul_(1 - rate * weight_decay)
                    m.mul_(b1).add_(p.grad, alpha=1 - b1)
                    v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                    p.addcdiv_(m, (v / (1 - b2**step)).sqrt_().add_(1e-8), value=-rate / (1 - b1**step))
            total += float(loss.detach()) * len(idx)
        log.info("crop network epoch %d/%d: loss %.4f (%.0f s)", epoch + 1, epochs, total / len(order),
                 time.perf_counter() - t0)
    return net.eval()


def crop_logits(net, crops: np.ndarray) -> np.ndarray:
    """Logits (N, K, classes) of the crop network for the stored crops (N, K, S, S, 3) uint8."""
    import torch

    flat = crops.reshape(-1, *crops.shape[2:])
    out = []
    with torch.no_grad():
        for i in range(0, len(flat), 256):
            x = torch.from_numpy(np.ascontiguousarray(flat[i:i + 256].transpose(0, 3, 1, 2), dtype=np.float32) / 255)
            out.append(net(x).numpy())
    return np.concatenate(out).reshape(crops.shape[0], crops.shape[1], -1)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _nll(p: np.ndarray, y: np.ndarray) -> float:
    return float(-np.log(p[np.arange(len(y)), y] + 1e-12).mean())


def _metrics(prefix: str, p: np.ndarray, y: np.ndarray) -> dict:
    m = confusion(y, p.argmax(axis=1))
    return {f"{prefix}accuracy": round(float(np.trace(m) / m.sum()), 4),
            f"{prefix}balanced_accuracy": round(balanced_accuracy(m), 4),
            f"{prefix}per_class": {c: round(float(m[i, i] / max(1, m[i].sum())), 4) for i, c in enumerate(CLASSES)},
            f"{prefix}confusion": m.tolist()}


def train(ds: DataSet, *, members: int, seed: int, epochs: int = 120,
          cnn_epochs: int = 0) -> tuple[DetectorWeights, dict]:
    """Fit the MLP ensemble (and, with `cnn_epochs`, the crop network), calibrate on the held-out photos."""
    from engine.detection import cropnet

    tr, ho = ds.split(False), ds.split(True)
    mean = tr.features.mean(axis=0)
    std = tr.features.std(axis=0) + 1e-6
    xs = ((tr.features - mean) / std).astype(np.float32)
    t0 = time.perf_counter()
    nets = [fit_member(xs, tr.labels, seed + k, epochs=epochs) for k in range(members)]
    fit_s = time.perf_counter() - t0
    weights = DetectorWeights(CLASSES, FEATURE_NAMES, mean.astype(np.float32), std.astype(np.float32), nets)
    temperature = calibrate_temperature(weights, ho.features, ho.labels)
    p_mlp = weights.probabilities(ho.features)
    metrics = {**_metrics("heldout_mlp_", p_mlp, ho.labels), "temperature": round(temperature, 4),
               "train_accuracy_mlp": round(float((weights.probabilities(tr.features).argmax(1) == tr.labels).mean()), 4),
               "fit_seconds_mlp": round(fit_s, 1), "train_samples": len(tr.labels), "heldout_samples": len(ho.labels)}
    p = p_mlp
    if cnn_epochs > 0:
        t1 = time.perf_counter()
        net = fit_cropnet(tr.crops, tr.labels, seed, epochs=cnn_epochs)
        metrics["fit_seconds_cnn"] = round(time.perf_counter() - t1, 1)
        z = crop_logits(net, ho.crops)  # (N, K, classes)
        best = (float("inf"), 1.0)
        for t in np.exp(np.linspace(np.log(0.5), np.log(4.0), 29)):  # per-crop calibration
            best = min(best, (_nll(np.exp(_log_softmax(z / t)).reshape(-1, len(CLASSES)),
                                   np.repeat(ho.labels, z.shape[1])), float(t)))
        cnn_t = best[1]
        logp_cnn = _log_softmax(z / cnn_t).mean(axis=1)
        metrics.update(_metrics("heldout_cnn_", np.exp(logp_cnn), ho.labels))
        weights.cnn, weights.cnn_temperature = cropnet.export(net), cnn_t
        best = (float("inf"), 0.0)
        # at most half: the crop network sees pixels, so it fits the synthetic look more closely than the
        # statistics do; held-out synthetic photos cannot tell how much of that carries over to real ones
        for mix in np.linspace(0, MAX_MIX, 6):
            weights.mix = float(mix)
            best = min(best, (_nll(weights.mixed(p_mlp, logp_cnn), ho.labels), float(mix)))
        weights.mix = best[1]
        p = weights.mixed(p_mlp, logp_cnn)
        metrics.update({"cnn_temperature": round(cnn_t, 4), "mix": weights.mix})
    metrics.update(_metrics("heldout_", p, ho.labels))
    if ho.gray.any():  # the colour samples alone stay comparable with detectors trained without gray ones
        for name, m in (("colour", ~ho.gray), ("gray", ho.gray)):
            metrics[f"heldout_{name}_accuracy"] = round(float((p[m].argmax(1) == ho.labels[m]).mean()), 4)
    return weights, metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.detection.train", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="clean photos (default: ../shared/data/train/clean)")
    parser.add_argument("--variants", type=int, default=6, help="random degradations per photo and class")
    parser.add_argument("--gray-variants", type=int, default=0,
                        help="black-and-white degradations per photo and class, added to the colour ones")
    parser.add_argument("--members", type=int, default=5, help="MLPs in the ensemble")
    parser.add_argument("--epochs", type=int, default=120, help="epochs of each MLP")
    parser.add_argument("--cnn-epochs", type=int, default=15,
                        help="epochs of the crop network (0: none; the shipped weights use 15)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--workers", type=int, default=1, help="processes building the data set")
    parser.add_argument("--cache", type=Path, default=ROOT / "out" / "detect", help="data set cache folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s")

    import torch

    from engine.training.data import TRAIN_CLEAN, find_photos

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    data = args.data or TRAIN_CLEAN
    paths = find_photos(data)
    ds = build(paths, variants=args.variants, seed=args.seed, workers=args.workers, cache_dir=args.cache,
               gray_variants=args.gray_variants)
    data_s = time.perf_counter() - t0
    weights, metrics = train(ds, members=args.members, seed=args.seed, epochs=args.epochs, cnn_epochs=args.cnn_epochs)
    metrics["data_seconds"] = round(data_s, 1)
    weights.info = {
        "recipe": f"python -m engine.detection.train --variants {args.variants} "
                  + (f"--gray-variants {args.gray_variants} " if args.gray_variants else "")
                  + f"--members {args.members} "
                  f"--epochs {args.epochs} --cnn-epochs {args.cnn_epochs} --seed {args.seed}",
        "data": f"{len(paths)} clean photos in {data.name}/ ({', '.join(sorted({p.parent.name for p in paths}))}), "
                f"{len(ds.labels)} synthetic samples ({args.variants} per photo and class"
                + (f", and {args.gray_variants} in black and white" if args.gray_variants else "")
                + "), every 10th photo held out",
        "work_side": WORK_SIDE, "hidden": list(HIDDEN), "torch": torch.__version__,
        "python": platform.python_version(), "metrics": metrics,
    }
    weights.save(args.out)
    print(json.dumps({k: v for k, v in metrics.items() if "confusion" not in k}, indent=1))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
