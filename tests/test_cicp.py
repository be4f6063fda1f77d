"""Colour given by CICP codes (HEIF's and AVIF's 'nclx' box) instead of an ICC profile: the profile built for
it, the HDR tone mapping, and what reading and restoring such photos gives."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms

from engine.api import RestoreOptions, restore_file
from engine.cicp import KNEE, PQ, Cicp, find_nclx, find_nclx_in, find_png_cicp, to_standard_range
from engine.imaging import read_image, to_uint8

BT2020_TO_BT709 = np.array([[1.6605, -0.5876, -0.0728], [-0.1246, 1.1329, -0.0083], [-0.0182, -0.1006, 1.1187]])


def _srgb_decode(v):
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def _srgb_encode(v):
    v = np.clip(v, 0, 1)
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055)


def _pq_encode(nits):
    m1, m2, c1, c2, c3 = 2610 / 16384, 2523 / 4096 * 128, 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
    y = (np.asarray(nits, np.float64) / 10000) ** m1
    return ((c1 + c2 * y) / (1 + c3 * y)) ** m2


def _deep_heif(path, rgb01: np.ndarray, primaries: int, transfer: int, bits: int = 10, **save) -> np.ndarray:
    """A lossless 10-bit HEIF (RGB samples, no YCbCr) with these codes; returns the samples written."""
    import pillow_heif

    levels = np.round(rgb01 * ((1 << bits) - 1)).astype(np.uint16)
    heif = pillow_heif.from_bytes(mode="RGB;16", size=(rgb01.shape[1], rgb01.shape[0]),
                                  data=np.ascontiguousarray(levels << (16 - bits)).tobytes())
    heif.save(path, quality=-1, chroma=444, color_primaries=primaries, transfer_characteristics=transfer,
              matrix_coefficients=0, full_range_flag=1, **save)
    return levels


def _avif_with_codes(rgb8: np.ndarray, primaries: int, transfer: int, icc: bytes | None = None) -> bytes:
    """Pillow writes 'nclx' 1/13/6 (2/2/6 beside a profile); the codes are then set in the box itself."""
    buf = io.BytesIO()
    Image.fromarray(rgb8).save(buf, "AVIF", quality=100, **({"icc_profile": icc} if icc else {}))
    data = bytearray(buf.getvalue())
    at = data.index(b"colrnclx") + 8
    assert struct.unpack(">HH", data[at:at + 4]) == ((2, 2) if icc else (1, 13))
    struct.pack_into(">HH", data, at, primaries, transfer)
    return bytes(data)


def png_with_codes(png: bytes, primaries: int, transfer: int) -> bytes:
    """`png` with a cICP chunk (matrix 0, full range) before its pixels, as PNG's third edition places it."""
    body = bytes([primaries, transfer, 0, 1])
    chunk = struct.pack(">I", 4) + b"cICP" + body + struct.pack(">I", zlib.crc32(b"cICP" + body))
    at = png.index(b"IDAT") - 4
    return png[:at] + chunk + png[at:]


def _deep_png(rgb01: np.ndarray) -> bytes:
    import cv2

    return cv2.imencode(".png", np.round(rgb01 * 65535).astype(np.uint16)[..., ::-1])[1].tobytes()


def _smooth(h=48, w=64) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return 0.1 + 0.8 * np.stack([x / w, y / h, 0.5 + 0.4 * np.sin(x / 7.0)], -1)


@pytest.mark.parametrize(("codes", "srgb"), [((1, 13), True), ((2, 2), True), ((1, 1), True), ((1, 6), True),
                                             ((0, 0), True), ((9, 13), False), ((12, 13), False),
                                             ((1, 16), False), ((9, 18), False), ((1, 8), False)])
def test_which_codes_need_anything(codes, srgb):
    assert Cicp(*codes).is_srgb is srgb


@pytest.mark.parametrize(("primaries", "expected"), [(9, "Bt2020"), (12, "DciP3D65")])
def test_the_profile_is_what_qt_knows_by_name(primaries, expected):
    from PySide6.QtGui import QColorSpace

    space = QColorSpace.fromIccProfile(Cicp(primaries, 13).icc_profile())
    assert space.isValid()
    assert space.primaries().name == expected and space.transferFunction().name == "SRgb"


def test_the_profile_converts_as_the_bt2020_matrix_says():
    """LittleCMS, through the profile, against the published BT.2020 → BT.709 matrix (in linear light)."""
    colours = np.array([[[0.5, 0.4, 0.3], [0.2, 0.6, 0.4], [0.3, 0.3, 0.7], [0.8, 0.8, 0.8]]])
    src = Image.fromarray(np.round(colours * 255).astype(np.uint8))
    profile = ImageCms.ImageCmsProfile(io.BytesIO(Cicp(9, 13).icc_profile()))
    got = np.asarray(ImageCms.profileToProfile(src, profile, ImageCms.createProfile("sRGB")), float)
    linear = _srgb_decode(np.asarray(src, float) / 255) @ BT2020_TO_BT709.T
    assert np.abs(got - _srgb_encode(linear) * 255).max() <= 2.5


