"""Photos stored in another RGB space than sRGB (Adobe RGB, Display P3, ProPhoto) are restored in sRGB
numbers, as the networks learnt them, and written back in their own space, keeping their gamut."""

from __future__ import annotations

import io
from dataclasses import replace

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms
from PySide6.QtGui import QColorSpace
from test_cicp import adobe_exif
from test_linear_light import CURVED, LINEAR_CURVES, curv, para, srgb_encode

from engine.api import RestoreOptions, restore_file
from engine.cicp import Cicp
from engine.icc_profiles import (
    adobe_rgb_profile,
    gamma_curve_tag,
    gray_trc_profile,
    matrix_trc_profile,
    rgb_to_d50_xyz,
)
from engine.imaging import ImageData, read_image, read_small, to_uint8, write_image
from engine.imaging.matrix_profiles import read_matrix_profile
from engine.imaging.working_space import to_srgb

SRGB = ImageCms.createProfile("sRGB")
PROPHOTO = matrix_trc_profile(rgb_to_d50_xyz((0.7347, 0.2653), (0.1596, 0.8404), (0.0366, 0.0001), (0.3457, 0.3585)),
                              "ProPhoto-like", b"curv" + bytes(4) + b"\0\0\0\x01\x01\xcd\0\0")  # gamma 1.8
P3 = Cicp(12, 13).icc_profile()
ADOBE = ((0.64, 0.33), (0.21, 0.71), (0.15, 0.06), (0.3127, 0.3290))


def _littlecms_to_srgb(pixels: np.ndarray, icc: bytes) -> np.ndarray:
    img = ImageCms.profileToProfile(Image.fromarray(pixels), ImageCms.ImageCmsProfile(io.BytesIO(icc)), SRGB,
                                    renderingIntent=1, outputMode="RGB")
    return np.asarray(img, np.float32) / 255


def _description(icc: bytes) -> str:
    return ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))


def _photo(h=40, w=56) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x / w, y / h, 0.5 + 0.45 * np.sin(x / 5.0 + y / 9.0)], -1).astype(np.float32)


@pytest.mark.parametrize("icc", [ImageCms.ImageCmsProfile(SRGB).tobytes(), Cicp(1, 13).icc_profile(),
                                 QColorSpace(QColorSpace.NamedColorSpace.SRgb).iccProfile().data(), None,
                                 b"not a profile", matrix_trc_profile(rgb_to_d50_xyz(*ADOBE), "t", para(3, 100, 30000, 0, 1, 1)),
                                 matrix_trc_profile(rgb_to_d50_xyz(*ADOBE), "t", curv(table=[9, 65535, 0, 70]))],
                         ids=["littlecms", "ours", "qt", "none", "damaged", "overflowing curve", "falling curve"])
def test_srgb_and_unreadable_profiles_leave_the_numbers_alone(icc):
    rgb = _photo()
    assert to_srgb(rgb, icc) is None
    assert np.array_equal(rgb, _photo())


@pytest.mark.parametrize("name", sorted(LINEAR_CURVES) + sorted(CURVED))
def test_tone_curves_of_every_kind_invert(name):
    icc = matrix_trc_profile(rgb_to_d50_xyz(*ADOBE), "t", {**LINEAR_CURVES, **CURVED}[name])
    curve = read_matrix_profile(icc).curves[0]
    x = np.linspace(0, 1, 1001, dtype=np.float32)
    y = curve.linear(x.copy())
    assert np.abs(curve.linear(curve.encoded(y.copy())) - y).max() < 2e-5
    if "table" not in name:  # (a table's flat foot maps several values to one)
        assert np.abs(curve.encoded(y.copy()) - x).max() < 2e-4


@pytest.mark.parametrize(("icc", "name"), [(adobe_rgb_profile(), "Adobe RGB"), (P3, "Display P3"),
                                           (PROPHOTO, "ProPhoto")])
def test_a_photo_in_another_space_is_read_in_srgb_numbers_as_littlecms_converts_it(tmp_path, icc, name):
    pixels = to_uint8(_photo() * 0.6 + 0.2)  # (within sRGB's gamut, which LittleCMS's 8-bit output clips to)
    Image.fromarray(pixels).save(tmp_path / "photo.png", icc_profile=icc)
    img = read_image(tmp_path / "photo.png")
    assert img.icc_profile == icc and img.own_space is not None
    assert np.abs(img.rgb - _littlecms_to_srgb(pixels, icc)).max() <= 1.5 / 255


