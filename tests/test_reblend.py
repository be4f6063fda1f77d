"""Saving a result again at a lower strength (engine.reblend): what a direct save at that strength gives, from
the earlier result, without the network; and the cases it must refuse."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from engine.api import RestoreOptions, restore_file
from engine.errors import InputNotFoundError, InvalidRequestError, OutputExistsError
from engine.icc_profiles import adobe_rgb_profile
from engine.reblend import reblend_file

SAMPLES = Path(__file__).resolve().parents[1] / "resources" / "samples"


def _restore(tiny_model, src, out, strength=1.0, **options):
    return restore_file(src, out, tiny_model, RestoreOptions(steps=1, task="haze", strength=strength, **options))


def _pixels(path):
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED).astype(np.float64)


def _psnr(a, b, peak):
    mse = ((a - b) ** 2).mean()
    return float("inf") if mse == 0 else 10 * np.log10(peak**2 / mse)


def test_a_16_bit_photo_in_its_own_colour_space_comes_out_as_a_direct_save_at_that_strength(tiny_model, tmp_path):
    rng = np.random.default_rng(0)
    src = tmp_path / "dslr.tif"
    pixels = rng.integers(0, 65535, (40, 56, 3), dtype=np.uint16)
    Image.fromarray(rng.integers(0, 255, (40, 56, 3), dtype=np.uint8)).save(src, icc_profile=adobe_rgb_profile())
    cv2.imwrite(str(tmp_path / "plain16.tif"), pixels)  # (Pillow cannot write 16-bit RGB)
    for photo in (src, tmp_path / "plain16.tif"):
        full, direct = tmp_path / f"full-{photo.name}", tmp_path / f"direct-{photo.name}"
        _restore(tiny_model, photo, full)
        _restore(tiny_model, photo, direct, strength=0.6)
        res = reblend_file(photo, full, tmp_path / f"again-{photo.name}", 1.0, 0.6)
        again, first = _pixels(res.output_path), _pixels(full)
        assert again.shape == _pixels(direct).shape
        # rounding only, except where the first save clipped a colour the network pushed beyond the photo's
        # own gamut (a random network over random colours: 15% of these pixels touch an edge; what was clipped stays clipped)
        kept = ((first > 0) & (first < first.max())).all(axis=-1) if photo == src else np.ones(first.shape[:2], bool)
        assert kept.mean() > 0.8
        assert np.abs(again - _pixels(direct))[kept].max() <= (2 if again.max() > 255 else 1)
        assert (res.width, res.height, res.nfe) == (56, 40, 0)
        assert Image.open(res.output_path).info.get("icc_profile") == Image.open(direct).info.get("icc_profile")
    assert Image.open(tmp_path / "again-dslr.tif").info["icc_profile"] == adobe_rgb_profile()
    assert _pixels(tmp_path / "again-plain16.tif").max() > 255  # still 16 bits


def test_a_jpeg_result_loses_next_to_nothing_to_its_second_compression(tmp_path):
    """With the bundled model, whose results are photos (a random network's are noise, which JPEG keeps
    worst): the restoration's share goes through JPEG twice, and stays within 40 dB of one save."""
    from engine.models import load_model

    src = tmp_path / "coffee.jpg"
    src.write_bytes((SAMPLES / "coffee_haze.jpg").read_bytes())
    model = load_model("default")
    _restore(model, src, tmp_path / "full.jpg")
    _restore(model, src, tmp_path / "direct.jpg", strength=0.5)
    reblend_file(src, tmp_path / "full.jpg", tmp_path / "again.jpg", 1.0, 0.5)
    assert Image.open(tmp_path / "again.jpg").format == "JPEG"
    assert _psnr(_pixels(tmp_path / "again.jpg"), _pixels(tmp_path / "direct.jpg"), 255) > 40


