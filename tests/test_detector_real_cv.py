"""tools/detector_real_cv.py: folds are stratified, no prediction comes from a fit that saw the photo, and
the shipped detector's answers it rebuilds are the ones `detect` gives."""

from __future__ import annotations

import numpy as np
import pytest
from model_helpers import load_tool


@pytest.fixture(scope="module")
def cv():
    return load_tool("detector_real_cv")


def test_folds_spread_every_class_evenly(cv):
    y = np.repeat(np.arange(6), [94, 35, 71, 6, 42, 42])
    fold = cv.stratified_folds(y, 5, seed=3)
    for c in range(6):
        per_fold = np.bincount(fold[y == c], minlength=5)
        assert per_fold.max() - per_fold.min() <= 1, (c, per_fold)
    assert not np.array_equal(fold, cv.stratified_folds(y, 5, seed=4))


def _blobs(n_per_class: int, spread: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(6), n_per_class)
    x = rng.normal(0, spread, (len(y), 6)) + np.eye(6)[y] * 3
    return x, y


def test_cross_validation_learns_separable_classes_and_fails_on_noise(cv):
    x, y = _blobs(10, 0.3)
    good = cv.cross_validated(x, y, folds=5, repeats=2)
    assert good["balanced_mean"] > 0.95
    assert np.allclose(np.sum(good["confusion_per_repeat"], axis=1), 10)
    # labels that carry no information: a held-out score cannot be better than chance by much
    noise = cv.cross_validated(x, np.random.default_rng(1).permutation(y), folds=5, repeats=2)
    assert noise["balanced_mean"] < 0.5


def test_leave_one_source_out_holds_out_whole_folders(cv):
    x, y = _blobs(8, 0.3)
    source = np.array([f"{c}/a" if i % 2 else f"{c}/b" for i, c in enumerate(y)])
    source[y == 3] = "3/only"  # a class with one source has nothing to fit on once it is held out
    out = cv.leave_one_source_out(x, y, source)
    assert "3/only" not in out and set(out) == {f"{c}/{s}" for c in (0, 1, 2, 4, 5) for s in "ab"}
    assert all(v > 0.9 for v in out.values())


def test_rebuilt_answers_equal_the_detector_and_the_report_renders(cv, bundled_detector, tmp_path):
    import cv2

    from engine.detection.detector import CLASSES, Detector

    rng = np.random.default_rng(7)
    photos = []
    for i, label in enumerate(CLASSES):
        for j in range(2):
            img = (rng.random((60 + 10 * j, 90, 3)) * (0.3 + 0.1 * i) * 255).astype(np.uint8)
            p = tmp_path / f"{label}-{j}.png"
            cv2.imwrite(str(p), img)
            photos.append((p, label, f"set{j}"))
    det = Detector.load(bundled_detector)
    outputs = cv.detector_outputs(det, photos)
    rebuilt = cv.shipped_predictions(det, outputs)
    assert [CLASSES[k] for k in rebuilt] == [det.detect_file(p).task for p, _l, _f in photos]
    report = cv.run(det, photos, folds=2, repeats=1)
    text = cv.markdown(report)
    assert "| shipped detector (synthetic only) |" in text and "| none/set1 | 1 |" in text