@pytest.mark.parametrize("icc", [adobe_rgb_profile(), P3, PROPHOTO], ids=["adobe", "p3", "prophoto"])
def test_saved_unrestored_it_comes_back_as_it_was_colours_beyond_srgb_included(tmp_path, icc):
    pixels = (_photo() * 65535).astype(np.uint16)
    pixels[:8, :8] = (0, 65535, 0)  # its space's purest green, far outside sRGB
    pixels[8:16, :8] = (65535, 0, 65535)
    tagged = ImageData(pixels.astype(np.float32) / 65535, None, 16, "TIFF", None, icc, None, None, None)
    write_image(tmp_path / "photo.tif", tagged.rgb, tagged)
    img = read_image(tmp_path / "photo.tif")
    assert (img.rgb >= 0).all() and (img.rgb <= 1).all() and len(img.own_space.excess_at) >= 128
    write_image(tmp_path / "again.tif", img.rgb, img)
    again = cv2.imread(str(tmp_path / "again.tif"), cv2.IMREAD_UNCHANGED)[..., ::-1]
    error = np.abs(again.astype(np.int64) - pixels)
    # float32 rounding, near 0 in linear light, comes out of a gamma curve's steep foot as up to 32 steps of
    # 65535 where a channel is 0 (Adobe RGB's pure green): an eighth of an 8-bit step
    assert error.max() <= 64 and error.mean() < 1
    with Image.open(tmp_path / "again.tif") as out:
        assert out.info["icc_profile"] == icc


def test_an_eight_bit_photo_saved_unrestored_is_identical(tmp_path):
    pixels = to_uint8(_photo())
    Image.fromarray(pixels).save(tmp_path / "adobe.png", icc_profile=adobe_rgb_profile())
    img = read_image(tmp_path / "adobe.png")
    write_image(tmp_path / "again.png", img.rgb, img)
    with Image.open(tmp_path / "again.png") as again:
        assert np.array_equal(np.asarray(again), pixels) and again.info["icc_profile"] == adobe_rgb_profile()


def test_a_bmp_result_holds_srgb_numbers_as_it_holds_no_profile(tmp_path):
    pixels = to_uint8(_photo() * 0.6 + 0.2)
    Image.fromarray(pixels).save(tmp_path / "adobe.png", icc_profile=adobe_rgb_profile())
    img = read_image(tmp_path / "adobe.png")
    write_image(tmp_path / "out.bmp", img.rgb, img)
    with Image.open(tmp_path / "out.bmp") as out:
        assert np.abs(np.asarray(out, np.float32) / 255 - _littlecms_to_srgb(pixels, adobe_rgb_profile())).max() <= 2 / 255


def test_the_detector_sees_the_same_numbers_small_and_in_full(tmp_path):
    """A JPEG is decoded small by the decoder itself for detection: it is converted as the full read is,
    whether a profile or the camera's Adobe RGB mark says so."""
    pixels = to_uint8(_photo(96, 128))
    Image.fromarray(pixels).save(tmp_path / "tagged.jpg", quality=98, icc_profile=adobe_rgb_profile())
    Image.fromarray(pixels).save(tmp_path / "marked.jpg", quality=98, exif=adobe_exif(0xFFFF))
    Image.fromarray(pixels).save(tmp_path / "plain.jpg", quality=98)
    plain = read_small(tmp_path / "plain.jpg", 32)
    for name in ("tagged.jpg", "marked.jpg"):
        small, full = read_small(tmp_path / name, 32), read_image(tmp_path / name).rgb
        assert small.shape == (48, 64, 3)
        assert np.abs(small - cv2.resize(full, (64, 48), interpolation=cv2.INTER_AREA)).mean() < 0.01
        assert np.abs(small - plain).mean() > 0.02  # (converted: Adobe RGB's numbers are not sRGB's)