def test_from_a_result_already_toned_down_and_down_to_the_original(tiny_model, tmp_path):
    src = tmp_path / "p.png"
    Image.fromarray(np.random.default_rng(2).integers(0, 255, (32, 40, 3), dtype=np.uint8)).save(src)
    _restore(tiny_model, src, tmp_path / "at80.png", strength=0.8)
    _restore(tiny_model, src, tmp_path / "direct40.png", strength=0.4)
    reblend_file(src, tmp_path / "at80.png", tmp_path / "at40.png", 0.8, 0.4)
    assert np.abs(_pixels(tmp_path / "at40.png") - _pixels(tmp_path / "direct40.png")).max() <= 1
    reblend_file(src, tmp_path / "at80.png", tmp_path / "at0.png", 0.8, 0.0)
    assert np.array_equal(_pixels(tmp_path / "at0.png"), _pixels(src))


def test_transparency_and_black_and_white_are_kept(tiny_model, tmp_path):
    src = tmp_path / "la.png"
    rng = np.random.default_rng(3)
    Image.fromarray(rng.integers(0, 255, (32, 40, 2), dtype=np.uint8), "LA").save(src)
    _restore(tiny_model, src, tmp_path / "full.png")
    res = reblend_file(src, tmp_path / "full.png", tmp_path / "again.png", 1.0, 0.7)
    again = np.asarray(Image.open(res.output_path))
    assert Image.open(res.output_path).mode == Image.open(tmp_path / "full.png").mode == "RGBA"  # as saved first
    assert np.array_equal(again[..., 3], np.asarray(Image.open(src))[..., 1])  # the photo's transparency
    assert (again[..., 0] == again[..., 1]).all() and (again[..., 1] == again[..., 2]).all()  # still gray


def test_a_result_saved_in_srgb_for_the_web_stays_in_srgb(tiny_model, tmp_path):
    src = tmp_path / "dslr.png"
    Image.new("RGB", (48, 40), (90, 120, 60)).save(src, icc_profile=adobe_rgb_profile())
    _restore(tiny_model, src, tmp_path / "web.png", srgb=True)
    _restore(tiny_model, src, tmp_path / "direct.png", srgb=True, strength=0.3)
    reblend_file(src, tmp_path / "web.png", tmp_path / "again.png", 1.0, 0.3)
    again, web = (Image.open(tmp_path / n).info["icc_profile"] for n in ("again.png", "web.png"))
    assert again[:24] + again[36:] == web[:24] + web[36:]  # the same sRGB profile (made anew: its date differs)
    assert np.abs(_pixels(tmp_path / "again.png") - _pixels(tmp_path / "direct.png")).max() <= 1


def test_what_cannot_be_saved_again_is_refused_and_nothing_is_written(tiny_model, tmp_path):
    src = tmp_path / "p.png"
    Image.fromarray(np.random.default_rng(4).integers(0, 255, (32, 40, 3), dtype=np.uint8)).save(src)
    _restore(tiny_model, src, tmp_path / "at60.png", strength=0.6)
    out = tmp_path / "new.png"
    with pytest.raises(InvalidRequestError, match="saved at 60% strength.*Retry restores the photo again at 90%"):
        reblend_file(src, tmp_path / "at60.png", out, 0.6, 0.9)
    with pytest.raises(InputNotFoundError, match="is gone"):
        reblend_file(src, tmp_path / "moved.png", out, 1.0, 0.5)
    Image.open(tmp_path / "at60.png").crop((0, 0, 30, 32)).save(tmp_path / "cropped.png")
    with pytest.raises(InvalidRequestError, match=r"\(30×32\) is no longer the size of its photo \(40×32\)"):
        reblend_file(src, tmp_path / "cropped.png", out, 0.6, 0.5)
    assert not out.exists()
    before = (tmp_path / "at60.png").read_bytes()
    with pytest.raises(OutputExistsError):
        reblend_file(src, tmp_path / "cropped.png", tmp_path / "at60.png", 0.6, 0.5)
    assert (tmp_path / "at60.png").read_bytes() == before


