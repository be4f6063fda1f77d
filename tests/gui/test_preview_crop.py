"""app.preview.crop_to_png: the crop the engine restores for a preview is the photo as the view shows it."""

from __future__ import annotations

import io
import os
import sys

import cv2
import numpy as np
import pytest
from PIL import Image
from PySide6.QtGui import QColor, QImage

from app.preview import clamp_region, crop_to_png


def gradient(h=60, w=80) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 3, y * 4, x + y], -1).astype(np.uint8)


def pixels(image: QImage) -> np.ndarray:
    """A QImage's RGB values as an H×W×3 integer array (its rows are padded to 4 bytes)."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, :image.width() * 3].reshape(image.height(), image.width(), 3).astype(int)


def test_16_bit_gray_keeps_its_values(tmp_path):
    """Pillow's RGB conversion clipped 16-bit gray to white: a preview restored a blank crop."""
    gray = (gradient()[..., 0].astype(np.uint16) * 257 + 100)
    cv2.imwrite(str(tmp_path / "scan.png"), gray)
    used = crop_to_png(str(tmp_path / "scan.png"), (10, 5, 30, 20), str(tmp_path / "crop.png"))
    crop = cv2.imread(str(tmp_path / "crop.png"), cv2.IMREAD_UNCHANGED)
    assert used == (10, 5, 30, 20) and crop.dtype == np.uint16 and crop.ndim == 2
    assert (crop == gray[5:25, 10:40]).all()


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_16_bit_colour_and_float_tiff(tmp_path, ext):
    bgr = gradient()[..., ::-1].astype(np.uint16) * 257
    cv2.imwrite(str(tmp_path / f"x{ext}"), bgr)
    crop_to_png(str(tmp_path / f"x{ext}"), (0, 0, 80, 60), str(tmp_path / "crop.png"))
    assert (cv2.imread(str(tmp_path / "crop.png"), cv2.IMREAD_UNCHANGED) == bgr).all()
    Image.fromarray(gradient()[..., 1].astype(np.float32) / 255, mode="F").save(tmp_path / "f.tif")
    crop_to_png(str(tmp_path / "f.tif"), (0, 0, 80, 60), str(tmp_path / "fcrop.png"))
    back = cv2.imread(str(tmp_path / "fcrop.png"), cv2.IMREAD_GRAYSCALE).astype(int)
    assert np.abs(back - gradient()[..., 1]).max() <= 1  # was all black


def test_orientation_alpha_and_clamping(tmp_path):
    rgba = np.dstack([gradient(), np.full((60, 80), 128, np.uint8)])
    Image.fromarray(rgba).save(tmp_path / "a.png")
    used = crop_to_png(str(tmp_path / "a.png"), (70, 50, 40, 40), str(tmp_path / "crop.png"))
    assert used == clamp_region((70, 50, 40, 40), (80, 60)) == (40, 20, 40, 40)  # moved inside, size kept
    with Image.open(tmp_path / "crop.png") as im:
        assert im.mode == "RGBA" and (np.asarray(im) == rgba[20:60, 40:80]).all()

    im = Image.fromarray(gradient())
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    im.save(tmp_path / "o.png", exif=exif)
    used = crop_to_png(str(tmp_path / "o.png"), (0, 0, 60, 80), str(tmp_path / "ocrop.png"))
    assert used == (0, 0, 60, 80)
    with Image.open(tmp_path / "ocrop.png") as crop:
        assert (np.asarray(crop.convert("RGB")) == np.rot90(gradient(), -1)).all()


def test_undecodable_photo_raises_oserror(tmp_path):
    (tmp_path / "bad.jpg").write_bytes(b"not a photo")
    with pytest.raises(OSError):
        crop_to_png(str(tmp_path / "bad.jpg"), (0, 0, 10, 10), str(tmp_path / "crop.png"))
    assert not (tmp_path / "crop.png").exists()