def test_gamma_codes_are_recoded_with_the_srgb_curve():
    """Linear light (a PNG from an HDR or 3D tool): the networks only ever saw sRGB-like values."""
    linear = np.array([[[0.0, 0.05, 0.18], [0.5, 1.0, 0.002]]], np.float32)
    assert np.allclose(to_standard_range(linear.copy(), Cicp(1, 8)), _srgb_encode(linear), atol=1e-6)
    gamma28 = np.array([[[0.3, 0.6, 0.9]]], np.float32)
    assert np.allclose(to_standard_range(gamma28.copy(), Cicp(1, 5)), _srgb_encode(gamma28 ** 2.8), atol=1e-6)
    assert b"sRGB curve" in Cicp(1, 8).icc_profile()


def test_find_nclx_walks_the_boxes_and_stops_at_damage():
    data = _avif_with_codes(np.full((16, 16, 3), 128, np.uint8), 12, 13)
    assert find_nclx(data) == Cicp(12, 13)
    for cut in (0, 12, 40, data.index(b"colrnclx") + 6):
        assert find_nclx(data[:cut]) is None
    assert find_nclx(b"\0\0\0\0" * 8) is None  # a box of size 0 runs to the end: nothing inside
    assert find_nclx(np.random.default_rng(0).bytes(4000)) is None


def test_find_nclx_in_a_file_skips_to_the_meta_box_wherever_it_is():
    data = _avif_with_codes(np.full((16, 16, 3), 128, np.uint8), 9, 18)
    assert find_nclx_in(io.BytesIO(data)) == Cicp(9, 18)
    ftyp_size = struct.unpack(">I", data[:4])[0]
    mdat = struct.pack(">I4s", 8 + 300_000, b"mdat") + bytes(300_000)  # pixels first, as some writers order it
    assert find_nclx_in(io.BytesIO(data[:ftyp_size] + mdat + data[ftyp_size:])) == Cicp(9, 18)
    wide = struct.pack(">I4sQ", 1, b"free", 16 + 10) + bytes(10)  # a 64-bit box size
    assert find_nclx_in(io.BytesIO(data[:ftyp_size] + wide + data[ftyp_size:])) == Cicp(9, 18)
    for cut in (4, 12, ftyp_size + 5):
        assert find_nclx_in(io.BytesIO(data[:cut])) is None
    assert find_nclx_in(io.BytesIO(data[:ftyp_size] + struct.pack(">I4s", 3, b"junk") + data[ftyp_size:])) is None


def test_the_curves_meet_the_published_reference_levels():
    """BT.2408: reference white (203 nits) is PQ signal 58.06% and HLG 75% (1000-nit display); PQ 100% is
    10,000 nits. Independent of this module's own encoder, used elsewhere in these tests."""
    from engine.cicp import _hlg_to_relative, _pq_to_relative

    assert float(_pq_to_relative(np.float32(0.5806))) == pytest.approx(1.0, abs=0.002)
    assert float(_pq_to_relative(np.float32(1.0))) * 203 == pytest.approx(10000, rel=1e-4)
    assert _hlg_to_relative(np.full((1, 3), 0.75, np.float32)) == pytest.approx(1.0, abs=0.002)


def test_pq_reference_white_is_white_when_nothing_is_brighter():
    white = np.full((2, 2, 3), float(_pq_encode(203)), np.float32)
    assert np.allclose(to_standard_range(white, Cicp(9, PQ)), 1.0, atol=2e-3)
    grey = np.full((2, 2, 3), float(_pq_encode(0.18 * 203)), np.float32)
    assert np.allclose(to_standard_range(grey, Cicp(9, PQ)), _srgb_encode(0.18), atol=2e-3)


def test_hlg_reference_white_is_near_white():
    """BT.2408: HLG's 75% signal is its reference white (203 nits on a 1000-nit display)."""
    assert np.allclose(to_standard_range(np.full((1, 1, 3), 0.75, np.float32), Cicp(9, 18)), 1.0, atol=0.02)


