"""Photos whose ICC profile says linear light (darktable's linear Rec2020 export, a 32-bit TIFF): re-encoded
with the sRGB curve when read, with a profile of the same primaries, so the networks see what they know."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from PySide6.QtGui import QColorSpace

from engine.cicp import Cicp
from engine.icc_profiles import matrix_trc_profile
from engine.imaging import read_image, write_image
from engine.imaging.data import ImageData
from engine.imaging.linear_light import recode_linear

BT2020_D50 = [[0.6734, 0.1656, 0.1251], [0.2790, 0.6753, 0.0457], [-0.0019, 0.0300, 0.7969]]


def srgb_encode(v):
    v = np.clip(v, 0, 1)
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055)


def qt_profile(primaries, transfer) -> bytes:
    return QColorSpace(primaries, transfer).iccProfile().data()


def curv(gamma=None, table=None) -> bytes:
    if table is not None:
        return b"curv" + bytes(4) + struct.pack(f">I{len(table)}H", len(table), *table)
    if gamma is None:
        return b"curv" + bytes(4) + struct.pack(">I", 0)
    return b"curv" + bytes(4) + struct.pack(">IH", 1, round(gamma * 256)) + bytes(2)


def para(kind, *params) -> bytes:
    return b"para" + bytes(4) + struct.pack(">HH", kind, 0) + b"".join(struct.pack(">i", round(p * 65536)) for p in params)


LINEAR_CURVES = {
    "curv identity": curv(), "curv gamma 1": curv(1.0), "curv table": curv(table=list(range(0, 65536, 4369))),
    "para 0": para(0, 1.0), "para 1": para(1, 1.0, 1.0, 0.0), "para 2": para(2, 1.0, 1.0, 0.0, 0.0),
    "para 3": para(3, 1.0, 1.0, 0.0, 1.0, 0.0), "para 4": para(4, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0),
}
CURVED = {"curv gamma 1.8": curv(1.8), "para 3 (sRGB)": para(3, 2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045),
          "curv table (gamma 2.2)": curv(table=[round(65535 * (i / 255) ** 2.2) for i in range(256)])}


@pytest.mark.parametrize("name", sorted(LINEAR_CURVES))
def test_linear_tone_curves_of_every_kind_are_recoded(name):
    icc = matrix_trc_profile(BT2020_D50, "test", LINEAR_CURVES[name])
    rgb = np.array([[[0.0, 0.18, 0.5], [1.0, 0.05, 0.9]]], np.float32)
    new = recode_linear(rgb, icc)
    assert new is not None
    assert np.allclose(rgb, srgb_encode(np.array([[[0.0, 0.18, 0.5], [1.0, 0.05, 0.9]]])), atol=2e-4)
    space = QColorSpace.fromIccProfile(new)
    assert space.primaries().name == "Bt2020" and space.transferFunction().name == "SRgb"


@pytest.mark.parametrize("name", sorted(CURVED))
def test_curved_tone_curves_are_left_alone(name):
    rgb = np.full((2, 2, 3), 0.3, np.float32)
    assert recode_linear(rgb, matrix_trc_profile(BT2020_D50, "test", CURVED[name])) is None
    assert (rgb == 0.3).all()


def test_named_profiles_are_told_apart():
    named = QColorSpace.NamedColorSpace
    for space in (named.SRgb, named.AdobeRgb, named.DisplayP3, named.ProPhotoRgb):
        assert recode_linear(np.zeros((1, 1, 3), np.float32), QColorSpace(space).iccProfile().data()) is None
    for linear in (QColorSpace(named.SRgbLinear).iccProfile().data(),
                   qt_profile(QColorSpace.Primaries.Bt2020, QColorSpace.TransferFunction.Linear)):
        assert recode_linear(np.zeros((1, 1, 3), np.float32), linear) is not None
    assert recode_linear(np.zeros((1, 1, 3), np.float32), Cicp(9, 13).icc_profile()) is None


def test_damaged_or_other_profiles_are_left_alone():
    linear = QColorSpace(QColorSpace.NamedColorSpace.SRgbLinear).iccProfile().data()
    rng = np.random.default_rng(0)
    for cut in (0, 20, 130, 200):
        assert recode_linear(np.zeros((1, 1, 3), np.float32), linear[:cut]) is None
    recode_linear(np.zeros((1, 1, 3), np.float32), linear[:-10])  # never raises
    for _ in range(200):
        spoiled = bytearray(linear)
        for _ in range(8):
            spoiled[rng.integers(0, len(spoiled))] = rng.integers(0, 256)
        recode_linear(np.zeros((2, 2, 3), np.float32), bytes(spoiled))  # never raises
    from cmyk_profile import cmyk_profile

    assert recode_linear(np.zeros((1, 1, 3), np.float32), cmyk_profile()) is None


def test_a_damaged_profile_description_still_recodes():
    """A byte above 127 in a v2 profile's ASCII name made LittleCMS (through Pillow) raise PyCMSError, an
    internal error for the photo. Found by fuzzing linear-light TIFFs."""
    icc = bytearray(matrix_trc_profile(BT2020_D50, "linear Rec2020", curv()))
    icc[icc.index(b"linear Rec2020")] = 0xCF
    assert recode_linear(np.zeros((1, 1, 3), np.float32), bytes(icc)) is not None


def test_highlights_of_a_linear_float_file_roll_off_instead_of_clipping():
    icc = QColorSpace(QColorSpace.NamedColorSpace.SRgbLinear).iccProfile().data()
    rgb = np.array([[[0.5, 0.5, 0.5], [1.0, 1.0, 1.0], [4.0, 2.0, 1.0], [8.0, 8.0, 8.0]]], np.float32)
    recode_linear(rgb, icc)
    assert rgb[0, 0, 0] == pytest.approx(float(srgb_encode(0.5)), abs=1e-4)  # below the knee: as it was
    assert 0.9 < rgb[0, 1, 0] < rgb[0, 2, 0] < rgb[0, 3, 0] == pytest.approx(1.0, abs=1e-4)
    assert rgb[0, 2, 1] < rgb[0, 2, 0]  # (hue kept: not all clipped to white)


def test_a_linear_16_bit_tiff_reads_as_its_srgb_twin(tmp_path):
    y, x = np.mgrid[0:40, 0:60]
    srgb = (np.stack([x / 60, y / 40, (x + y) / 100], -1) * 0.9 + 0.05).astype(np.float32)
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4).astype(np.float32)
    icc = QColorSpace(QColorSpace.NamedColorSpace.SRgbLinear).iccProfile().data()
    write_image(tmp_path / "linear.tif", linear, ImageData(linear, None, 16, "TIFF", None, icc, None, None, None),
                bit_depth=16)
    img = read_image(tmp_path / "linear.tif")
    assert np.abs(img.rgb - srgb).max() < 2e-3  # (the linear file's 16-bit steps, near black)
    space = QColorSpace.fromIccProfile(img.icc_profile)
    assert space.primaries().name == "SRgb" and space.transferFunction().name == "SRgb"


def test_a_linear_float_tiff_keeps_its_highlights(tmp_path):
    import cv2

    from engine.imaging.metadata import _retag_tiff

    linear = np.full((8, 8, 3), 0.18, np.float32)
    linear[:4] = (6.0, 3.0, 1.5)  # a sunlit wall in a 32-bit HDR merge
    _ok, data = cv2.imencode(".tif", linear[..., ::-1])
    (tmp_path / "plain.tif").write_bytes(data.tobytes())
    icc = QColorSpace(QColorSpace.NamedColorSpace.SRgbLinear).iccProfile().data()
    meta = ImageData(linear, None, 16, "TIFF", None, icc, None, None, None)
    (tmp_path / "hdr.tif").write_bytes(b"".join(bytes(p) for p in _retag_tiff(memoryview(data).cast("B"), meta,
                                                                                  False)))
    img = read_image(tmp_path / "hdr.tif")
    assert img.icc_profile != icc and img.rgb[0, 0, 0] > img.rgb[0, 0, 1] > img.rgb[0, 0, 2]  # not white
    assert img.rgb[-1, -1] == pytest.approx([float(srgb_encode(0.18))] * 3, abs=1e-4)  # below the knee
    assert read_image(tmp_path / "plain.tif").rgb[0, 0].tolist() == [1.0, 1.0, 1.0]  # untagged: clipped, as before