@pytest.mark.parametrize("ext", [".png", ".webp", ".jpg", ".tif"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_the_view_orients_every_format_as_the_engine_does(tmp_path, ext, orientation):
    """Qt orients JPEG and TIFF but not PNG or WebP; the engine orients all four (engine.imaging.reading._orient)."""
    from app.images import read_image
    from engine.imaging import read_image as engine_read

    rgb = np.kron(np.random.default_rng(orientation).integers(0, 256, (3, 4, 3)), np.ones((8, 8, 1))).astype(np.uint8)
    im = Image.fromarray(rgb)
    exif = im.getexif()
    exif[0x0112] = orientation
    im.save(tmp_path / f"o{ext}", exif=exif, **({"lossless": True} if ext == ".webp" else {}))
    shown = pixels(read_image(str(tmp_path / f"o{ext}")))
    expected = (engine_read(tmp_path / f"o{ext}").rgb * 255).round().astype(int)
    assert shown.shape == expected.shape
    assert np.abs(shown - expected).mean() < (4 if ext == ".jpg" else 0.5)


def test_a_monochrome_cameras_raw_is_shown_in_gray_without_crashing_the_window(tmp_path):
    """LibRaw develops a monochrome sensor's DNG (Leica's Monochrom) into one channel; read as RGB, its
    bytes were a third of what Qt read, and a 6 MP one crashed the window (segmentation fault) when it was
    selected. Checked in a child process, so that a crash fails this test instead of the whole run."""
    import subprocess

    from test_imaging import fake_linear_dng

    rgb16 = np.zeros((400, 600, 3), np.uint16)
    rgb16[..., 1] = np.linspace(0, 60000, 600, dtype=np.uint16)[None]
    fake_linear_dng(tmp_path / "mono.dng", rgb16, mono=True)
    code = ("import sys; from PySide6.QtWidgets import QApplication; app = QApplication([]); "
            "from app.images import read_image, _read_thumbnail; "
            f"im = read_image({str(tmp_path / 'mono.dng')!r}); t = _read_thumbnail({str(tmp_path / 'mono.dng')!r}, 64); "
            "print(im.width(), im.height(), im.format().name, im.pixelColor(599, 0).red(), t.width())")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False,
                       env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert r.returncode == 0, r.stderr[-500:]
    width, height, fmt, right, thumb = r.stdout.split()
    assert (width, height, fmt, thumb) == ("600", "400", "Format_Grayscale8", "64") and int(right) > 240


def test_raw_heic_and_avif_are_shown_as_the_engine_reads_them(tmp_path):
    """Qt decodes neither (a DNG at most as its embedded thumbnail): the view develops RAW like the engine
    (camera white balance, no auto-brightening) and reads HEIC through pillow-heif, orientation applied."""
    import pillow_heif
    from test_imaging import add_raw_preview, fake_linear_dng

    from app.images import read_image
    from engine.imaging import read_image as engine_read

    rgb16 = np.zeros((32, 48, 3), np.uint16)
    rgb16[..., 0] = np.linspace(0, 60000, 48, dtype=np.uint16)[None]
    rgb16[..., 1] = 20000
    fake_linear_dng(tmp_path / "shot.dng", rgb16, orientation=6)
    shown = pixels(read_image(str(tmp_path / "shot.dng")))
    engine = np.round(engine_read(tmp_path / "shot.dng").rgb * 255).astype(int)
    assert shown.shape == engine.shape == (48, 32, 3) and np.abs(shown - engine).max() <= 1
    thumb = read_image(str(tmp_path / "shot.dng"), max_side=16)  # no embedded preview: developed
    assert max(thumb.width(), thumb.height()) <= 16 and not thumb.isNull()
    assert thumb.height() > thumb.width()  # turned like the photo

    # a camera's embedded JPEG preview (stored unturned; its own EXIF orientation ignored) is the thumbnail
    preview = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 3
    halves = np.zeros((32, 48, 3), np.uint8)
    halves[:, :24] = (220, 20, 20)  # red left, blue right: turned 90° clockwise, red is on top
    halves[:, 24:] = (20, 20, 220)
    Image.fromarray(halves).save(preview, "JPEG", exif=exif.tobytes())
    add_raw_preview(tmp_path / "shot.dng", preview.getvalue())
    thumb = read_image(str(tmp_path / "shot.dng"), max_side=40)
    assert (thumb.width(), thumb.height()) == (26, 40)
    top, bottom = (QColor(thumb.pixel(13, y)).getRgb() for y in (5, 34))
    assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0]  # turned once, by the RAW's orientation
    assert pixels(read_image(str(tmp_path / "shot.dng"))).shape == (48, 32, 3)  # the view still develops it

    pillow_heif.register_heif_opener()
    im = Image.fromarray(gradient())
    exif = im.getexif()
    exif[0x0112] = 6
    im.save(tmp_path / "phone.heic", quality=95, exif=exif)
    shown = pixels(read_image(str(tmp_path / "phone.heic")))
    engine = np.round(engine_read(tmp_path / "phone.heic").rgb * 255).astype(int)
    assert shown.shape == engine.shape and np.abs(shown - engine).max() <= 1  # turned as the engine turns it
    used = crop_to_png(str(tmp_path / "phone.heic"), (0, 0, 30, 30), str(tmp_path / "crop.png"))
    assert used == (0, 0, 30, 30)  # so a HEIC photo can be previewed
    (tmp_path / "IMG_0001.HIF").write_bytes((tmp_path / "phone.heic").read_bytes())  # as Canon names HEIF
    assert np.array_equal(pixels(read_image(str(tmp_path / "IMG_0001.HIF"))), shown)
    im.save(tmp_path / "web.avif", quality=95, exif=exif)  # no Qt plugin either: Pillow reads it
    shown = pixels(read_image(str(tmp_path / "web.avif")))
    engine = np.round(engine_read(tmp_path / "web.avif").rgb * 255).astype(int)
    assert shown.shape == engine.shape and np.abs(shown - engine).max() <= 1
    assert read_image(str(tmp_path / "web.avif"), max_side=8).width() <= 8
    for fmt in ("HEIF", "AVIF"):  # misnamed (a phone's HEIC exported as .jpg): the engine reads it by content
        im.save(tmp_path / f"{fmt}.jpg", format=fmt, quality=95)
        shown = pixels(read_image(str(tmp_path / f"{fmt}.jpg")))
        engine = np.round(engine_read(tmp_path / f"{fmt}.jpg").rgb * 255).astype(int)
        assert shown.shape == engine.shape == (60, 80, 3) and np.abs(shown - engine).max() <= 1
    (tmp_path / "bad.heic").write_bytes(b"\0\0\0\x18ftypheic" + bytes(40))
    (tmp_path / "bad.dng").write_bytes(b"II*\x00" + bytes(64))
    assert read_image(str(tmp_path / "bad.heic")).isNull() and read_image(str(tmp_path / "bad.dng")).isNull()


def test_large_16_bit_photos_are_shown(tmp_path):
    """Qt refuses images above 256 MB unless told otherwise: a 35 MP 16-bit PNG (RGBA64, 280 MB) showed
    nothing, not even a thumbnail. Here 18 MP with the limit lowered to 64 MB stands in for it."""
    from PySide6.QtGui import QImageReader

    from app import images

    bgr = np.zeros((3000, 6000, 3), np.uint16)
    bgr[..., 1] = 40000
    cv2.imwrite(str(tmp_path / "big.png"), bgr, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    assert images.ALLOCATION_LIMIT_MB * 2**20 >= 200_000_000 * 8  # the engine's largest photo at 16 bits
    try:
        QImageReader.setAllocationLimit(64)
        assert images.read_image(str(tmp_path / "big.png")).isNull()  # what the default limit did to 35 MP
        QImageReader.setAllocationLimit(images.ALLOCATION_LIMIT_MB)
        image = images.read_image(str(tmp_path / "big.png"))
        assert image.width() == 6000 and image.depth() == 64
        shown = images.for_display(image)
        assert shown.depth() == 32 and abs(QColor(shown.pixel(10, 10)).green() - 40000 / 257) <= 1  # rounded
        assert not images.read_image(str(tmp_path / "big.png"), max_side=96).isNull()
    finally:
        QImageReader.setAllocationLimit(images.ALLOCATION_LIMIT_MB)


def test_a_long_strip_gets_a_thumbnail(tmp_path):
    """A strip 200 times wider than tall (a scanned film strip, a stitched line of frames): fitted into the
    48-pixel thumbnail its height rounded to 0 and Qt gave no image at all, for Qt's decoder and for
    the formats Hourglass decodes itself."""
    from app import images

    strip = np.tile(gradient(16, 80), (1, 120, 1))  # 16 × 9600
    cv2.imwrite(str(tmp_path / "strip.png"), strip)
    Image.fromarray(strip).save(tmp_path / "strip.avif")
    for name in ("strip.png", "strip.avif"):
        thumb = images.read_image(str(tmp_path / name), max_side=48)
        assert (thumb.width(), thumb.height()) == (48, 1), name
        assert (images.read_image(str(tmp_path / name)).width(), name) == (9600, name)


def test_photos_in_other_colour_profiles_are_shown_in_srgb(tmp_path):
    """An Adobe RGB (camera) or Display P3 (phone) photo painted as if its numbers were sRGB looks washed
    out: the view, thumbnails and preview results convert it; the crop sent to the engine keeps the file's
    own numbers and profile, so the restored crop comes back in it and is converted the same way."""
    from PySide6.QtGui import QColorSpace

    from app.images import _read_thumbnail, for_display, read_image
    from app.preview import _read_result

    adobe = bytes(QColorSpace(QColorSpace.Primaries.AdobeRgb, 2.2).iccProfile())
    Image.new("RGB", (40, 30), (30, 200, 40)).save(tmp_path / "dslr.jpg", icc_profile=adobe, quality=100)
    shown = for_display(read_image(str(tmp_path / "dslr.jpg")))
    r, g, b, _ = QColor(shown.pixel(5, 5)).getRgb()
    assert r < 10 and g > 195 and b < 10  # more saturated than the file's numbers, as other viewers show it
    assert QColor(_read_thumbnail(str(tmp_path / "dslr.jpg"), 16).pixel(2, 2)).getRgb() == (r, g, b, 255)
    crop_to_png(str(tmp_path / "dslr.jpg"), (0, 0, 20, 20), str(tmp_path / "crop.png"))
    with Image.open(tmp_path / "crop.png") as crop:
        assert crop.info["icc_profile"] and crop.getpixel((5, 5)) == (30, 200, 41)  # the engine's input
    assert QColor(_read_result(str(tmp_path / "crop.png")).pixel(5, 5)).getRgb() == (r, g, b, 255)

    p3 = bytes(QColorSpace(QColorSpace.NamedColorSpace.DisplayP3).iccProfile())
    Image.new("RGB", (40, 30), (30, 200, 40)).save(tmp_path / "phone.avif", icc_profile=p3, quality=100)
    r3, g3, _b3, _a = QColor(for_display(read_image(str(tmp_path / "phone.avif"))).pixel(5, 5)).getRgb()
    assert r3 < 25 and g3 > 195  # Pillow-decoded photos carry their profile too

    Image.new("RGB", (40, 30), (30, 200, 40)).save(tmp_path / "plain.png")  # untagged: shown as it is
    assert QColor(for_display(read_image(str(tmp_path / "plain.png"))).pixel(5, 5)).getRgb() == (30, 200, 40, 255)


@pytest.mark.parametrize("tagged", [True, False])
def test_a_cmyk_photo_is_shown_as_the_engine_reads_it(tmp_path, tagged):
    """Qt decodes a CMYK JPEG (a print file) as CMYK and painted it as 1 − C, 1 − M, 1 − Y, while the
    engine converts it through its profile: before and after differed in colour by 22/255 on average
    before any restoration. The view, thumbnails and the preview crop now go through the profile too."""
    from cmyk_profile import cmyk_profile

    from app.images import _read_thumbnail, for_display, read_image
    from engine.imaging import read_image as engine_read

    photo = tmp_path / "print.jpg"
    Image.fromarray(gradient()).convert("CMYK").save(photo, quality=100,
                                                    **({"icc_profile": cmyk_profile()} if tagged else {}))
    engine = engine_read(photo).rgb * 255
    shown = pixels(for_display(read_image(str(photo))))
    assert np.abs(shown - engine).mean() < 4  # Qt's colour conversion against LittleCMS's
    assert np.abs(pixels(_read_thumbnail(str(photo), 80)) - shown).max() <= 1
    crop_to_png(str(photo), (10, 5, 30, 20), str(tmp_path / "crop.png"))
    with Image.open(tmp_path / "crop.png") as crop:
        assert np.abs(np.asarray(crop.convert("RGB"), float) - engine[5:25, 10:40]).mean() < 4


@pytest.mark.skipif(sys.platform != "linux", reason="only POSIX systems let a file name be any bytes")
def test_a_file_name_that_is_not_utf8_is_shown_and_previewed(tmp_path):
    """Qt opens files by (UTF-8) name, so a name with a Latin-1 byte (an old camera card, a Windows zip)
    showed nothing; the engine restores it all the same."""
    from app.images import read_image

    odd = os.fsdecode(os.fsencode(str(tmp_path)) + b"/caf\xe9.png")
    Image.fromarray(gradient()).save(odd)
    shown = read_image(odd)
    assert (shown.width(), shown.height()) == (80, 60)
    assert read_image(odd, max_side=20).width() == 20
    assert crop_to_png(odd, (0, 0, 30, 20), str(tmp_path / "crop.png")) == (0, 0, 30, 20)


def in_own_space(img) -> np.ndarray:
    """The engine's pixels in the photo's own space (it restores them in sRGB numbers), as the view shows
    them through the photo's profile."""
    return img.rgb if img.own_space is None else img.own_space.back(img.rgb)


def test_hdr_and_wide_gamut_heif_and_avif_are_shown_as_the_engine_reads_them(tmp_path):
    """Colour given by CICP codes: an HDR (PQ) HEIF is tone-mapped as the engine does it, turned by its EXIF,
    and shown through BT.2020; a Display P3 AVIF through Display P3; the preview's crop keeps the profile."""
    from test_cicp import _avif_with_codes, _deep_heif, _smooth

    from app.images import read_image
    from engine.imaging import read_image as engine_read

    exif = Image.Exif()
    exif[0x0112] = 6
    _deep_heif(tmp_path / "hdr.heic", _smooth() * 0.8, 9, 16, exif=exif.tobytes())
    image = read_image(str(tmp_path / "hdr.heic"))
    engine = np.floor(in_own_space(engine_read(tmp_path / "hdr.heic")) * 255 + 0.5).astype(int)
    assert pixels(image).shape == engine.shape == (64, 48, 3) and np.abs(pixels(image) - engine).max() <= 1
    assert image.colorSpace().primaries().name == "Bt2020"
    thumb = read_image(str(tmp_path / "hdr.heic"), max_side=16)  # sampled before the tone mapping
    assert thumb.height() == 16 > thumb.width() and thumb.colorSpace().primaries().name == "Bt2020"
    crop_to_png(str(tmp_path / "hdr.heic"), (0, 0, 20, 20), str(tmp_path / "crop.png"))
    with Image.open(tmp_path / "crop.png") as crop:
        assert b"BT.2020" in crop.info["icc_profile"]

    (tmp_path / "p3.avif").write_bytes(_avif_with_codes(gradient(), 12, 13))
    image = read_image(str(tmp_path / "p3.avif"))
    assert image.colorSpace().primaries().name == "DciP3D65"
    assert np.abs(pixels(image) - np.round(in_own_space(engine_read(tmp_path / "p3.avif")) * 255)).max() <= 1


def test_a_png_with_colour_codes_is_shown_as_the_engine_reads_it(tmp_path):
    """Qt ignores a PNG's cICP chunk: an HLG frame of HDR video looked grey and flat, a Display P3 one dull."""
    from test_cicp import _deep_png, _smooth, png_with_codes

    from app.images import read_image
    from engine.imaging import read_image as engine_read

    (tmp_path / "frame.png").write_bytes(png_with_codes(_deep_png(_smooth() * 0.75), 9, 18))
    image = read_image(str(tmp_path / "frame.png"))
    engine = np.floor(in_own_space(engine_read(tmp_path / "frame.png")) * 255 + 0.5).astype(int)
    assert image.colorSpace().primaries().name == "Bt2020" and np.abs(pixels(image) - engine).max() <= 1
    assert read_image(str(tmp_path / "frame.png"), max_side=16).colorSpace().primaries().name == "Bt2020"
    buf = io.BytesIO()
    Image.fromarray(gradient()).save(buf, "PNG")
    (tmp_path / "p3.png").write_bytes(png_with_codes(buf.getvalue(), 12, 13))
    image = read_image(str(tmp_path / "p3.png"))
    assert image.colorSpace().primaries().name == "DciP3D65" and np.array_equal(pixels(image), gradient())


def test_a_camera_jpeg_marked_adobe_rgb_is_shown_through_adobe_rgb(tmp_path):
    from PySide6.QtGui import QColorSpace
    from test_cicp import adobe_exif

    from app.images import read_image

    Image.fromarray(gradient()).save(tmp_path / "_MG_0001.JPG", exif=adobe_exif(0xFFFF), quality=95)
    Image.fromarray(gradient()).save(tmp_path / "IMG_0001.JPG", exif=adobe_exif(1, b"R98\0"), quality=95)
    assert read_image(str(tmp_path / "_MG_0001.JPG")).colorSpace() == QColorSpace(QColorSpace.NamedColorSpace.AdobeRgb)
    assert not read_image(str(tmp_path / "IMG_0001.JPG")).colorSpace().isValid()
    crop_to_png(str(tmp_path / "_MG_0001.JPG"), (0, 0, 20, 20), str(tmp_path / "crop.png"))
    with Image.open(tmp_path / "crop.png") as crop:  # the engine restores the crop in the same colours
        assert QColorSpace.fromIccProfile(crop.info["icc_profile"]) == QColorSpace(QColorSpace.NamedColorSpace.AdobeRgb)


def test_a_gray_photo_with_a_gray_profile_is_shown_as_the_engine_restores_it(tmp_path):
    """Photoshop's Gray Gamma 2.2: its shadows are darker than the same numbers in sRGB. Qt painted the
    numbers as sRGB; the view now converts as the engine does before restoring."""
    from app.images import for_display, read_image
    from engine.icc_profiles import gamma_curve_tag, gray_trc_profile
    from engine.imaging import read_image as engine_read

    values = np.tile(np.arange(0, 256, 8, dtype=np.uint8), (6, 1))
    Image.fromarray(values, "L").save(tmp_path / "bw.png", icc_profile=gray_trc_profile(gamma_curve_tag(2.2), "g"))
    shown = for_display(read_image(str(tmp_path / "bw.png")))
    assert shown.isGrayscale()
    engine = np.floor(engine_read(tmp_path / "bw.png").rgb[..., 0] * 255 + 0.5)
    assert np.abs(pixels(shown)[..., 0] - engine).max() <= 1 and np.abs(engine - values).max() > 5


def test_a_png_whose_colours_only_a_gamma_states_is_shown_as_the_engine_reads_it(tmp_path):
    """Qt takes gAMA 1/2.2 (ImageMagick writes it) for a pure 2.2 curve and showed 13 of 255 as 5, darker
    shadows on the Before side than the engine restores; another gamma (1.8, linear light) the engine took
    for sRGB numbers. Now both read each the same way."""
    from test_working_space import ADOBE_CHRM, RAMP, gama, png_with_chunks

    from app.images import for_display, read_image
    from engine.imaging import read_image as engine_read

    cases = {"g22": {"gAMA": gama(1 / 2.2)}, "g18": {"gAMA": gama(1 / 1.8)}, "g10": {"gAMA": gama(1.0)},
             "adobe": {"gAMA": gama(1 / 2.2), "cHRM": ADOBE_CHRM}, "srgb": {"gAMA": gama(1 / 1.8), "sRGB": b"\0"}}
    colours = RAMP.copy()
    colours[2:, :, 0] = 255 - colours[2:, :, 0]  # (some colour, for the primaries)
    for name, chunks in cases.items():
        png_with_chunks(tmp_path / f"{name}.png", colours, **chunks)
        shown = pixels(for_display(read_image(str(tmp_path / f"{name}.png"))))
        engine = np.floor(np.clip(engine_read(tmp_path / f"{name}.png").rgb, 0, 1) * 255 + 0.5).astype(int)
        assert np.abs(shown - engine).max() <= 1, name  # (the engine's sRGB numbers: what it restores)
    assert pixels(for_display(read_image(str(tmp_path / "g22.png"))))[0, 13, 0] == 13