def test_highlights_roll_off_monotonically_and_keep_their_hue():
    nits = np.geomspace(1, 4000, 200)
    ramp = np.repeat(_pq_encode(nits)[None, :, None], 3, axis=2).astype(np.float32)
    out = to_standard_range(ramp.copy(), Cicp(9, PQ))[0, :, 0]
    assert np.all(np.diff(out) > 0) and out[-1] == pytest.approx(1.0, abs=1e-3)
    below_knee = nits / 203 < KNEE
    assert np.allclose(out[below_knee], _srgb_encode(nits[below_knee] / 203), atol=2e-3)  # untouched
    colour = _pq_encode(np.array([[[1000.0, 400.0, 100.0], [50.0, 20.0, 5.0]]])).astype(np.float32)
    linear = _srgb_decode(to_standard_range(colour, Cicp(9, PQ)).astype(np.float64))
    assert linear[0, 0] / linear[0, 0, 0] == pytest.approx([1, 0.4, 0.1], abs=0.01)


def test_a_10_bit_heif_is_read_at_its_full_depth(tmp_path):
    levels = _deep_heif(tmp_path / "deep.heic", _smooth(8, 1024), 1, 13)
    img = read_image(tmp_path / "deep.heic")
    assert img.bit_depth == 16 and img.hdr is None and img.icc_profile is None  # sRGB: nothing to add
    assert len(np.unique(levels)) > 800  # more levels than 8 bits hold
    assert np.array_equal(np.round(img.rgb * 1023), levels)


def test_a_deep_heif_is_turned_as_its_exif_says(tmp_path):
    from tests.test_imaging import make_exif

    _deep_heif(tmp_path / "turned.heic", _smooth(), 1, 13, exif=make_exif(6).tobytes())
    assert read_image(tmp_path / "turned.heic").rgb.shape == (64, 48, 3)


def test_a_pq_heif_is_tone_mapped_and_labelled_bt2020(tmp_path):
    _deep_heif(tmp_path / "hdr.heic", _smooth() * 0.75, 9, PQ)
    img = read_image(tmp_path / "hdr.heic")
    assert img.hdr == "PQ" and img.bit_depth == 16
    assert ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(img.icc_profile))).startswith("BT.2020")
    import pillow_heif

    heif = pillow_heif.open_heif(tmp_path / "hdr.heic", convert_hdr_to_8bit=False)
    expected = to_standard_range(np.asarray(heif).astype(np.float32) / (1023 << 6), Cicp(9, PQ))
    assert np.abs(img.own_space.back(img.rgb) - expected).max() < 1e-5  # (restored in sRGB numbers)


def test_a_display_p3_avif_keeps_its_pixels_and_gains_its_profile(tmp_path):
    pixels = to_uint8(_smooth())
    (tmp_path / "p3.avif").write_bytes(_avif_with_codes(pixels, 12, 13))
    (tmp_path / "srgb.avif").write_bytes(_avif_with_codes(pixels, 1, 13))
    p3, srgb = read_image(tmp_path / "p3.avif"), read_image(tmp_path / "srgb.avif")
    assert np.abs(p3.own_space.back(p3.rgb) - srgb.rgb).max() < 1e-5 and srgb.icc_profile is None
    assert b"Display P3" in p3.icc_profile


def test_an_icc_profile_wins_over_the_codes(tmp_path):
    adobe_like = Cicp(9, 13).icc_profile()
    (tmp_path / "both.avif").write_bytes(_avif_with_codes(np.full((16, 16, 3), 90, np.uint8), 12, 16, adobe_like))
    img = read_image(tmp_path / "both.avif")
    assert img.icc_profile == adobe_like and img.hdr is None


def test_restoring_an_hdr_photo_says_so_and_keeps_its_colours(tmp_path, tiny_model):
    _deep_heif(tmp_path / "hdr.heic", _smooth() * 0.7, 9, 18)
    res = restore_file(tmp_path / "hdr.heic", tmp_path / "out.jpg", tiny_model, RestoreOptions(steps=1, task="haze"))
    assert any("HDR photo (HLG curve)" in w for w in res.warnings)
    with Image.open(tmp_path / "out.jpg") as out:
        assert b"BT.2020" in out.info["icc_profile"]


def test_find_png_cicp_reads_chunk_headers_only_up_to_the_pixels():
    png = _deep_png(_smooth())
    assert find_png_cicp(io.BytesIO(png_with_codes(png, 9, 18))) == Cicp(9, 18)
    assert find_png_cicp(io.BytesIO(png)) is None
    tagged = png_with_codes(png, 9, 18)
    chunk = tagged[tagged.index(b"cICP") - 4:][:16]
    assert find_png_cicp(io.BytesIO(png[:-12] + chunk + png[-12:])) is None  # after the pixels: not read
    assert find_png_cicp(io.BytesIO(tagged[:tagged.index(b"cICP") + 6])) is None  # cut short
    assert find_png_cicp(io.BytesIO(b"GIF89a" + bytes(40))) is None