def test_the_same_photo_in_adobe_rgb_restores_as_in_srgb(tmp_path, tiny_model):
    """Before, the networks were given Adobe RGB numbers: dark photos came out differently (here 22 dB apart
    with the random-weight model; 24 dB with the shipped one)."""
    pixels = to_uint8(_photo(64, 64) * 0.25)  # dark
    Image.fromarray(pixels).save(tmp_path / "srgb.png")
    adobe = ImageCms.profileToProfile(Image.fromarray(pixels), SRGB,
                                      ImageCms.ImageCmsProfile(io.BytesIO(adobe_rgb_profile())), outputMode="RGB")
    adobe.save(tmp_path / "adobe.png", icc_profile=adobe_rgb_profile())
    options = RestoreOptions(steps=1, task="low-light", seed=3)
    restore_file(tmp_path / "srgb.png", tmp_path / "srgb_out.png", tiny_model, options)
    restore_file(tmp_path / "adobe.png", tmp_path / "adobe_out.png", tiny_model, options)
    with Image.open(tmp_path / "srgb_out.png") as a, Image.open(tmp_path / "adobe_out.png") as b:
        assert b.info["icc_profile"] == adobe_rgb_profile()
        from_srgb = np.asarray(a, np.float32) / 255
        from_adobe = _littlecms_to_srgb(np.asarray(b), adobe_rgb_profile())
    psnr = 10 * np.log10(1 / np.mean((from_srgb - from_adobe) ** 2))
    assert psnr > 38, psnr


GRAY_GAMMA_22 = gray_trc_profile(gamma_curve_tag(2.2), "Gray Gamma 2.2")


@pytest.mark.parametrize("gamma", [2.2, 1.0, 1.8])
def test_a_gray_photo_with_a_gray_profile_is_read_in_srgb_numbers_and_saved_back_gray(tmp_path, gamma):
    """Photoshop's gray working spaces (Gray Gamma 2.2, 1.8) and linear gray: a dark black-and-white photo's
    shadows are several times darker in gamma 2.2 than the same numbers in sRGB."""
    icc = gray_trc_profile(gamma_curve_tag(gamma), "gray")
    pixels = to_uint8(_photo()[..., 0])
    Image.fromarray(pixels, "L").save(tmp_path / "bw.png", icc_profile=icc)
    img = read_image(tmp_path / "bw.png")
    assert img.grayscale and img.own_space is not None and img.icc_profile == icc
    assert np.abs(img.rgb[..., 1] - srgb_encode((pixels / 255) ** (round(gamma * 256) / 256))).max() < 1e-5
    write_image(tmp_path / "again.png", img.rgb, img)
    with Image.open(tmp_path / "again.png") as again:
        assert again.mode == "L" and again.info["icc_profile"] == icc and np.array_equal(np.asarray(again), pixels)
    write_image(tmp_path / "as.webp", img.rgb, img, format="webp")  # three channels: no gray profile, sRGB
    with Image.open(tmp_path / "as.webp") as webp:
        assert "icc_profile" not in webp.info or not webp.info["icc_profile"]
    small = read_small(tmp_path / "bw.png", 20)  # (averaged before the conversion, so not quite equal)
    assert np.abs(small - cv2.resize(img.rgb, small.shape[1::-1], interpolation=cv2.INTER_AREA)).mean() < 0.01


def test_a_gray_jpeg_is_converted_when_decoded_small_too(tmp_path):
    pixels = to_uint8(_photo(96, 128)[..., 0] * 0.3)
    Image.fromarray(pixels, "L").save(tmp_path / "bw.jpg", quality=98, icc_profile=GRAY_GAMMA_22)
    small, full = read_small(tmp_path / "bw.jpg", 32), read_image(tmp_path / "bw.jpg").rgb
    assert np.abs(small - cv2.resize(full, (64, 48), interpolation=cv2.INTER_AREA)).mean() < 0.01


def test_a_gray_profile_with_the_srgb_curve_is_left_alone():
    rgb = np.repeat(_photo()[..., :1], 3, axis=2)
    assert to_srgb(rgb, gray_trc_profile(Cicp(1, 13).icc_profile()[-(12 + 2 * 1024):], "sRGB gray")) is None