def test_a_transparent_photo_whose_result_was_flattened_onto_white_is_blended_as_flattened(tiny_model, tmp_path):
    """A BMP (or JPEG) result holds the photo flattened onto white: the photo is flattened the same way
    before the blend, not blended transparent and flattened once more."""
    rng = np.random.default_rng(5)
    rgba = rng.integers(0, 255, (32, 40, 4), dtype=np.uint8)
    rgba[..., 3] = np.linspace(0, 255, 40).astype(np.uint8)
    src = tmp_path / "t.png"
    Image.fromarray(rgba, "RGBA").save(src)
    _restore(tiny_model, src, tmp_path / "full.bmp", format="BMP")
    _restore(tiny_model, src, tmp_path / "direct.bmp", format="BMP", strength=0.5)
    reblend_file(src, tmp_path / "full.bmp", tmp_path / "again.bmp", 1.0, 0.5)
    assert np.abs(_pixels(tmp_path / "again.bmp") - _pixels(tmp_path / "direct.bmp")).max() <= 1


def test_a_copy_in_another_form_is_what_a_restore_with_those_options_saves(tiny_model, tmp_path):
    """An archive result (16-bit TIFF in the photo's Adobe RGB) copied for the web (8-bit PNG in sRGB) is the
    direct sRGB save; and a copy of that sRGB result into the photo's own space is the direct save there."""
    import io

    from PIL import ImageCms

    from engine import imaging

    src = tmp_path / "dslr.png"
    pixels = np.full((40, 48, 3), (90, 120, 60), np.uint8)
    pixels[:, 36:] = (100, 200, 90)  # a green beyond sRGB, well inside Adobe RGB: the excess is in play
    Image.fromarray(pixels).save(src, icc_profile=adobe_rgb_profile())
    assert imaging.read_image(src).own_space.beyond_srgb() > 0.2
    archive = _restore(tiny_model, src, tmp_path / "archive.tif", format="TIFF", bit_depth=16).output_path
    direct = _restore(tiny_model, src, tmp_path / "direct.png", srgb=True).output_path
    copy = reblend_file(src, archive, tmp_path / "web.png", 1.0, 1.0, copy=True, srgb=True)
    assert (copy.width, copy.height, copy.nfe) == (48, 40, 0)
    web = Image.open(copy.output_path)
    assert web.format == "PNG" and web.mode == "RGB"  # (8 bits: the photo's depth, as a direct save)
    assert ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(web.info["icc_profile"]))
                                          ).startswith("sRGB")
    assert np.abs(_pixels(copy.output_path) - _pixels(direct)).max() <= 1
    own = _restore(tiny_model, src, tmp_path / "own.tif", format="TIFF").output_path
    back = reblend_file(src, direct, tmp_path / "back.tif", 1.0, 1.0, copy=True, format="TIFF")
    assert Image.open(back.output_path).info["icc_profile"] == adobe_rgb_profile()
    assert np.abs(_pixels(back.output_path) - _pixels(own)).max() <= 1  # as restored into the photo's space


def test_a_copy_follows_the_metadata_choices_and_says_it_is_a_copy(tiny_model, tmp_path):
    from engine import imaging
    from tests.test_imaging import make_exif

    src = tmp_path / "p.jpg"
    Image.new("RGB", (48, 40), (90, 120, 60)).save(src, exif=make_exif())
    first = _restore(tiny_model, src, tmp_path / "p.tif", format="TIFF").output_path
    shared = reblend_file(src, first, tmp_path / "p_web.jpg", 1.0, 1.0, copy=True, remove_location=True)
    assert Image.open(shared.output_path).format == "JPEG"  # (from the name)
    assert imaging.read_location(shared.output_path) is None and imaging.read_location(first) is not None
    assert imaging.read_history(shared.output_path)[-1]["parameters"] == "saved p.jpg as a copy of p.tif at strength 100%"
    assert imaging.read_provenance(shared.output_path)["Task"] == "haze"