def test_a_16_bit_hlg_png_is_tone_mapped_and_its_codes_outrank_its_profile(tmp_path):
    """PNG's third edition ranks cICP above iCCP (HEIF and AVIF viewers use the profile instead)."""
    rgb = _smooth() * 0.75
    (tmp_path / "frame.png").write_bytes(png_with_codes(_deep_png(rgb), 9, 18))
    img = read_image(tmp_path / "frame.png")
    assert img.hdr == "HLG" and img.bit_depth == 16 and b"BT.2020" in img.icc_profile
    expected = to_standard_range(np.round(rgb * 65535).astype(np.float32) / 65535, Cicp(9, 18))
    assert np.abs(img.own_space.back(img.rgb) - expected).max() < 1e-5

    tagged = io.BytesIO()
    Image.fromarray(to_uint8(_smooth())).save(tagged, "PNG", icc_profile=Cicp(9, 13).icc_profile())
    (tmp_path / "p3.png").write_bytes(png_with_codes(tagged.getvalue(), 12, 13))
    assert b"Display P3" in read_image(tmp_path / "p3.png").icc_profile
    (tmp_path / "srgb.png").write_bytes(png_with_codes(tagged.getvalue(), 1, 13))
    assert read_image(tmp_path / "srgb.png").icc_profile is None


def test_a_linear_light_png_is_recoded_with_the_srgb_curve(tmp_path):
    rgb = _smooth() ** 2.2
    (tmp_path / "linear.png").write_bytes(png_with_codes(_deep_png(rgb), 1, 8))
    img = read_image(tmp_path / "linear.png")
    assert img.icc_profile is None and img.hdr is None  # now plain sRGB
    assert np.abs(img.rgb - _srgb_encode(np.round(rgb * 65535) / 65535)).max() < 1e-5


def adobe_exif(color_space: int, interop: bytes | None = b"R03\0") -> bytes:
    """EXIF as a camera set to Adobe RGB writes it: ColorSpace in the Exif directory, the DCF index in the
    interoperability directory (Pillow cannot make one)."""
    from damaged_files import tiff_directory

    def first(exif_at: int) -> bytes:
        return tiff_directory([(0x010F, 2, 6, b"Canon\0"), (0x8769, 4, 1, struct.pack("<I", exif_at))], 8)

    def exif_dir(interop_at: int) -> bytes:
        entries = [(0xA001, 3, 1, struct.pack("<H", color_space))]
        if interop is not None:
            entries.append((0xA005, 4, 1, struct.pack("<I", interop_at)))
        return tiff_directory(entries, exif_at)

    exif_at = 8 + len(first(0))
    interop_at = exif_at + len(exif_dir(0))
    tail = tiff_directory([(0x0001, 2, 4, interop)], interop_at) if interop is not None else b""
    return b"Exif\0\0II*\0" + struct.pack("<I", 8) + first(exif_at) + exif_dir(interop_at) + tail


@pytest.mark.parametrize(("color_space", "interop", "adobe"), [(0xFFFF, b"R03\0", True), (2, None, True),
                                                               (1, b"R98\0", False), (0xFFFF, b"R98\0", False),
                                                               (0xFFFF, None, False)])
def test_a_camera_jpeg_marked_adobe_rgb_in_its_exif_gets_the_profile(tmp_path, color_space, interop, adobe):
    """Cameras set to Adobe RGB embed no profile: they say so in EXIF (DCF's option file), which Lightroom and
    Photoshop read. Taken as sRGB, the photo and its result looked dull in the app and any browser."""
    from PySide6.QtGui import QColorSpace

    Image.fromarray(to_uint8(_smooth())).save(tmp_path / "_MG_0001.JPG", exif=adobe_exif(color_space, interop),
                                              quality=95)
    img = read_image(tmp_path / "_MG_0001.JPG")
    if not adobe:
        assert img.icc_profile is None
        return
    assert QColorSpace.fromIccProfile(img.icc_profile) == QColorSpace(QColorSpace.NamedColorSpace.AdobeRgb)
    from engine.imaging import write_image

    for ext in (".jpg", ".webp", ".png"):
        with Image.open(write_image(tmp_path / f"out{ext}", img.rgb, img)) as out:
            assert out.info["icc_profile"] == img.icc_profile, ext


def test_an_embedded_profile_or_a_gray_photo_ignores_the_adobe_rgb_mark(tmp_path):
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.fromarray(to_uint8(_smooth())).save(tmp_path / "tagged.jpg", exif=adobe_exif(0xFFFF), icc_profile=srgb)
    assert read_image(tmp_path / "tagged.jpg").icc_profile == srgb
    Image.fromarray(to_uint8(_smooth())[..., 0]).save(tmp_path / "gray.jpg", exif=adobe_exif(0xFFFF))
    assert read_image(tmp_path / "gray.jpg").icc_profile is None