def test_an_iphone_like_heic_in_display_p3_restores_as_in_srgb_and_keeps_its_profile(tmp_path, tiny_model):
    """Phones save HEIC with a Display P3 profile: its result (a JPEG) keeps the profile, and its colours,
    seen through it, are those of the same photo restored from sRGB."""
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    apple_p3 = bytes(QColorSpace(QColorSpace.NamedColorSpace.DisplayP3).iccProfile())
    pixels = to_uint8(_photo(64, 96) * 0.3)
    Image.fromarray(pixels).save(tmp_path / "srgb.png")
    p3 = ImageCms.profileToProfile(Image.fromarray(pixels), SRGB, ImageCms.ImageCmsProfile(io.BytesIO(apple_p3)),
                                   outputMode="RGB")
    p3.save(tmp_path / "IMG_0001.HEIC", quality=-1, chroma=444, matrix_coefficients=0, icc_profile=apple_p3)
    options = RestoreOptions(steps=1, task="low-light", seed=3)
    res = restore_file(tmp_path / "IMG_0001.HEIC", tmp_path / "IMG_0001.jpg", tiny_model, options)
    with Image.open(res.output_path) as out:
        assert out.format == "JPEG" and out.info["icc_profile"] == apple_p3
    options = replace(options, format="png")  # (without JPEG's loss, to compare the colours)
    restore_file(tmp_path / "IMG_0001.HEIC", tmp_path / "IMG_0001.png", tiny_model, options)
    restore_file(tmp_path / "srgb.png", tmp_path / "srgb_out.png", tiny_model, options)
    with Image.open(tmp_path / "IMG_0001.png") as out, Image.open(tmp_path / "srgb_out.png") as ref:
        assert out.info["icc_profile"] == apple_p3
        seen = _littlecms_to_srgb(np.asarray(out), apple_p3)
        psnr = 10 * np.log10(1 / np.mean((seen - np.asarray(ref, np.float32) / 255) ** 2))
    assert psnr > 30, psnr  # (23 dB when the network was given the P3 numbers; 34 now)


def test_results_in_srgb_for_the_web_are_converted_and_tagged_srgb(tmp_path, tiny_model):
    """`srgb`: a photo in another space is saved converted to sRGB, tagged so; colours beyond sRGB are
    brought within it, with a note; an untagged photo is saved as before, still untagged."""
    pixels = to_uint8(_photo() * 0.2 + 0.4)  # (muted colours, all within sRGB)
    pixels[:10, :10] = (0, 255, 0)  # Adobe RGB's pure green, far beyond sRGB: 4.5% of the photo
    Image.fromarray(pixels).save(tmp_path / "adobe.png", icc_profile=adobe_rgb_profile())
    img = read_image(tmp_path / "adobe.png")
    write_image(tmp_path / "web.png", img.rgb, img, srgb=True)
    with Image.open(tmp_path / "web.png") as web:
        assert _description(web.info["icc_profile"]).startswith("sRGB")
        assert np.abs(np.asarray(web, np.float32)[10:] / 255 - _littlecms_to_srgb(pixels, adobe_rgb_profile())[10:]).max() <= 2 / 255
    res = restore_file(tmp_path / "adobe.png", tmp_path / "out.jpg", tiny_model,
                       RestoreOptions(steps=1, task="haze", srgb=True))
    assert any("colours beyond sRGB (4.5% of its pixels)" in w for w in res.warnings)
    # a BMP holds no profile: its result is in sRGB numbers whatever the option, and the note says why
    res = restore_file(tmp_path / "adobe.png", tmp_path / "out.bmp", tiny_model, RestoreOptions(steps=1, task="haze"))
    assert any("beyond sRGB (4.5% of its pixels)" in w and "BMP holds no colour profile" in w for w in res.warnings)
    res = restore_file(tmp_path / "adobe.png", tmp_path / "kept.png", tiny_model, RestoreOptions(steps=1, task="haze"))
    assert not any("beyond sRGB" in w for w in res.warnings)  # (kept in its own space: nothing brought within)
    with Image.open(tmp_path / "out.jpg") as out:
        assert _description(out.info["icc_profile"]).startswith("sRGB")
    Image.fromarray(pixels).save(tmp_path / "plain.png")
    plain = read_image(tmp_path / "plain.png")
    write_image(tmp_path / "plain_web.png", plain.rgb, plain, srgb=True)
    with Image.open(tmp_path / "plain_web.png") as out:
        assert "icc_profile" not in out.info and np.array_equal(np.asarray(out), pixels)
    gray = to_uint8(_photo()[..., 0])
    Image.fromarray(gray, "L").save(tmp_path / "bw.png", icc_profile=GRAY_GAMMA_22)
    bw = read_image(tmp_path / "bw.png")
    write_image(tmp_path / "bw_web.png", bw.rgb, bw, srgb=True)
    with Image.open(tmp_path / "bw_web.png") as out:  # gray, in sRGB's curve: untagged
        assert out.mode == "L" and "icc_profile" not in out.info
        assert np.abs(np.asarray(out, np.float32) / 255 - bw.rgb[..., 0]).max() <= 0.6 / 255


