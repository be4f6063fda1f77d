"""The detector's classifier: an ensemble of small multilayer perceptrons over `features.extract`'s vector,
optionally mixed with a tiny crop network (`cropnet`).

Inference is plain numpy (a few small matrix products), so detecting never imports torch. The weights live
in one safetensors file: the feature standardisation (`mean`, `std`), per MLP member `m{k}.w{j}` /
`m{k}.b{j}` (layer j, `y = x @ w + b`, ReLU between layers), and the crop network's `cnn.w{j}` / `cnn.b{j}`;
the metadata holds the class names, the feature names, the temperatures, the mixing weight and the training
recipe. A second classifier for black-and-white photos may ride along (`gray`: its tensors and metadata
prefixed `gray.`): colour cues mean nothing in a gray photo, and a detector that has learnt them calls
black-and-white photos rain. Scores: the MLP members' mean softmax at `temperature`; with the crop network, a geometric mix
p ∝ p_mlp^(1−mix) · p_cnn^mix, where p_cnn averages the crops' log-softmax at `cnn_temperature`. The
temperatures and `mix` are chosen on held-out synthetic photos.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import ModelInvalidError

FORMAT = "hourglass-detector/1"


@dataclass
class DetectorWeights:
    classes: tuple[str, ...]
    feature_names: tuple[str, ...]
    mean: np.ndarray
    std: np.ndarray
    members: list[list[tuple[np.ndarray, np.ndarray]]]  # per member: [(w, b), ...]
    temperature: float = 1.0
    info: dict = field(default_factory=dict)  # recipe, data, metrics (strings and numbers)
    cnn: list[tuple[np.ndarray, np.ndarray]] | None = None  # cropnet layers
    cnn_temperature: float = 1.0
    mix: float = 0.0  # weight of the crop network in the geometric mix
    gray: DetectorWeights | None = None  # the classifier for black-and-white photos, if any

    def logits(self, features: np.ndarray) -> np.ndarray:
        """Per-member logits, shape (members, N, classes), for features of shape (N, F)."""
        x = (np.atleast_2d(np.asarray(features, np.float32)) - self.mean) / self.std
        out = []
        for layers in self.members:
            h = x
            for j, (w, b) in enumerate(layers):
                h = h @ w + b
                if j < len(layers) - 1:
                    h = np.maximum(h, 0.0)
            out.append(h)
        return np.stack(out)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities, shape (N, classes): the members' mean softmax at `temperature`."""
        z = self.logits(features).astype(np.float64) / self.temperature
        z -= z.max(axis=-1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=-1, keepdims=True)
        return p.mean(axis=0)

    def cnn_log_probabilities(self, crops: np.ndarray) -> np.ndarray:
        """The crop network's log-softmax averaged over the crops (N, 3, H, W) of one photo, shape (classes,)."""
        from engine.detection import cropnet

        assert self.cnn is not None
        z = cropnet.forward(crops, self.cnn).astype(np.float64) / self.cnn_temperature
        z -= z.max(axis=-1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
        return logp.mean(axis=0)

    def mixed(self, p_mlp: np.ndarray, logp_cnn: np.ndarray | None) -> np.ndarray:
        """The final scores from the MLP probabilities and the crop network's mean log-probabilities."""
        if logp_cnn is None or self.mix <= 0:
            return p_mlp
        z = (1 - self.mix) * np.log(np.maximum(p_mlp, 1e-12)) + self.mix * logp_cnn
        z = z - z.max(axis=-1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=-1, keepdims=True)

    def tensors(self) -> dict[str, np.ndarray]:
        t = {"mean": self.mean, "std": self.std}
        for k, layers in enumerate(self.members):
            for j, (w, b) in enumerate(layers):
                t[f"m{k}.w{j}"], t[f"m{k}.b{j}"] = w, b
        for j, (w, b) in enumerate(self.cnn or []):
            t[f"cnn.w{j}"], t[f"cnn.b{j}"] = w, b
        out = {name: np.ascontiguousarray(v, dtype=np.float32) for name, v in t.items()}
        if self.gray is not None:
            out.update({f"gray.{name}": v for name, v in self.gray.tensors().items()})
        return out

    def metadata(self) -> dict[str, str]:
        meta = {"format": FORMAT, "classes": json.dumps(list(self.classes)),
                "features": json.dumps(list(self.feature_names)), "temperature": repr(float(self.temperature)),
                "cnn_temperature": repr(float(self.cnn_temperature)), "mix": repr(float(self.mix)),
                "info": json.dumps(self.info, sort_keys=True)}
        if self.gray is not None:
            if tuple(self.gray.classes) != tuple(self.classes) or tuple(self.gray.feature_names) != tuple(
                    self.feature_names):
                raise ValueError("the black-and-white classifier must have the same classes and features")
            meta.update({f"gray.{k}": v for k, v in self.gray.metadata().items() if k not in ("format", "classes",
                                                                                              "features")})
        return meta

    def save(self, path: str | os.PathLike) -> None:
        from safetensors.numpy import save_file

        meta = self.metadata()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        save_file(self.tensors(), str(tmp), metadata=meta)
        os.replace(tmp, path)


def load(path: str | os.PathLike) -> DetectorWeights:
    """Read detector weights; a file that is not one is refused with `ModelInvalidError`."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - safe_open has no iterator
    except (OSError, ValueError, RuntimeError, SafetensorError) as exc:
        raise ModelInvalidError(f"The detector weights '{path.name}' cannot be read: {exc}") from None
    if meta.get("format") != FORMAT:
        raise ModelInvalidError(f"'{path.name}' is not a Hourglass detector ({FORMAT}) file.")
    weights = _parse(path, meta, {k: v for k, v in tensors.items() if not k.startswith("gray.")}, "")
    if "gray.mean" in tensors:
        gray_meta = {**{k[5:]: v for k, v in meta.items() if k.startswith("gray.")},
                     "classes": meta["classes"], "features": meta["features"]}
        weights.gray = _parse(path, gray_meta, {k[5:]: v for k, v in tensors.items() if k.startswith("gray.")},
                              "black-and-white ")
    return weights


def _parse(path: Path, meta: dict[str, str], tensors: dict[str, np.ndarray], what: str) -> DetectorWeights:
    try:
        classes = tuple(json.loads(meta["classes"]))
        names = tuple(json.loads(meta["features"]))
        members = []
        k = 0
        while f"m{k}.w0" in tensors:
            layers, j = [], 0
            while f"m{k}.w{j}" in tensors:
                layers.append((tensors[f"m{k}.w{j}"], tensors[f"m{k}.b{j}"]))
                j += 1
            members.append(layers)
            k += 1
        cnn, j = [], 0
        while f"cnn.w{j}" in tensors:
            cnn.append((tensors[f"cnn.w{j}"], tensors[f"cnn.b{j}"]))
            j += 1
        weights = DetectorWeights(classes, names, tensors["mean"], tensors["std"], members,
                                  float(meta.get("temperature", "1.0")), json.loads(meta.get("info", "{}")),
                                  cnn or None, float(meta.get("cnn_temperature", "1.0")), float(meta.get("mix", "0")))
    except (KeyError, ValueError) as exc:
        raise ModelInvalidError(f"The detector weights '{path.name}' are incomplete ({what}classifier): {exc}") from None
    if not members or weights.mean.shape != (len(names),) or members[0][-1][0].shape[1] != len(classes):
        raise ModelInvalidError(f"The detector weights '{path.name}' have inconsistent shapes ({what}classifier).")
    return weights


def with_gray(colour: DetectorWeights, gray: DetectorWeights) -> DetectorWeights:
    """`colour` with `gray` riding along as its classifier for black-and-white photos."""
    from dataclasses import replace

    return replace(colour, gray=replace(gray, gray=None))