# ------------------------------------------------------------------------- PNG gAMA / cHRM without a profile

def png_with_chunks(path, pixels: np.ndarray, **chunks: bytes) -> None:
    """A PNG with the given ancillary chunks (gAMA=..., cHRM=..., sRGB=...) before its pixels."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    for kind, body in chunks.items():
        info.add(kind.encode(), body)
    Image.fromarray(pixels).save(path, pnginfo=info)


def gama(gamma: float) -> bytes:
    return round(gamma * 100000).to_bytes(4, "big")


def chrm(*xy: float) -> bytes:
    return b"".join(round(v * 100000).to_bytes(4, "big") for v in xy)


RAMP = np.dstack([np.tile(np.arange(256, dtype=np.uint8), (4, 1))] * 3)
ADOBE_CHRM = chrm(0.3127, 0.3290, 0.64, 0.33, 0.21, 0.71, 0.15, 0.06)


def test_a_png_gamma_of_one_over_2_2_is_srgb_as_libpng_and_browsers_take_it(tmp_path):
    """gAMA 45455 (ImageMagick and older editors write it) with sRGB's cHRM or none: the numbers as they are,
    no profile made up; the same with an sRGB or iCCP chunk, which say more than gAMA."""
    for name, chunks in {"plain": {"gAMA": gama(0.45455)},
                         "chrm": {"gAMA": gama(0.45455), "cHRM": chrm(0.3127, 0.3290, 0.64, 0.33, 0.30, 0.60, 0.15, 0.06)},
                         "srgb": {"gAMA": gama(0.5556), "sRGB": b"\0"},
                         "broken": {"gAMA": gama(0)}}.items():
        png_with_chunks(tmp_path / f"{name}.png", RAMP, **chunks)
        img = read_image(tmp_path / f"{name}.png")
        assert img.icc_profile is None and img.own_space is None, name
        assert np.array_equal(to_uint8(img.rgb), RAMP), name


@pytest.mark.parametrize("gamma, chunks, at_128", [
    (1 / 1.8, {}, 146),  # an old Mac's 1.8: lighter than sRGB
    (1 / 2.2, {"cHRM": ADOBE_CHRM}, 128),  # Adobe RGB's primaries: a gray stays gray, colours change
    (1.0, {}, 188),  # linear light
])
def test_another_png_gamma_is_read_through_the_profile_it_describes(tmp_path, gamma, chunks, at_128):
    png_with_chunks(tmp_path / "in.png", RAMP, gAMA=gama(gamma), **chunks)
    img = read_image(tmp_path / "in.png")
    assert img.icc_profile is not None
    assert abs(to_uint8(img.rgb)[0, 128, 0] - at_128) <= 1
    if gamma != 1.0:  # (a linear-light profile is recoded to the sRGB curve instead: test_linear_light.py)
        expected = _littlecms_to_srgb(RAMP, img.icc_profile)  # LittleCMS's reading of the profile made for it
        assert np.abs(img.rgb - expected).max() <= 1.5 / 255
    out = write_image(tmp_path / "out.png", img.rgb, img)
    with Image.open(out) as saved:  # the result carries the profile: it looks as the photo did
        assert "icc_profile" in saved.info
    again = read_image(out)
    assert np.abs(to_uint8(again.rgb).astype(int) - to_uint8(img.rgb)).max() <= 1


def test_a_colour_png_with_adobe_primaries_is_converted_in_its_colours(tmp_path):
    red = np.zeros((4, 4, 3), np.uint8)
    red[..., 1] = 200  # Adobe RGB's green is beyond sRGB's: in sRGB numbers it is a purer, lighter green
    png_with_chunks(tmp_path / "green.png", red, gAMA=gama(1 / 2.2), cHRM=ADOBE_CHRM)
    img = read_image(tmp_path / "green.png")
    assert img.own_space is not None and img.own_space.beyond_srgb() > 0


def test_a_gray_png_gamma_makes_a_gray_profile(tmp_path):
    png_with_chunks(tmp_path / "bw.png", RAMP[..., 0], gAMA=gama(1.0))
    img = read_image(tmp_path / "bw.png")
    assert img.grayscale and img.icc_profile[16:20] == b"GRAY"
    assert abs(to_uint8(img.rgb)[0, 128, 0] - 188) <= 1
