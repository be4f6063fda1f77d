"""engine.imaging: decoding, metadata, orientation, 16-bit data, errors and safe writing.

Every test image is generated in tmp_path; no network and no files from elsewhere.
"""

from __future__ import annotations

import errno
import io
import os
import struct
import zlib
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps, PngImagePlugin, TiffImagePlugin, TiffTags

from engine import imaging
from engine.errors import (
    HourglassError,
    ImageTooLargeError,
    InputNotFoundError,
    InputUnreadableError,
    OutputExistsError,
    OutputNotWritableError,
    UnsupportedInputError,
)
from engine.imaging import (
    ImageData,
    data,
    output_format_for,
    raw,
    read_image,
    to_uint8,
    to_uint16,
    write_image,
    writing,
)

XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:format="image/test"/>'
       b"</rdf:RDF></x:xmpmeta>")
ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def rand_u8(h=24, w=36, c=3, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, c), dtype=np.uint8)


def rand_u16(h=24, w=36, c=3, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 65536, (h, w, c), dtype=np.uint16)


def smooth_u8(h=48, w=64) -> np.ndarray:
    """A gradient: JPEG-friendly, so lossy round trips can be compared tightly."""
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // (w - 1), y * 255 // (h - 1), (x + y) * 255 // (w + h - 2)], -1).astype(np.uint8)


def make_exif(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Hourglass Camera Co."  # Make
    exif[0x0110] = "HG-1"  # Model
    exif[0x0132] = "2024:05:06 07:08:09"  # DateTime
    if orientation is not None:
        exif[0x0112] = orientation
    exif.get_ifd(0x8769).update({0x9003: "2024:05:06 07:08:09", 0x829A: 1 / 250, 0x8827: 400})
    exif.get_ifd(0x8825).update({1: "N", 2: (48.0, 51.0, 30.0)})
    return exif


def assert_camera_exif(exif_bytes: bytes | None) -> None:
    exif = Image.Exif()
    exif.load(exif_bytes)
    assert (exif[0x010F], exif[0x0110], exif[0x0132]) == ("Hourglass Camera Co.", "HG-1", "2024:05:06 07:08:09")
    assert exif.get(0x0112, 1) == 1
    sub = exif.get_ifd(0x8769)
    assert (sub[0x9003], float(sub[0x829A]), sub[0x8827]) == ("2024:05:06 07:08:09", 1 / 250, 400)
    assert exif.get_ifd(0x8825)[1] == "N"


def source_with_meta(rgb: np.ndarray, *, bit_depth=8, fmt="PNG", orientation=1, **kw) -> ImageData:
    meta = {"exif": make_exif(orientation).tobytes(), "icc_profile": ICC, "dpi": (300.0, 300.0), "xmp": XMP}
    meta.update(kw)
    return ImageData(rgb, None, bit_depth, fmt, path=None, **meta)


def cv2_write(path: Path, arr: np.ndarray) -> None:
    ok, buf = cv2.imencode(path.suffix, arr)
    assert ok
    path.write_bytes(buf.tobytes())


# ----------------------------------------------------------------------------------------------- rounding

def test_rounding_is_the_official_formula():
    x = np.array([-1.0, 0.0, 0.49 / 255, 0.5 / 255, 0.3, 254.5 / 255, 1.0, 2.0, np.inf, np.nan])
    with np.errstate(invalid="ignore"):
        expected8 = np.floor(np.clip(np.nan_to_num(x), 0, 1) * 255 + 0.5)
        expected16 = np.floor(np.clip(np.nan_to_num(x), 0, 1) * 65535 + 0.5)
    assert to_uint8(x).dtype == np.uint8 and (to_uint8(x) == expected8).all()
    assert to_uint16(x).dtype == np.uint16 and (to_uint16(x) == expected16).all()
    k = np.arange(65536)
    assert (to_uint16((k / 65535).astype(np.float32)) == k).all()
    assert (to_uint8((np.arange(256) / 255).astype(np.float32)) == np.arange(256)).all()
    with pytest.raises(TypeError):
        to_uint8(np.zeros(3, np.uint8))


# ----------------------------------------------------------------------------------------------- round trips

@pytest.mark.parametrize("name", ["a.png", "a.tif", "a.tiff", "a.bmp", "a.webp"])
def test_lossless_round_trip_is_pixel_exact(tmp_path, name):
    pixels = rand_u8()
    out = write_image(tmp_path / name, pixels / 255.0, quality=100)
    img = read_image(out)
    assert img.bit_depth == 8 and img.rgb.dtype == np.float32 and img.rgb.shape == pixels.shape
    assert (to_uint8(img.rgb) == pixels).all()
    assert img.alpha is None and img.path == out


@pytest.mark.parametrize(("fmt", "ext"), [("JPEG", ".jpg"), ("JPEG", ".jpeg"), ("JPEG", ".jfif"), ("WEBP", ".webp"),
                                        ("HEIF", ".heic"), ("AVIF", ".avif")])
def test_lossy_round_trip_is_close(tmp_path, fmt, ext):
    pixels = smooth_u8()
    out = write_image(tmp_path / f"a{ext}", pixels / 255.0, quality=95)
    img = read_image(out)
    assert img.format == fmt and img.bit_depth == 8 and img.rgb.shape == pixels.shape
    assert np.abs(to_uint8(img.rgb).astype(int) - pixels).mean() < 2.5


@pytest.mark.parametrize("fmt", ["PNG", "TIFF", "BMP", "WEBP", "JPEG"])
def test_reads_files_written_by_pillow(tmp_path, fmt):
    pixels = smooth_u8()
    path = tmp_path / "pillow.img"  # content decides, not the extension
    Image.fromarray(pixels).save(path, format=fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    img = read_image(path)
    assert img.format == fmt
    assert np.abs(to_uint8(img.rgb).astype(int) - pixels).max() <= (0 if fmt != "JPEG" else 12)


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_16_bit_in_16_bit_out_exactly(tmp_path, ext):
    bgr = rand_u16()
    cv2_write(tmp_path / f"in{ext}", bgr)
    img = read_image(tmp_path / f"in{ext}")
    assert img.bit_depth == 16
    assert (to_uint16(img.rgb) == bgr[..., ::-1]).all()
    assert output_format_for(img) == ("PNG" if ext == ".png" else "TIFF", 16)
    out = write_image(tmp_path / f"out{ext}", img.rgb, img)
    back = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert back.dtype == np.uint16 and (back == bgr).all()
    assert (to_uint16(read_image(out).rgb) == bgr[..., ::-1]).all()


def test_16_bit_tiff_with_many_strips_keeps_pixels_and_metadata(tmp_path):
    rgb = rand_u16(300, 400, seed=7)
    src = source_with_meta(rgb / 65535.0, bit_depth=16)
    out = write_image(tmp_path / "many.tif", src.rgb, src)
    with Image.open(out) as im:
        assert len(im.tag_v2[273]) > 1 and im.tag_v2[259] == 5  # several LZW strips
    img = read_image(out)
    assert (to_uint16(img.rgb) == rgb).all() and img.icc_profile == ICC and img.xmp == XMP
    assert_camera_exif(img.exif)


def test_phone_jpeg_opened_as_mpo_is_a_jpeg(tmp_path):
    first, second = Image.fromarray(smooth_u8()), Image.fromarray(rand_u8(48, 64))
    first.save(tmp_path / "mpo.jpg", format="MPO", save_all=True, append_images=[second])
    with Image.open(tmp_path / "mpo.jpg") as im:
        assert im.format == "MPO"
    img = read_image(tmp_path / "mpo.jpg")
    assert img.format == "JPEG" and output_format_for(img) == ("JPEG", 8)
    assert np.abs(to_uint8(img.rgb).astype(int) - smooth_u8()).mean() < 2.5
    assert img.frames == 1  # the camera's second image is a preview, not a page of the photo


@pytest.mark.parametrize("ext", [".webp", ".tif", ".png"])
def test_animations_and_multi_page_files_say_how_many_frames_they_hold(tmp_path, ext):
    h, w = smooth_u8().shape[:2]
    first, *others = [Image.fromarray(smooth_u8())] + [Image.fromarray(rand_u8(h, w, seed=k)) for k in (1, 2)]
    lossless = {"lossless": True} if ext == ".webp" else {}
    first.save(tmp_path / f"many{ext}", save_all=True, append_images=others, **lossless)
    first.save(tmp_path / f"one{ext}", **lossless)
    many = read_image(tmp_path / f"many{ext}")
    assert many.frames == 3 and np.array_equal(to_uint8(many.rgb), smooth_u8())  # the first frame
    assert read_image(tmp_path / f"one{ext}").frames == 1


@pytest.mark.parametrize(("tag", "damage"), [(256, "width"), (259, "compression")])
def test_a_tiff_whose_second_page_is_damaged_gives_its_first(tmp_path, tag, damage):
    """Counting the pages read the second one's directory: without its width (damaged), Pillow raised
    TypeError, and with a compression it does not know, KeyError; the photo failed as an internal error,
    though its first page had been read. Found by fuzzing (the second with 150 files per kind)."""
    pages = [Image.fromarray(smooth_u8()), Image.fromarray(rand_u8(*smooth_u8().shape[:2], seed=1))]
    pages[0].save(tmp_path / "two.tif", save_all=True, append_images=pages[1:])
    data = bytearray((tmp_path / "two.tif").read_bytes())
    first = struct.unpack_from("<I", data, 4)[0]
    second = struct.unpack_from("<I", data, first + 2 + 12 * struct.unpack_from("<H", data, first)[0])[0]
    for k in range(struct.unpack_from("<H", data, second)[0]):
        entry = second + 2 + 12 * k
        if struct.unpack_from("<H", data, entry)[0] == tag == 256:  # ImageWidth
            struct.pack_into("<H", data, entry, 0xFFF0)  # now a tag nobody knows
        elif struct.unpack_from("<H", data, entry)[0] == tag == 259:  # Compression
            struct.pack_into("<HHIH", data, entry, 259, 3, 1, 2561)  # a scheme nobody knows
    (tmp_path / "two.tif").write_bytes(bytes(data))
    img = read_image(tmp_path / "two.tif")
    assert img.frames == 1 and np.array_equal(to_uint8(img.rgb), smooth_u8())


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_16_bit_alpha_and_grayscale(tmp_path, ext):
    bgra = rand_u16(c=4, seed=1)
    cv2_write(tmp_path / f"rgba{ext}", bgra)
    img = read_image(tmp_path / f"rgba{ext}")
    assert (to_uint16(img.rgb) == bgra[..., 2::-1]).all() and (to_uint16(img.alpha) == bgra[..., 3]).all()
    out = write_image(tmp_path / f"out{ext}", img.rgb, img)
    assert (cv2.imread(str(out), cv2.IMREAD_UNCHANGED) == bgra).all()

    gray = rand_u16(c=1, seed=2)[..., 0]
    cv2_write(tmp_path / f"gray{ext}", gray)
    img = read_image(tmp_path / f"gray{ext}")
    assert img.bit_depth == 16 and img.rgb.shape == (*gray.shape, 3)
    assert all((to_uint16(img.rgb[..., c]) == gray).all() for c in range(3))


def test_16_bit_gray_alpha_png(tmp_path):
    """Colour type 4 at 16 bits, which neither Pillow nor OpenCV can write: build the PNG by hand."""
    gray, alpha = rand_u16(8, 10, 1, 3)[..., 0], rand_u16(8, 10, 1, 4)[..., 0]
    rows = np.stack([gray, alpha], -1).astype(">u2").reshape(8, -1).view(np.uint8)
    raw = b"".join(b"\0" + row.tobytes() for row in rows)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 10, 8, 16, 4, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    (tmp_path / "la16.png").write_bytes(png)
    img = read_image(tmp_path / "la16.png")
    assert img.bit_depth == 16 and (to_uint16(img.rgb[..., 1]) == gray).all()
    assert (to_uint16(img.alpha) == alpha).all()


def test_unicode_file_names(tmp_path):
    bgr = rand_u16()
    out = write_image(tmp_path / "Été à Kyōto фото.png", bgr[..., ::-1] / 65535.0, bit_depth=16)
    assert (to_uint16(read_image(out).rgb) == bgr[..., ::-1]).all()


# ----------------------------------------------------------------------------------------------- colour modes

@pytest.mark.parametrize("mode", ["L", "1", "P", "I;16"])
def test_gray_and_palette_become_rgb(tmp_path, mode):
    im = Image.fromarray(smooth_u8()).convert("L" if mode == "I;16" else mode)
    if mode == "I;16":
        im = Image.fromarray(np.asarray(im).astype(np.uint16) * 257)
    im.save(tmp_path / "x.png")
    img = read_image(tmp_path / "x.png")
    expected = np.asarray(im.convert("RGB")) if mode != "I;16" else np.repeat(np.asarray(im)[..., None] // 257, 3, 2)
    assert img.rgb.shape == (48, 64, 3) and img.alpha is None
    assert (to_uint8(img.rgb) == expected).all()


def gray_profile() -> bytes:
    """An ICC profile whose header says GRAY (the bytes after the header are only carried, never parsed)."""
    return ICC[:16] + b"GRAY" + ICC[20:]


@pytest.mark.parametrize("mode, gray", [("L", True), ("1", True), ("I;16", True), ("LA", True), ("RGB", False),
                                        ("P", False), ("gray palette", True)])
def test_black_and_white_files_are_known(tmp_path, mode, gray):
    im = Image.fromarray(smooth_u8())
    if mode == "I;16":
        im = Image.fromarray(np.asarray(im.convert("L")).astype(np.uint16) * 257)
    elif mode == "gray palette":
        im = im.convert("L").convert("P")
    else:
        im = im.convert(mode)
    im.save(tmp_path / "x.png")
    assert read_image(tmp_path / "x.png").grayscale is gray


@pytest.mark.parametrize("ext, mode", [(".jpg", "L"), (".png", "L"), (".tif", "L"), (".bmp", "L"), (".png", "I;16"),
                                       (".tif", "I;16")])
def test_black_and_white_photos_are_written_gray(tmp_path, ext, mode):
    """The network tints a gray photo faintly; the result is its luminance, in one channel, same bit depth."""
    gray = np.asarray(Image.fromarray(smooth_u8()).convert("L"))
    if mode == "I;16":
        cv2_write(tmp_path / f"in{ext}", gray.astype(np.uint16) * 257)
    else:
        Image.fromarray(gray).save(tmp_path / f"in{ext}", icc_profile=gray_profile(),
                                   **({"quality": 100} if ext == ".jpg" else {}))
    src = read_image(tmp_path / f"in{ext}")
    assert src.grayscale
    tinted = np.clip(src.rgb + np.array([0.02, 0.0, -0.03], np.float32), 0, 1)
    out = write_image(tmp_path / f"out{ext}", tinted, src)
    raw = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert raw.ndim == 2 and raw.dtype == (np.uint16 if mode == "I;16" else np.uint8)
    luma = tinted @ np.array([0.299, 0.587, 0.114], np.float32)
    expected = to_uint16(luma) if mode == "I;16" else to_uint8(luma)
    tolerance = 2 if ext == ".jpg" else 0
    assert np.abs(raw.astype(int) - expected).max() <= tolerance
    back = read_image(out)
    assert back.grayscale
    if mode == "L" and ext != ".bmp":
        assert back.icc_profile == gray_profile()  # still describes the pixels


@pytest.mark.parametrize("ext", [".webp", ".png"])
def test_black_and_white_as_rgb_has_equal_channels_and_no_gray_profile(tmp_path, ext):
    """WebP holds no gray pixels, and one gray channel cannot carry alpha here: three equal channels then,
    without the GRAY profile, which cannot describe RGB."""
    gray = np.asarray(Image.fromarray(smooth_u8()).convert("L"))
    alpha = np.full_like(gray, 200) if ext == ".png" else None
    Image.fromarray(gray if alpha is None else np.dstack([gray, alpha]), "L" if alpha is None else "LA").save(
        tmp_path / "in.png", icc_profile=gray_profile())
    src = read_image(tmp_path / "in.png")
    assert src.grayscale and src.icc_profile == gray_profile()
    out = write_image(tmp_path / f"out{ext}", np.clip(src.rgb + np.float32(0.01) * np.arange(3), 0, 1), src,
                      quality=100)
    with Image.open(out) as im:
        assert im.mode == ("RGB" if alpha is None else "RGBA") and "icc_profile" not in im.info
        rgb = np.asarray(im)[..., :3].astype(int)
    assert (rgb == rgb[..., :1]).all()


def test_colour_photos_keep_their_colour(tmp_path):
    """A colour photo whose pixels happen to be nearly gray is not made gray."""
    Image.fromarray(smooth_u8()).save(tmp_path / "in.png")
    src = read_image(tmp_path / "in.png")
    out = write_image(tmp_path / "out.png", src.rgb, src)
    assert not src.grayscale and (to_uint8(read_image(out).rgb) == smooth_u8()).all()


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_alpha_is_read_and_kept(tmp_path, mode):
    rgba = rand_u8(c=4, seed=5)
    im = Image.fromarray(rgba).convert(mode)
    if mode == "P":  # palette with a tRNS alpha per entry
        im.info["transparency"] = bytes(range(0, 256, 1))
    im.save(tmp_path / "a.png", **({"transparency": im.info["transparency"]} if mode == "P" else {}))
    im = Image.open(tmp_path / "a.png")
    expected = np.asarray(im.convert("RGBA"))
    img = read_image(tmp_path / "a.png")
    assert (to_uint8(img.rgb) == expected[..., :3]).all() and (to_uint8(img.alpha) == expected[..., 3]).all()
    for ext in (".png", ".tif", ".webp"):
        back = read_image(write_image(tmp_path / f"out{ext}", img.rgb, img, quality=100))
        assert back.alpha is not None and (to_uint8(back.alpha) == expected[..., 3]).all(), ext
        assert (to_uint8(back.rgb) == expected[..., :3]).all(), ext
    for ext in (".jpg", ".bmp"):
        assert read_image(write_image(tmp_path / f"out{ext}", img.rgb, img)).alpha is None


def test_palette_transparency_becomes_alpha(tmp_path):
    im = Image.fromarray(rand_u8(seed=6)).convert("P")
    index = im.getpixel((0, 0))
    im.save(tmp_path / "t.png", transparency=index)
    img = read_image(tmp_path / "t.png")
    assert img.alpha is not None and img.alpha[0, 0] == 0 and img.alpha.max() == 1
    assert (img.alpha == 0).sum() == (np.asarray(im) == index).sum()


@pytest.mark.parametrize("fmt", ["JPEG", "TIFF"])
def test_cmyk_becomes_rgb(tmp_path, fmt):
    im = Image.fromarray(smooth_u8()).convert("CMYK")
    im.save(tmp_path / "c.img", format=fmt, **({"quality": 100} if fmt == "JPEG" else {}))
    img = read_image(tmp_path / "c.img")
    assert img.rgb.shape == (48, 64, 3) and img.icc_profile is None
    assert np.abs(to_uint8(img.rgb).astype(int) - np.asarray(im.convert("RGB"))).max() <= 8


@pytest.mark.parametrize("fmt", ["JPEG", "TIFF"])
def test_a_cmyk_photo_goes_through_its_profile(tmp_path, fmt):
    """A print file's inks become sRGB through its own profile (LittleCMS), not as 1 − C, 1 − M, 1 − Y; the
    result is sRGB, so the CMYK profile is not kept."""
    from cmyk_profile import cmyk_profile

    icc = cmyk_profile()
    Image.fromarray(smooth_u8()).convert("CMYK").save(tmp_path / "c.img", format=fmt, icc_profile=icc,
                                                     **({"quality": 100} if fmt == "JPEG" else {}))
    img = read_image(tmp_path / "c.img")
    with Image.open(tmp_path / "c.img") as im:
        managed = ImageCms.profileToProfile(im, ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                                            ImageCms.createProfile("sRGB"), outputMode="RGB")
        naive = im.convert("RGB")
    assert (to_uint8(img.rgb) == np.asarray(managed)).all() and img.icc_profile is None
    assert np.abs(np.asarray(naive, float) - np.asarray(managed, float)).mean() > 10  # the profile mattered


# ----------------------------------------------------------------------------------------------- orientation

@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_orientation_matches_exif_transpose(tmp_path, orientation, ext):
    rgba = rand_u8(6, 9, 4, seed=orientation)
    path = tmp_path / f"o{ext}"
    Image.fromarray(rgba).save(path, exif=make_exif(orientation).tobytes())
    expected = np.asarray(ImageOps.exif_transpose(Image.open(path)))
    img = read_image(path)
    assert (to_uint8(img.rgb) == expected[..., :3]).all() and (to_uint8(img.alpha) == expected[..., 3]).all()
    assert_camera_exif(img.exif)


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_jpeg_orientation_is_applied_once_and_reset(tmp_path, orientation):
    pixels = smooth_u8()
    src = tmp_path / "camera.jpg"
    xmp = XMP.replace(b"dc:format", f'xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="{orientation}" '
                      "dc:format".encode())
    Image.fromarray(pixels).save(src, quality=98, exif=make_exif(orientation).tobytes(), xmp=xmp)
    img = read_image(src)
    turn = {3: 2, 6: -1, 8: 1}[orientation]
    assert np.abs(to_uint8(img.rgb).astype(int) - np.rot90(pixels, turn)).mean() < 2
    assert b'tiff:Orientation="1"' in img.xmp
    out = write_image(tmp_path / "restored.jpg", img.rgb, img)
    with Image.open(out) as written:
        assert written.getexif()[0x0112] == 1
        assert_camera_exif(written.info["exif"])
    assert read_image(out).rgb.shape == img.rgb.shape


def test_read_small_has_the_jpeg_decoder_scale_down_an_upright_copy(tmp_path):
    """For detection: a large JPEG decoded at 1/2 to 1/8 of its side (never below the asked size on either
    side), EXIF orientation applied; the picture is the same as a full decode's, only smaller."""
    pixels = cv2.resize(smooth_u8(), (1600, 1000), interpolation=cv2.INTER_CUBIC)
    src = tmp_path / "camera.jpg"
    Image.fromarray(pixels).save(src, quality=95, exif=make_exif(6).tobytes())
    small = imaging.read_small(src, 300)
    assert small.shape == (800, 500, 3) and small.dtype == np.float32  # 1/2: 1/4 would be 250 < 300 wide
    full = read_image(src).rgb
    assert full.shape == (1600, 1000, 3)
    shrunk = cv2.resize(full, (500, 800), interpolation=cv2.INTER_AREA)
    assert np.abs(shrunk - small).mean() < 0.01
    assert imaging.read_small(src, 2000).shape == full.shape  # too small to scale: decoded in full
    png = tmp_path / "scan.png"
    Image.fromarray(pixels).save(png)
    given = np.zeros((4, 4, 3), np.float32)
    assert imaging.read_small(png, 300, decoded=given) is given  # pixels at hand are not decoded again
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(src.read_bytes()[:2000])
    with pytest.raises(InputUnreadableError):
        imaging.read_small(broken, 300)


@pytest.mark.parametrize(("ext", "bits"), [(".png", 8), (".png", 16), (".tif", 16), (".webp", 8), (".png", "P")])
def test_read_small_shrinks_other_formats_before_their_float_copy(tmp_path, ext, bits):
    """For detection: a PNG, TIFF or WebP is decoded in full but shrunk by a whole factor while its pixels
    are still integers (a 100 MP scan never needs its 1.2 GB float copy), keeping at least the asked size on
    both sides, upright; the picture is a full read's, shrunk. A palette image is not averaged (its values
    are indices): it is read in full."""
    pixels = cv2.resize(smooth_u8(), (1000, 700), interpolation=cv2.INTER_CUBIC)
    meta = source_with_meta(pixels[..., ::-1], orientation=6)
    if bits == "P":
        src = tmp_path / "palette.png"
        Image.fromarray(pixels).quantize(64).save(src, exif=make_exif(6).tobytes())
    else:
        rgb = pixels.astype(np.float32) / 255
        src = write_image(tmp_path / f"scan{ext}", rgb, meta if bits == 8 else
                          source_with_meta(pixels[..., ::-1], bit_depth=16, orientation=6))
    full = read_image(src).rgb
    assert full.shape == (1000, 700, 3)  # upright
    small = imaging.read_small(src, 300)
    if bits == "P":
        assert small.shape == full.shape
        return
    assert small.shape == (500, 350, 3) and small.dtype == np.float32  # 1/2: 1/3 would leave 233 < 300
    shrunk = cv2.resize(full, (350, 500), interpolation=cv2.INTER_AREA)
    assert np.abs(shrunk - small).mean() < 0.01
    # restoring with auto-detection has the photo decoded already: shrunk the same way, it sees the same
    assert np.abs(imaging.read_small(src, 300, decoded=full) - small).max() < 1 / 255
    assert imaging.read_small(src, 100).shape == (143, 100, 3)  # 1/7 (700 // 100), partial blocks kept
    assert read_image(src, at_least=2000).rgb.shape == full.shape  # too small to shrink


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_16_bit_orientation_and_exif(tmp_path, ext):
    """The OpenCV path applies the orientation by hand; write raw orientation-6 EXIF to get such a file."""
    bgr = rand_u16(6, 9, 3, seed=9)
    src = write_image(tmp_path / f"six{ext}", bgr[..., ::-1] / 65535.0,
                      source_with_meta(bgr, bit_depth=16, orientation=6))
    img = read_image(src)
    assert img.bit_depth == 16 and (to_uint16(img.rgb) == np.rot90(bgr[..., ::-1], -1)).all()
    out = write_image(tmp_path / f"out{ext}", img.rgb, img)
    with Image.open(out) as written:
        assert written.getexif()[0x0112] == 1 and written.getexif()[0x0110] == "HG-1"
    assert (to_uint16(read_image(out).rgb) == to_uint16(img.rgb)).all()


# ----------------------------------------------------------------------------------------------- metadata

@pytest.mark.parametrize(("ext", "bits", "keeps_dpi", "keeps_xmp"), [
    (".png", 8, True, True), (".png", 16, True, True), (".tif", 8, True, True), (".tif", 16, True, True),
    (".jpg", 8, True, True), (".webp", 8, False, True), (".heic", 8, False, True), (".avif", 8, False, True),
    (".bmp", 8, True, False),
])
def test_metadata_is_kept(tmp_path, ext, bits, keeps_dpi, keeps_xmp):
    pixels = smooth_u8()
    src = source_with_meta(pixels / 255.0, bit_depth=bits)
    out = write_image(tmp_path / f"out{ext}", src.rgb, src)
    img = read_image(out)
    assert img.bit_depth == bits
    if ext != ".bmp":
        assert img.icc_profile == ICC
        assert_camera_exif(img.exif)
    if keeps_dpi:
        assert img.dpi == pytest.approx((300, 300), abs=0.01)
    if keeps_xmp:
        assert img.xmp is not None and b'dc:format="image/test"' in img.xmp


def test_16_bit_png_chunks_and_tiff_tags_are_readable_by_pillow(tmp_path):
    src = source_with_meta(rand_u16() / 65535.0, bit_depth=16, dpi=(240.0, 180.0))
    with Image.open(write_image(tmp_path / "x.png", src.rgb, src)) as im:
        assert im.info["icc_profile"] == ICC and im.info["dpi"] == pytest.approx((240, 180), abs=0.01)
        im.load()
    with Image.open(write_image(tmp_path / "x.tif", src.rgb, src)) as im:
        assert im.tag_v2[258] == (16, 16, 16) and im.tag_v2[271] == "Hourglass Camera Co."
        assert im.info["dpi"] == pytest.approx((240, 180)) and im.info["xmp"] == XMP


# IPTC-IIM records: the coded character set (UTF-8), headline, two keywords, credit, caption
IPTC = b"".join(bytes([0x1C, rec, ds]) + struct.pack(">H", len(v)) + v for rec, ds, v in [
    (1, 90, b"\x1b%G"), (2, 105, b"Sunset"), (2, 25, b"beach"), (2, 25, b"sky"), (2, 110, b"Jane Doe"),
    (2, 120, "Le soleil se couche à Étretat".encode())])


@pytest.mark.parametrize(("src_ext", "out_ext", "bits"), [
    (".jpg", ".jpg", 8), (".jpg", ".tif", 8), (".tif", ".jpg", 8), (".tif", ".tif", 16)])
def test_iptc_captions_and_keywords_are_kept_in_jpeg_and_tiff(tmp_path, src_ext, out_ext, bits):
    """Agencies and Lightroom write captions, keywords and credits as IPTC-IIM: a JPEG's Photoshop APP13
    block, a TIFF's IPTC tag. They travel to a JPEG or TIFF result."""
    src = source_with_meta(smooth_u8() / 255.0, bit_depth=bits, iptc=IPTC)
    first = read_image(write_image(tmp_path / f"src{src_ext}", src.rgb, src))
    assert first.iptc == IPTC
    out = write_image(tmp_path / f"out{out_ext}", first.rgb, first)
    assert read_image(out).iptc == IPTC
    with Image.open(out) as im:  # where other programs look for it
        found = im.info["photoshop"][0x0404] if out_ext == ".jpg" else im.tag_v2[33723]
        assert found == IPTC and (im.getexif() or out_ext == ".tif")


def test_iptc_stored_as_longs_in_a_tiff_and_in_its_photoshop_block_is_read(tmp_path):
    """Photoshop types the TIFF IPTC tag LONG (Pillow would keep only its first number); some programs
    keep the IPTC record only inside the Photoshop resources tag."""
    padded = IPTC + b"\0" * (-len(IPTC) % 4)
    ifd = TiffImagePlugin.ImageFileDirectory_v2()
    ifd[33723] = padded
    ifd.tagtype[33723] = TiffTags.UNDEFINED
    Image.fromarray(smooth_u8()).save(tmp_path / "ps.tif", tiffinfo=ifd)
    data = bytearray((tmp_path / "ps.tif").read_bytes())
    entry = data.find(struct.pack("<HHI", 33723, 7, len(padded)))
    struct.pack_into("<HHI", data, entry, 33723, 4, len(padded) // 4)  # as Photoshop writes it
    (tmp_path / "ps.tif").write_bytes(bytes(data))
    assert read_image(tmp_path / "ps.tif").iptc.rstrip(b"\0") == IPTC

    ifd = TiffImagePlugin.ImageFileDirectory_v2()
    ifd[34377] = b"8BIM\x04\x04\0\0" + struct.pack(">I", len(IPTC)) + IPTC + b"\0" * (len(IPTC) % 2)
    ifd.tagtype[34377] = TiffTags.UNDEFINED
    Image.fromarray(smooth_u8()).save(tmp_path / "irb.tif", tiffinfo=ifd)
    assert read_image(tmp_path / "irb.tif").iptc == IPTC


def _xmp_values(xmp: bytes) -> dict[str, list[str]]:
    """Every property of an XMP packet, by its prefixed name, as the texts of its value or its list items."""
    import xml.etree.ElementTree as ET

    names = {"http://purl.org/dc/elements/1.1/": "dc", "http://ns.adobe.com/photoshop/1.0/": "photoshop",
             "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/": "Iptc4xmpCore"}

    def short(tag: str) -> str:
        uri, _, name = tag[1:].partition("}")
        return f"{names.get(uri, uri)}:{name}"

    found: dict[str, list[str]] = {}
    for description in ET.fromstring(xmp.strip(b"\0")).iter("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}Description"):
        for name, value in description.attrib.items():
            found[short(name)] = [value]
        for prop in description:
            items = [li.text for li in prop.iter("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}li")]
            found[short(prop.tag)] = items or [prop.text]
    return found


@pytest.mark.parametrize("out_ext", [".png", ".webp", ".avif", ".heic"])
def test_iptc_goes_into_the_xmp_of_formats_without_iptc(tmp_path, out_ext):
    """PNG, WebP, AVIF and HEIC have no IPTC block: an IPTC-only photo (agency files, older software)
    restored as one kept no caption. The captions now go into the result's XMP, as the IPTC Core schema
    names them."""
    src = source_with_meta(smooth_u8() / 255.0, fmt="JPEG", xmp=None, iptc=IPTC)
    img = read_image(write_image(tmp_path / f"out{out_ext}", src.rgb, src))
    assert img.xmp is not None
    values = _xmp_values(img.xmp)
    assert values["dc:description"] == ["Le soleil se couche à Étretat"]
    assert values["dc:subject"] == ["beach", "sky"]
    assert values["photoshop:Headline"] == ["Sunset"] and values["photoshop:Credit"] == ["Jane Doe"]


def test_iptc_fills_only_what_the_xmp_lacks(tmp_path):
    """Lightroom and exiftool write both and keep them equal; where they differ, the XMP is the newer (the
    Metadata Working Group's rule), so its values stay and only missing properties come from the IPTC."""
    xmp = XMP.replace(b'dc:format="image/test"/>', b'dc:format="image/test"><dc:description><rdf:Alt>'
                      b'<rdf:li xml:lang="x-default">Edited caption</rdf:li></rdf:Alt></dc:description>'
                      b"</rdf:Description>")
    src = source_with_meta(smooth_u8() / 255.0, fmt="JPEG", xmp=xmp, iptc=IPTC)
    values = _xmp_values(read_image(write_image(tmp_path / "out.png", src.rgb, src)).xmp)
    assert values["dc:description"] == ["Edited caption"] and values["dc:format"] == ["image/test"]
    assert values["dc:subject"] == ["beach", "sky"] and values["photoshop:Headline"] == ["Sunset"]

    from engine.imaging.iptc_xmp import with_iptc

    complete = with_iptc(xmp, IPTC)
    assert with_iptc(complete, IPTC) == complete  # nothing missing: kept byte for byte
    assert with_iptc(b"<x:xmpmeta broken", IPTC) == b"<x:xmpmeta broken"  # unreadable: kept as it is
    assert with_iptc(XMP, None) == XMP


def test_iptc_datasets_in_latin_1_extended_and_dated_are_read():
    """Older software writes Latin-1 without saying so; IIM allows extended lengths; the date and time
    created become one XMP date."""
    from engine.imaging.iptc_xmp import datasets, iptc_properties

    caption = "Café au lait".encode("cp1252")
    iim = (bytes([0x1C, 2, 120]) + struct.pack(">HH", 0x8002, len(caption)) + caption
           + b"".join(bytes([0x1C, 2, ds]) + struct.pack(">H", len(v)) + v
                      for ds, v in [(55, b"20240317"), (60, b"142530+0100"), (80, b"A"), (80, b"B")])
           + b"\0\0")  # a TIFF tag's padding
    assert [d[:2] for d in datasets(iim)] == [(2, 120), (2, 55), (2, 60), (2, 80), (2, 80)]
    props = {tag.split("}")[1]: values for tag, (_, values) in iptc_properties(iim).items()}
    assert props == {"description": ["Café au lait"], "creator": ["A", "B"],
                     "DateCreated": ["2024-03-17T14:25:30+01:00"]}
    month_only = bytes([0x1C, 2, 55]) + struct.pack(">H", 8) + b"20240300"
    assert iptc_properties(month_only)["{http://ns.adobe.com/photoshop/1.0/}DateCreated"][1] == ["2024-03"]
    assert datasets(b"\x1c\x02\x78\xff\xff") == []  # a length past the end: nothing made up


def test_xmp_too_large_for_a_jpeg_is_left_out_instead_of_failing(tmp_path):
    """Photoshop's document history can make a TIFF's XMP megabytes long; one JPEG segment holds 64 KB."""
    big = XMP.replace(b"image/test", b"x" * 100_000)
    src = source_with_meta(smooth_u8() / 255.0, fmt="TIFF", xmp=big, iptc=IPTC)
    img = read_image(write_image(tmp_path / "out.jpg", src.rgb, src))
    assert img.xmp is None and img.iptc == IPTC and img.icc_profile == ICC


def test_decoder_warnings_do_not_reach_the_terminal(tmp_path, capfd):
    """OpenCV's own writer leaves ExtraSamples out of a 4-channel TIFF; reading one made its TIFF decoder
    print a warning on stderr, between the CLI's progress lines."""
    bgra = np.dstack([rand_u16(), rand_u16()[..., :1]])
    cv2.imwrite(str(tmp_path / "rgba.tif"), bgra)
    capfd.readouterr()
    img = read_image(tmp_path / "rgba.tif")
    assert img.bit_depth == 16 and img.alpha is not None
    assert "WARN" not in capfd.readouterr().err


def test_the_software_tag_is_set_without_losing_the_rest():
    tagged = Image.Exif()
    tagged.load(imaging.with_software(make_exif(1).tobytes(), "Hourglass 9"))
    assert (tagged[0x0131], tagged[0x0110]) == ("Hourglass 9", "HG-1")
    fresh = Image.Exif()
    fresh.load(imaging.with_software(None, "Hourglass 9"))
    assert dict(fresh) == {0x0131: "Hourglass 9"}
    assert imaging.with_software(b"not exif", "Hourglass 9") == b"not exif"  # never fails the photo


def test_high_quality_jpegs_keep_full_colour_resolution(tmp_path):
    """At quality 90 and above a JPEG result keeps every pixel's colour (4:4:4), as photo editors save;
    Pillow would halve the colour resolution (4:2:0) and blur thin coloured detail."""
    from PIL import JpegImagePlugin

    stripes = np.zeros((32, 32, 3), np.float32)
    stripes[:, ::2, 0] = 1.0  # one-pixel red stripes
    for quality, sampling in ((95, 0), (80, 2)):
        out = write_image(tmp_path / f"q{quality}.jpg", stripes, quality=quality)
        with Image.open(out) as im:
            assert JpegImagePlugin.get_sampling(im) == sampling
    red = read_image(tmp_path / "q95.jpg").rgb[..., 0]
    assert red[:, ::2].mean() - red[:, 1::2].mean() > 0.8  # the stripes survive


def test_png_text_chunks_are_kept(tmp_path):
    """Title, author, copyright and description a scanner or editor wrote into a PNG travel to the result
    (Latin-1 as tEXt, long as zTXt, other text as iTXt); ImageMagick's raw EXIF copy does not."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Title", "Old harbour")
    info.add_text("Copyright", "© Jane Doe")
    info.add_itxt("Description", "Le port à l’aube — 1962")
    info.add_text("Comment", "scan " * 400, zip=True)
    info.add_text("Raw profile type exif", "stale")
    Image.fromarray(smooth_u8()).save(tmp_path / "scan.png", pnginfo=info)
    img = read_image(tmp_path / "scan.png")
    out = write_image(tmp_path / "out.png", img.rgb, img)
    with Image.open(out) as im:
        assert {k: im.text[k] for k in ("Title", "Copyright", "Description")} == {
            "Title": "Old harbour", "Copyright": "© Jane Doe", "Description": "Le port à l’aube — 1962"}
        assert im.text["Comment"] == "scan " * 400 and "Raw profile type exif" not in im.text
    assert read_image(write_image(tmp_path / "out.jpg", img.rgb, img)).text is None  # PNG only


@pytest.mark.parametrize("suffix", [".jpg", ".tif", ".webp"])
def test_png_description_author_and_copyright_go_into_the_exif_of_other_formats(tmp_path, suffix):
    """A PNG saved as JPEG, TIFF or WebP has no text chunks: the three with an EXIF tag of the same meaning
    are carried there, so a caption and credit are not lost; a tag the EXIF already has is not replaced."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Copyright", "© Zoë Doe")
    info.add_itxt("Description", "Le port à l’aube — 1962")
    info.add_text("Author", "Zoë Doe")
    info.add_text("Title", "Old harbour")  # no EXIF tag of that meaning
    exif = Image.Exif()
    exif[0x013B] = "Studio"  # the file's own EXIF Artist
    Image.fromarray(smooth_u8()).save(tmp_path / "scan.png", pnginfo=info, exif=exif.tobytes())
    img = read_image(tmp_path / "scan.png")
    with Image.open(write_image(tmp_path / f"out{suffix}", img.rgb, img)) as im:
        tags = im.getexif()
    utf8 = [tags.get(t, "").encode("latin-1").decode("utf-8") for t in (0x010E, 0x013B, 0x8298)]  # Pillow: Latin-1
    assert utf8 == ["Le port à l’aube — 1962", "Studio", "© Zoë Doe"]


def test_a_resolution_is_read_only_where_the_file_states_one(tmp_path):
    """Pillow answers (1, 1) for a TIFF without resolution tags and the bare numbers of a resolution without
    a unit, and (72, 72) for a JPEG whose EXIF has none: results claimed 1 dpi (a print 400 inches wide)."""
    import cv2

    pixels = smooth_u8()
    cv2.imwrite(str(tmp_path / "plain.tif"), pixels)  # no resolution tags
    cv2.imwrite(str(tmp_path / "plain.jpg"), pixels)  # JFIF density 1:1, unit 0: an aspect ratio
    no_unit, none, inches = Image.Exif(), Image.Exif(), Image.Exif()
    no_unit[0x011A], no_unit[0x011B], no_unit[0x0128] = 1, 1, 1  # as exiftool copies JFIF's aspect ratio
    none[0x010F] = "Camera"
    inches[0x011A], inches[0x011B], inches[0x0128] = 300, 300, 2
    for name, exif in (("no_unit", no_unit), ("none", none), ("inches", inches)):
        cv2.imwrite(str(tmp_path / "a.jpg"), pixels)
        Image.open(tmp_path / "a.jpg").save(tmp_path / f"{name}.jpg", exif=exif.tobytes(), quality=95)
    Image.fromarray(pixels).save(tmp_path / "cm.tif", tiffinfo={296: 3, 282: 118.11, 283: 118.11})
    found = {n: read_image(tmp_path / n).dpi for n in ("plain.tif", "plain.jpg", "no_unit.jpg", "none.jpg",
                                                       "inches.jpg", "cm.tif")}
    assert found == {"plain.tif": None, "plain.jpg": None, "no_unit.jpg": None, "none.jpg": None,
                     "inches.jpg": (300.0, 300.0), "cm.tif": (300.0, 300.0)}
    img = read_image(tmp_path / "plain.tif")
    with Image.open(write_image(tmp_path / "out.tif", img.rgb, img)) as im:
        assert 282 not in im.tag_v2  # no 1 dpi made up
    img = read_image(tmp_path / "no_unit.jpg")
    with Image.open(write_image(tmp_path / "out.jpg", img.rgb, img)) as im:
        assert im.info.get("jfif_unit") == 0


def test_a_text_tag_stored_as_numbers_is_left_out_and_the_rest_of_the_exif_kept(tmp_path):
    """A damaged (or odd) file stored its ImageDescription as a RATIONAL and its Exif directory's
    DateTimeOriginal as a FLOAT; Pillow knows both as text and failed writing them back ("'IFDRational'
    object has no attribute 'encode'"): the photo failed as an internal error. Found by fuzzing EXIF."""

    from damaged_files import tiff_directory

    def first(exif_at: int) -> bytes:
        return tiff_directory([(0x010E, 5, 1, struct.pack("<II", 1, 3)),  # a description of numbers
                               (0x010F, 2, 4, b"Cam\0"), (0x8769, 4, 1, struct.pack("<I", exif_at))], 8)

    exif_at = 8 + len(first(0))
    exif_ifd = tiff_directory([(0x9003, 11, 1, struct.pack("<f", 1.5)),  # a date as a float
                               (0xA434, 2, 4, b"50mm")], exif_at)
    block = b"Exif\0\0II*\0" + struct.pack("<I", 8) + first(exif_at) + exif_ifd
    Image.fromarray(smooth_u8()).save(tmp_path / "odd.jpg", exif=block, quality=90)
    img = read_image(tmp_path / "odd.jpg")
    for ext in (".jpg", ".tif", ".avif"):
        with Image.open(write_image(tmp_path / f"out{ext}", img.rgb, img)) as im:
            exif = im.getexif()
            assert exif.get(0x010F) == "Cam" and 0x010E not in exif, ext
            assert exif.get_ifd(0x8769).get(0xA434) == "50mm" and 0x9003 not in exif.get_ifd(0x8769), ext


def test_odd_exif_tags_print_no_pillow_warnings_when_written(tmp_path):
    """Pillow reads a photo's EXIF again to write it, and warned about odd tags (an Orientation of two
    values) on the terminal, between the command line's progress lines."""
    import warnings

    odd = Image.Exif()
    odd[0x010F], odd[0x0112] = "Camera", 1
    exif = odd.tobytes()
    entry = exif.find(struct.pack(">HHI", 0x0112, 3, 1))  # Orientation: one SHORT, as Pillow writes it ...
    exif = exif[:entry + 4] + struct.pack(">I", 2) + exif[entry + 8:]  # ... now two ("too many entries")
    src = source_with_meta(smooth_u8() / 255.0, fmt="JPEG", exif=exif)
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        for ext in (".avif", ".jpg", ".tif", ".png", ".webp"):
            write_image(tmp_path / f"out{ext}", src.rgb, src)
    assert not [str(w.message) for w in warned if issubclass(w.category, UserWarning)]


@pytest.mark.parametrize(("ext", "limit"), [(".jpg", 65500), (".webp", 16383), (".avif", 65536)])
def test_a_result_larger_than_its_format_holds_is_refused_in_our_words(tmp_path, ext, limit):
    """libjpeg-turbo, libwebp and libavif refused such images with OSError ("broken data stream"),
    ValueError and RuntimeError: internal errors, after the restoration."""
    from engine.errors import ImageTooLargeError

    write_image(tmp_path / f"fits{ext}", np.zeros((2, limit, 3), np.float32))
    with pytest.raises(ImageTooLargeError, match=f"{limit:,} pixels a side at most"):
        write_image(tmp_path / f"wide{ext}", np.zeros((limit + 1, 2, 3), np.float32))
    assert not (tmp_path / f"wide{ext}").exists()


def test_a_jpegs_exif_resolution_wins_over_its_jfif_header(tmp_path):
    """An editor that kept the camera's EXIF but wrote its own default into the JFIF header (96 dpi) left
    the two disagreeing; GIMP reads the EXIF's. Results said 96 (Pillow reads JFIF), and a
    JPEG result kept the disagreement."""
    exif = Image.Exif()
    exif[0x011A], exif[0x011B], exif[0x0128] = 300, 300, 2
    Image.fromarray(smooth_u8()).save(tmp_path / "both.jpg", dpi=(96, 96), exif=exif.tobytes(), quality=95)
    Image.fromarray(smooth_u8()).save(tmp_path / "jfif.jpg", dpi=(150, 150), quality=95)
    with Image.open(tmp_path / "both.jpg") as im:
        assert im.info["dpi"] == (96, 96)  # what Pillow says
    img = read_image(tmp_path / "both.jpg")
    assert img.dpi == (300.0, 300.0) and read_image(tmp_path / "jfif.jpg").dpi == (150.0, 150.0)
    with Image.open(write_image(tmp_path / "out.jpg", img.rgb, img)) as im:
        assert im.info["dpi"] == (300, 300) and im.getexif()[0x011A] == 300
    assert read_image(write_image(tmp_path / "out.tif", img.rgb, img)).dpi == (300.0, 300.0)


@pytest.mark.parametrize("suffix", [".jpg", ".tif"])
def test_the_exif_interop_directory_survives(tmp_path, suffix):
    """Cameras write an Interop directory (DCF "R98") inside the Exif one. A TIFF result kept its old
    offset as a number, pointing into the pixels (exiftool: "Bad format for InteropIFD entry 0")."""
    exif = Image.Exif()
    exif[0x010F] = "Camera"
    exif.get_ifd(0x8769)[0x9003] = "2026:12:06 10:00:00"
    exif.get_ifd(0x8769)[0xA005] = {1: "R98", 2: b"0100"}
    Image.fromarray(smooth_u8()).save(tmp_path / "in.jpg", exif=exif.tobytes())
    assert Image.open(tmp_path / "in.jpg").getexif().get_ifd(0xA005) == {1: "R98", 2: b"0100"}
    img = read_image(tmp_path / "in.jpg")
    with Image.open(write_image(tmp_path / f"out{suffix}", img.rgb, img)) as im:
        tags = im.getexif()
        assert tags.get_ifd(0x8769)[0x9003] == "2026:12:06 10:00:00"
        assert tags.get_ifd(0xA005) == {1: "R98", 2: b"0100"}


@pytest.mark.parametrize("suffix", [".jpg", ".tif", ".png"])
def test_a_jpeg_results_exif_says_how_its_chroma_is_placed_as_the_standard_requires(tmp_path, suffix):
    """EXIF requires YCbCrPositioning in a JPEG's first directory (exiftool -validate: "Missing required
    JPEG IFD0 tag 0x0213"); a camera's is dropped on reading with the layout tags, as it described the
    photo's own encoding. A JPEG result says centred (libjpeg's); other formats carry none."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0213] = "Camera", 2  # co-sited, as many cameras encode
    Image.fromarray(smooth_u8()).save(tmp_path / "in.jpg", exif=exif.tobytes())
    img = read_image(tmp_path / "in.jpg")
    with Image.open(write_image(tmp_path / f"out{suffix}", img.rgb, img)) as im:
        tags = im.getexif()
        assert tags[0x010F] == "Camera" and tags.get(0x0213) == (1 if suffix == ".jpg" else None)


@pytest.mark.parametrize("suffix", [".jpg", ".tif", ".png", ".webp", ".avif"])
def test_exif_text_beyond_ascii_survives(tmp_path, suffix):
    """An owner's name or a "©" in UTF-8 (as Lightroom and exiftool write them) came out as "Zo??" in every
    result: Pillow reads the bytes as Latin-1 and writes "?" for each character beyond ASCII."""
    exif = Image.Exif()
    exif[0x013B] = "Zoë Doe".encode()
    exif[0x8298] = "© 2026 Zoë".encode()
    exif[0x0112] = 6  # rotated: the EXIF is rewritten when read
    exif.get_ifd(0x8769)[0xA430] = "Zoë".encode()  # CameraOwnerName
    Image.fromarray(smooth_u8()).save(tmp_path / "in.jpg", exif=exif.tobytes())
    img = read_image(tmp_path / "in.jpg")
    img = replace(img, exif=imaging.with_software(img.exif, "Hourglass"))  # as a restore does
    with Image.open(write_image(tmp_path / f"out{suffix}", img.rgb, img)) as im:
        tags = im.getexif()
        owner = tags.get_ifd(0x8769)[0xA430]
    assert [tags[t].encode("latin-1").decode() for t in (0x013B, 0x8298)] == ["Zoë Doe", "© 2026 Zoë"]
    assert isinstance(owner, str) and owner.encode("latin-1").decode() == "Zoë"  # text (ASCII type), not bytes


def test_names_up_to_the_disk_limit_are_written_and_longer_ones_refused(tmp_path):
    """A 250-byte name is legal, but its temporary file (".name.xxxx.hourglass-tmp") was not."""
    rgb = smooth_u8() / 255.0
    name = "é" * 123 + ".png"  # 250 bytes in UTF-8
    assert read_image(write_image(tmp_path / name, rgb)).rgb.shape == rgb.shape
    with pytest.raises(OutputNotWritableError, match="too long to save"):
        write_image(tmp_path / ("é" * 126 + ".png"), rgb)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_transparent_parts_are_white_where_the_format_has_no_alpha(tmp_path):
    """A JPEG (or BMP) cannot hold transparency: the colour under transparent pixels, often black, showed."""
    rgb = np.zeros((8, 8, 3), np.float32)
    rgb[..., 1] = 0.8
    alpha = np.ones((8, 8), np.float32)
    alpha[:, 4:] = 0.0
    alpha[:, 3] = 0.5
    for name in ("flat.jpg", "flat.bmp"):
        out = to_uint8(read_image(write_image(tmp_path / name, rgb, alpha=alpha)).rgb).astype(int)
        assert (np.abs(out[:, 5:] - 255) <= 3).all() and (np.abs(out[:, 0] - [0, 204, 0]) <= 6).all()
        assert np.abs(out[:, 3] - [128, 230, 128]).max() <= 6  # half transparent: half way to white
    assert read_image(write_image(tmp_path / "kept.png", rgb, alpha=alpha)).alpha is not None
    assert imaging.format_without_transparency(tmp_path / "x.jpg", None) == "JPEG"
    assert imaging.format_without_transparency(tmp_path / "x.png", None) is None


def test_no_metadata_means_none(tmp_path):
    Image.fromarray(rand_u8()).save(tmp_path / "plain.png")
    img = read_image(tmp_path / "plain.png")
    assert (img.exif, img.icc_profile, img.dpi, img.xmp) == (None, None, None, None)


def test_xmp_in_png_written_by_pillow(tmp_path):
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    Image.fromarray(rand_u8()).save(tmp_path / "x.png", pnginfo=info, dpi=(72, 72))
    img = read_image(tmp_path / "x.png")
    assert img.xmp == XMP and img.dpi == pytest.approx((72, 72), abs=0.01)


def test_heic_round_trip(tmp_path):
    import pillow_heif

    pillow_heif.register_heif_opener()
    pixels = smooth_u8()
    Image.fromarray(pixels).save(tmp_path / "phone.heic", quality=95, exif=make_exif(6).tobytes())
    img = read_image(tmp_path / "phone.heic")
    assert img.format == "HEIF" and img.bit_depth == 8
    assert np.abs(to_uint8(img.rgb).astype(int) - np.rot90(pixels, -1)).mean() < 3  # rotated exactly once
    assert output_format_for(img) == ("JPEG", 8)
    out = write_image(tmp_path / "restored.jpg", img.rgb, img)
    assert read_image(out).rgb.shape == img.rgb.shape


def test_avif_round_trip_keeps_the_format_alpha_and_orientation(tmp_path):
    """AVIF (Pillow's own codec, no pillow-heif): read upright, written back as AVIF with its alpha."""
    pixels = smooth_u8()
    alpha = np.full(pixels.shape[:2], 255, np.uint8)
    alpha[:, :20] = 0
    Image.fromarray(np.dstack([pixels, alpha])).save(tmp_path / "web.avif", quality=95,
                                                     exif=make_exif(6).tobytes())
    img = read_image(tmp_path / "web.avif")
    assert img.format == "AVIF" and img.bit_depth == 8 and img.frames == 1
    assert np.abs(to_uint8(img.rgb).astype(int) - np.rot90(pixels, -1)).mean() < 3  # rotated exactly once
    assert img.alpha is not None and (img.alpha[:20] == 0).all() and (img.alpha[-20:] == 1).all()
    assert output_format_for(img) == ("AVIF", 8) and imaging.extension_for("avif") == ".avif"
    out = write_image(tmp_path / "out" / "web.avif", img.rgb, img)
    with Image.open(out) as written:
        assert written.format == "AVIF" and written.mode == "RGBA" and written.getexif().get(0x0112, 1) == 1
    assert np.abs(read_image(out).alpha - img.alpha).max() < 0.02


# ----------------------------------------------------------------------------------------------- read errors

def _err(exc, path) -> str:
    with pytest.raises(exc) as info:
        read_image(path)
    assert Path(path).name in str(info.value)
    return str(info.value)


def test_read_errors(tmp_path):
    (tmp_path / "noise.jpg").write_bytes(np.random.default_rng(0).bytes(5000))
    _err(InputUnreadableError, tmp_path / "noise.jpg")
    (tmp_path / "noise.avif").write_bytes(np.random.default_rng(0).bytes(5000))  # (no "a AVIF image")
    buf = io.BytesIO()
    Image.fromarray(smooth_u8()).save(buf, format="AVIF")
    (tmp_path / "no_item.avif").write_bytes(buf.getvalue().replace(b"iloc", b"xxxx", 1))  # libavif: RuntimeError
    assert "damaged or incomplete" in _err(InputUnreadableError, tmp_path / "no_item.avif")  # (was "internal")
    assert "is damaged, or is not the AVIF image its name says" in _err(InputUnreadableError, tmp_path / "noise.avif")
    (tmp_path / "empty.png").write_bytes(b"")
    assert "empty" in _err(InputUnreadableError, tmp_path / "empty.png")
    (tmp_path / "folder.jpg").mkdir()
    assert "folder" in _err(InputUnreadableError, tmp_path / "folder.jpg")
    _err(InputNotFoundError, tmp_path / "missing.jpg")
    (tmp_path / "notes.txt").write_text("not a photo")
    _err(UnsupportedInputError, tmp_path / "notes.txt")
    Image.fromarray(rand_u8()).save(tmp_path / "anim.gif")
    assert "GIF" in _err(UnsupportedInputError, tmp_path / "anim.gif")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
@pytest.mark.timeout(30)  # the old code waited forever (in open(), which the timeout's signal interrupts)
def test_a_pipe_named_like_a_photo_is_refused_instead_of_waiting_for_a_writer(tmp_path):
    """Opening a pipe for reading waits until something writes to it: `hourglass detect` hung on one."""
    os.mkfifo(tmp_path / "photo.jpg")
    assert "not a file but a pipe" in _err(InputUnreadableError, tmp_path / "photo.jpg")
    with pytest.raises(InputUnreadableError, match="a pipe"):
        imaging.read_small(tmp_path / "photo.jpg", 64)


@pytest.mark.parametrize("ext", [".jpg", ".png", ".tif", ".webp"])
def test_truncated_file_fails_at_read_time(tmp_path, ext):
    good = write_image(tmp_path / f"good{ext}", rand_u8(200, 300) / 255.0)
    data = good.read_bytes()
    (tmp_path / f"cut{ext}").write_bytes(data[: len(data) // 2])
    _err(InputUnreadableError, tmp_path / f"cut{ext}")


def test_truncated_16_bit_png(tmp_path):
    cv2_write(tmp_path / "good.png", rand_u16(200, 300))
    (tmp_path / "cut.png").write_bytes((tmp_path / "good.png").read_bytes()[:5000])
    _err(InputUnreadableError, tmp_path / "cut.png")


def test_too_many_pixels(tmp_path, monkeypatch):
    Image.fromarray(rand_u8(40, 50)).save(tmp_path / "big.png")
    monkeypatch.setattr(data, "MAX_PIXELS", 1000)  # the limit _check_size reads
    assert "megapixels" in _err(ImageTooLargeError, tmp_path / "big.png")


def test_decompression_bomb_guard(tmp_path, monkeypatch):
    Image.fromarray(rand_u8(40, 50)).save(tmp_path / "bomb.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500)  # Pillow itself refuses (> 2 × limit)
    _err(ImageTooLargeError, tmp_path / "bomb.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1500)  # Pillow only warns (limit < pixels < 2 × limit)
    _err(ImageTooLargeError, tmp_path / "bomb.png")
    assert Image.MAX_IMAGE_PIXELS == 1500


def test_photo_size_of_a_png_reads_no_pixels_and_finds_an_orientation_after_them(tmp_path, monkeypatch):
    """Pillow's getexif() decodes a PNG whole to look for an eXIf chunk after its pixels: the analysis of a
    PNG without EXIF decoded it only for its size (17 ms a photo on the real photos, seconds for a scan)."""
    import zlib

    from PIL import PngImagePlugin

    plain = tmp_path / "plain.png"
    Image.fromarray(smooth_u8(48, 64)).save(plain)
    data = plain.read_bytes()
    exif = make_exif(6).tobytes()
    exif = exif[6:] if exif.startswith(b"Exif\x00\x00") else exif
    chunk = len(exif).to_bytes(4, "big") + b"eXIf" + exif + zlib.crc32(b"eXIf" + exif).to_bytes(4, "big")
    late = tmp_path / "late.png"  # the eXIf chunk after the pixels, just before IEND
    late.write_bytes(data[:-12] + chunk + data[-12:])
    assert imaging.photo_size(late) == read_image(late).rgb.shape[1::-1] == (48, 64)

    def no_decoding(self):
        raise AssertionError("decoded")

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", no_decoding)
    assert imaging.photo_size(plain) == (64, 48) and imaging.photo_size(late) == (48, 64)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs POSIX permissions, not root")
def test_unreadable_permission(tmp_path):
    path = write_image(tmp_path / "locked.png", rand_u8() / 255.0)
    path.chmod(0)
    _err(InputUnreadableError, path)


def test_photo_size_is_the_upright_size_from_the_header(tmp_path):
    """The analysis tells the GUI each photo's size (its estimate of a batch's time left weighs photos by
    it) without decoding the pixels: upright, in every format Hourglass reads."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    pixels, exif = smooth_u8(48, 64), make_exif(6).tobytes()
    for name in ("side.jpg", "side.heic", "side.avif", "side.webp", "side.png"):
        Image.fromarray(pixels).save(tmp_path / name, exif=exif)
    cv2.imwrite(str(tmp_path / "deep.tif"), np.zeros((48, 64, 3), np.uint16))
    fake_linear_dng(tmp_path / "camera.dng", np.full((48, 64, 3), 9000, np.uint16), orientation=6)
    for path in sorted(tmp_path.iterdir()):
        assert imaging.photo_size(path) == read_image(path).rgb.shape[1::-1], path.name
    assert imaging.photo_size(tmp_path / "side.jpg") == (48, 64)
    (tmp_path / "damaged.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a photo")
    for path in (tmp_path / "damaged.jpg", tmp_path / "missing.jpg", tmp_path):
        assert imaging.photo_size(path) is None  # (the photo's own read says what is wrong)


def test_which_photos_read_small_decodes_small_itself(tmp_path):
    """A JPEG (by its bytes, whatever its name) and a camera RAW are decoded small from the file; the CLI
    detects only those ahead of their restore, where it costs no second full decode."""
    Image.fromarray(smooth_u8(48, 64)).save(tmp_path / "a.jpg")
    (tmp_path / "named.png").write_bytes((tmp_path / "a.jpg").read_bytes())
    Image.fromarray(smooth_u8(48, 64)).save(tmp_path / "b.png")
    fake_linear_dng(tmp_path / "c.dng", np.full((48, 64, 3), 9000, np.uint16))
    found = {p.name: imaging.reads_small_itself(p) for p in (*sorted(tmp_path.iterdir()), tmp_path / "gone.jpg")}
    assert found == {"a.jpg": True, "b.png": False, "c.dng": True, "named.png": True, "gone.jpg": False}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_photo_size_of_a_named_pipe_does_not_wait_for_a_writer(tmp_path):
    os.mkfifo(tmp_path / "pipe.dng")
    assert imaging.photo_size(tmp_path / "pipe.dng") is None


# ----------------------------------------------------------------------------------------------- RAW

def fake_linear_dng(path: Path, rgb16: np.ndarray, orientation: int = 1, *, bayer: bool = False,
                    mono: bool = False, xmp: bytes | None = None, compression: int = 1) -> None:
    """An uncompressed LinearRaw DNG: the simplest RAW file LibRaw decodes; `bayer`: a colour-filter-array
    DNG instead (RGGB, one sample per site taken from `rgb16`), as cameras' sensors record; `mono`: one
    sample per pixel (`rgb16`'s green), as monochrome cameras (Leica's Monochrom) write; `xmp`: an XMP
    packet in it, as Lightroom writes into a DNG; `compression`: the Compression tag's value (the pixels
    stay uncompressed: for a compression LibRaw refuses before it decodes anything)."""
    h, w, _ = rgb16.shape
    one = [(1, 1)]
    if mono:
        pixels = rgb16[..., 1].astype("<u2").tobytes()
        layout = {258: (3, [16]), 262: (3, [34892]), 277: (3, [1])}
    elif bayer:
        mosaic = rgb16[..., 1].copy()
        mosaic[0::2, 0::2] = rgb16[0::2, 0::2, 0]
        mosaic[1::2, 1::2] = rgb16[1::2, 1::2, 2]
        pixels = mosaic.astype("<u2").tobytes()
        layout = {258: (3, [16]), 262: (3, [32803]), 277: (3, [1]), 33421: (3, [2, 2]), 33422: (1, [0, 1, 1, 2])}
    else:
        pixels = rgb16.astype("<u2").tobytes()
        layout = {258: (3, [16] * 3), 262: (3, [34892]), 277: (3, [3])}
    tags = {254: (4, [0]), 256: (4, [w]), 257: (4, [h]), 259: (3, [compression]), **layout,
            271: (2, "Hourglass"), 272: (2, "Test"), 273: (4, [0]), 274: (3, [orientation]),
            278: (4, [h]), 279: (4, [len(pixels)]), 284: (3, [1]), 50706: (1, [1, 4, 0, 0]),
            50708: (2, "Hourglass Test"), 50717: (4, [65535]), 50728: (5, one * 3), 50778: (3, [21]),
            50721: (10, [(1, 1), (0, 1), (0, 1), (0, 1), (1, 1), (0, 1), (0, 1), (0, 1), (1, 1)])}
    if mono:  # one colour plane: one neutral value, no colour matrix
        tags[50728] = (5, one)
        del tags[50721]
    if xmp:
        tags[700] = (1, list(xmp))
    codes = {1: "B", 2: "s", 3: "H", 4: "I", 5: "II", 10: "ii"}
    blobs = {}
    for tag, (typ, vals) in tags.items():
        if typ == 2:
            blobs[tag] = (len(vals) + 1, vals.encode() + b"\0")
        else:
            flat = [v for pair in vals for v in pair] if typ in (5, 10) else vals
            blobs[tag] = (len(vals), struct.pack(f"<{len(flat) // len(codes[typ]) * codes[typ]}", *flat))
    extra_at = 8 + 2 + 12 * len(tags) + 4
    extra, entries = b"", b""
    pixels_at = extra_at + sum(len(b) + len(b) % 2 for _, b in blobs.values() if len(b) > 4)
    blobs[273] = (1, struct.pack("<I", pixels_at))
    for tag in sorted(tags):
        count, blob = blobs[tag]
        if len(blob) > 4:
            value = struct.pack("<I", extra_at + len(extra))
            extra += blob + b"\0" * (len(blob) % 2)
        else:
            value = blob.ljust(4, b"\0")
        entries += struct.pack("<HHI", tag, tags[tag][0], count) + value
    ifd = struct.pack("<H", len(tags)) + entries + b"\0\0\0\0"
    path.write_bytes(b"II*\0" + struct.pack("<I", 8) + ifd + extra + pixels)


def add_raw_preview(path: Path, jpeg: bytes) -> None:
    """Append an embedded JPEG preview to a fake DNG, as cameras store it: a second directory (IFD1)
    pointing at the JPEG (JPEGInterchangeFormat/Length), which LibRaw finds as the thumbnail."""
    data = bytearray(path.read_bytes())
    (ifd0,) = struct.unpack_from("<I", data, 4)
    (count,) = struct.unpack_from("<H", data, ifd0)
    jpeg_at = len(data)
    data += jpeg + b"\0" * (len(jpeg) % 2)
    entries = [(254, 4, 1, 1), (259, 3, 1, 6), (513, 4, 1, jpeg_at), (514, 4, 1, len(jpeg))]
    struct.pack_into("<I", data, ifd0 + 2 + 12 * count, len(data))
    data += struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + bytes(4)
    path.write_bytes(bytes(data))


def put_behind_a_thumbnail(path: Path) -> None:
    """Make a fake DNG's raw directory a SubIFD of a new first directory holding a 4×4 RGB thumbnail, as
    real DNGs are laid out (the raw image in a SubIFD, a preview in IFD0)."""
    data = bytearray(path.read_bytes())
    (raw_ifd,) = struct.unpack_from("<I", data, 4)
    pixels_at = len(data)
    data += bytes(range(48))
    bits_at = len(data)
    data += struct.pack("<3H", 8, 8, 8)
    entries = [(254, 4, 1, 1), (256, 4, 1, 4), (257, 4, 1, 4), (258, 3, 3, bits_at), (259, 3, 1, 1),
               (262, 3, 1, 2), (273, 4, 1, pixels_at), (277, 3, 1, 3), (278, 4, 1, 4), (279, 4, 1, 48),
               (330, 4, 1, raw_ifd)]
    struct.pack_into("<I", data, 4, len(data))
    data += struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + bytes(4)
    path.write_bytes(bytes(data))


def test_a_jpeg_xl_dng_is_named_for_what_it_is(tmp_path):
    """DNG 1.7 allows JPEG XL compression (recent iPhones' ProRAW, Adobe's DNG Converter), and the LibRaw
    in rawpy's wheels has no JPEG XL decoder: such a photo was said to be damaged or from a camera too new.
    Now the message names the compression and the way out; other failures keep their messages."""
    rgb = np.full((32, 48, 3), 9000, np.uint16)
    for name, compression in (("plain.dng", 1), ("proraw.dng", 52546)):
        fake_linear_dng(tmp_path / name, rgb, compression=compression)
        put_behind_a_thumbnail(tmp_path / name)
    assert read_image(tmp_path / "plain.dng").rgb.shape == (32, 48, 3)  # (the layout itself decodes)
    message = _err(UnsupportedInputError, tmp_path / "proraw.dng")
    assert "JPEG XL" in message and "16-bit TIFF" in message and "damaged" not in message
    with pytest.raises(UnsupportedInputError, match="JPEG XL"):
        imaging.read_small(tmp_path / "proraw.dng", 16)  # (the detector's read says the same)
    (tmp_path / "cut.dng").write_bytes((tmp_path / "plain.dng").read_bytes()[:300])
    assert "JPEG XL" not in str(pytest.raises(HourglassError, read_image, tmp_path / "cut.dng").value)


@pytest.mark.parametrize("orientation", [1, 6])
def test_raw_decoding(tmp_path, orientation):
    h, w = 32, 48
    rgb = np.zeros((h, w, 3), np.uint16)
    rgb[..., 0] = np.linspace(0, 60000, w, dtype=np.uint16)[None]
    rgb[..., 2] = np.linspace(0, 60000, h, dtype=np.uint16)[:, None]
    rgb[..., 1] = 20000
    fake_linear_dng(tmp_path / "shot.dng", rgb, orientation)
    img = read_image(tmp_path / "shot.dng")
    assert img.format == "RAW" and img.bit_depth == 16 and img.alpha is None
    exif = Image.Exif()
    exif.load(img.exif)  # DNG is TIFF-based: its camera EXIF comes along, orientation reset
    assert (exif[0x010F], exif[0x0110], exif.get(0x0112, 1)) == ("Hourglass", "Test", 1)
    assert 50706 not in exif and 256 not in exif  # no DNG or layout tags leak into other files
    assert output_format_for(img) == ("TIFF", 16)
    upright = np.rot90(img.rgb, 1) if orientation == 6 else img.rgb  # undo LibRaw's rotation
    assert upright.shape == (h, w, 3)
    assert upright[:, -1, 0].mean() > upright[:, 0, 0].mean() + 0.5  # red grows to the right
    assert upright[-1, :, 2].mean() > upright[0, :, 2].mean() + 0.5  # blue grows downwards
    out = write_image(tmp_path / "shot.tif", img.rgb, img)
    assert cv2.imread(str(out), cv2.IMREAD_UNCHANGED).dtype == np.uint16


XMP_DEVELOPED = b"""<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?>
<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>
 <rdf:Description rdf:about='' xmlns:xmp='http://ns.adobe.com/xap/1.0/' xmlns:tiff='http://ns.adobe.com/tiff/1.0/'
  xmlns:crs='http://ns.adobe.com/camera-raw-settings/1.0/' xmp:Rating='4' crs:Exposure2012='+0.50'
  tiff:ImageWidth='6048' tiff:Orientation='6'>
  <dc:subject xmlns:dc='http://purl.org/dc/elements/1.1/'><rdf:Bag><rdf:li>fjord</rdf:li></rdf:Bag></dc:subject>
  <crs:ToneCurvePV2012><rdf:Seq><rdf:li>0, 0</rdf:li></rdf:Seq></crs:ToneCurvePV2012>
 </rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end='w'?>"""


@pytest.mark.parametrize("where", ["inside", "IMG_1.xmp", "IMG_1.dng.xmp"])
def test_a_raw_photos_xmp_is_kept_without_its_develop_settings(tmp_path, where):
    """Rating and keywords (in a DNG as Lightroom writes them, or in a sidecar as Lightroom, Bridge or
    darktable keep them beside a RAW) come through to the TIFF result. The develop settings do not (in a
    developed TIFF an editor would apply them again), nor the RAW's size, and the orientation is reset."""
    rgb = np.full((32, 48, 3), 20000, np.uint16)
    fake_linear_dng(tmp_path / "IMG_1.dng", rgb, xmp=XMP_DEVELOPED + b"\0" if where == "inside" else None)
    if where != "inside":
        (tmp_path / where).write_bytes(XMP_DEVELOPED)
    img = read_image(tmp_path / "IMG_1.dng")
    xmp = read_image(write_image(tmp_path / "IMG_1.tif", img.rgb, img)).xmp
    assert b'xmp:Rating="4"' in xmp and b"<rdf:li>fjord</rdf:li>" in xmp and b'tiff:Orientation="1"' in xmp
    assert b"crs:" not in xmp and b"camera-raw-settings" not in xmp and b"ImageWidth" not in xmp
    assert xmp.startswith(b"<?xpacket begin=") and xmp.rstrip().endswith(b"<?xpacket end=\"w\"?>")


def test_a_monochrome_cameras_raw_comes_back_black_and_white(tmp_path):
    """LibRaw develops a monochrome sensor (Leica's Monochrom) into one channel: it failed as an internal
    error ("expected an H×W×3 RGB array"). Now it is a black-and-white photo, saved as a 16-bit gray TIFF."""
    rgb16 = np.zeros((32, 48, 3), np.uint16)
    rgb16[..., 1] = np.linspace(0, 60000, 48, dtype=np.uint16)[None]
    fake_linear_dng(tmp_path / "mono.dng", rgb16, mono=True)
    img = read_image(tmp_path / "mono.dng")
    assert img.grayscale and img.rgb.shape == (32, 48, 3) and img.bit_depth == 16 and img.icc_profile is None
    assert (img.rgb[..., 0] == img.rgb[..., 2]).all() and img.rgb[0, -1, 0] > 0.9
    with Image.open(write_image(tmp_path / "mono.tif", img.rgb, img)) as im:
        assert im.mode == "I;16"
    fake_linear_dng(tmp_path / "colour.dng", rgb16)
    assert not read_image(tmp_path / "colour.dng").grayscale


def test_a_raw_photo_without_xmp_or_with_a_broken_sidecar_has_none(tmp_path):
    rgb = np.full((32, 48, 3), 20000, np.uint16)
    fake_linear_dng(tmp_path / "IMG_2.dng", rgb)
    assert read_image(tmp_path / "IMG_2.dng").xmp is None
    (tmp_path / "IMG_2.xmp").write_bytes(b"<x:xmpmeta not closed")
    assert read_image(tmp_path / "IMG_2.dng").xmp is None
    from engine.imaging.xmp_sidecar import without_develop_settings

    plain = XMP_DEVELOPED.replace(b"crs:", b"xmp:").replace(b"tiff:ImageWidth='6048' ", b"")
    assert without_develop_settings(plain) == plain  # nothing to take out: kept byte for byte


DARKTABLE_SIDECAR = b"""<?xml version="1.0" encoding="UTF-8"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
 <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:darktable="http://darktable.sf.net/" xmlns:tiff="http://ns.adobe.com/tiff/1.0/"
  xmp:Rating="5" darktable:xmp_version="5" tiff:Orientation="6">
  <dc:subject><rdf:Bag><rdf:li>fjord</rdf:li><rdf:li>Norway</rdf:li></rdf:Bag></dc:subject>
  <darktable:history><rdf:Seq><rdf:li darktable:operation="exposure"/></rdf:Seq></darktable:history>
 </rdf:Description></rdf:RDF></x:xmpmeta>"""


def test_a_photos_sidecar_xmp_is_merged_into_its_own(tmp_path):
    """darktable and digiKam keep a JPEG's rating and tags in `photo.jpg.xmp` beside it instead of changing
    the file. They come through to the result, the sidecar's values winning over the file's older ones;
    the edit history does not (an editor would apply it again), and the orientation is the result's."""
    embedded = XMP.replace(b'dc:format="image/test"/>', b'dc:format="image/test" xmp:Rating="2" '
                           b'xmlns:xmp="http://ns.adobe.com/xap/1.0/"/>')
    src = source_with_meta(smooth_u8() / 255.0, xmp=embedded)
    photo = write_image(tmp_path / "photo.jpg", src.rgb, src)
    (tmp_path / "photo.jpg.xmp").write_bytes(DARKTABLE_SIDECAR)
    img = read_image(photo)
    values = _xmp_values(read_image(write_image(tmp_path / "out.png", img.rgb, img)).xmp)
    assert values["dc:subject"] == ["fjord", "Norway"] and values["dc:format"] == ["image/test"]
    assert values["http://ns.adobe.com/xap/1.0/:Rating"] == ["5"]
    assert values["http://ns.adobe.com/tiff/1.0/:Orientation"] == ["1"]
    assert not any("darktable" in name for name in values)

    (tmp_path / "photo.jpg.xmp").unlink()
    (tmp_path / "photo.xmp").write_bytes(DARKTABLE_SIDECAR)  # Lightroom's name: the RAW photo.CR2's, not ours
    assert read_image(photo).xmp == embedded
    (tmp_path / "photo.jpg.xmp").write_bytes(b"<x:xmpmeta not closed")
    assert read_image(photo).xmp == embedded  # a broken sidecar: the photo's own, byte for byte
    bare = write_image(tmp_path / "bare.jpg", src.rgb, replace(src, xmp=None))
    (tmp_path / "bare.jpg.xmp").write_bytes(DARKTABLE_SIDECAR)
    values = _xmp_values(read_image(bare).xmp)
    assert values["dc:subject"] == ["fjord", "Norway"] and "darktable:history" not in str(values)


@pytest.mark.parametrize("orientation", [1, 6])
def test_read_small_develops_a_bayer_raw_at_half_size(tmp_path, orientation):
    """For detection: a sensor's RAW developed in LibRaw's half-size mode (no demosaicing; about a fifth of
    the time for 24 MP), upright, with the colours of the full development; one too small to halve is not."""
    h, w = 64, 96
    rgb = np.zeros((h, w, 3), np.uint16)
    rgb[..., 0] = np.linspace(0, 60000, w, dtype=np.uint16)[None]
    rgb[..., 2] = np.linspace(0, 60000, h, dtype=np.uint16)[:, None]
    rgb[..., 1] = 20000
    path = tmp_path / "sensor.dng"
    fake_linear_dng(path, rgb, orientation, bayer=True)
    full = read_image(path).rgb
    small = imaging.read_small(path, 20)
    assert small.shape == (full.shape[0] // 2, full.shape[1] // 2, 3)
    shrunk = cv2.resize(full, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_AREA)
    assert np.abs(shrunk - small).mean() < 0.02
    upright = np.rot90(small, 1) if orientation == 6 else small
    assert upright[:, -1, 0].mean() > upright[:, 0, 0].mean() + 0.5  # red still grows to the right
    assert imaging.read_small(path, 40, decoded=full) is full  # 32 < 40 px a side at half size: no second develop


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def test_raw_exif_of_orf_rw2_cr3_and_raf_containers(tmp_path):
    """Capture time, exposure and GPS must survive every camera's RAW, not only the TIFF-based ones: ORF
    and RW2 are TIFF behind their own magic number, CR3 keeps TIFF blocks in CMT boxes, RAF keeps the
    camera's EXIF in its embedded JPEG preview (containers built from the formats' published layouts)."""
    camera = make_exif(6)
    camera.endian = "<"  # both are little-endian TIFF structures (IFD0, Exif and GPS directories)
    tiff = camera.tobytes()[6:]
    (tmp_path / "P1.ORF").write_bytes(b"IIRO" + tiff[4:] + bytes(64))
    (tmp_path / "P1.RW2").write_bytes(b"IIU\0" + tiff[4:] + bytes(64))

    ifd0, exif_ifd, gps = Image.Exif(), Image.Exif(), Image.Exif()
    for tag in (0x010F, 0x0110, 0x0132, 0x0112):
        ifd0[tag] = camera[tag]
    for target, tag in ((exif_ifd, 0x8769), (gps, 0x8825)):
        for key, value in camera.get_ifd(tag).items():
            target[key] = value
    canon = _box(b"uuid", bytes.fromhex("85c0b687820f11e08111f4ce462b6a48") + _box(b"CMT1", ifd0.tobytes()[6:])
                 + _box(b"CMT2", exif_ifd.tobytes()[6:]) + _box(b"CMT4", gps.tobytes()[6:]))
    (tmp_path / "IMG_1.CR3").write_bytes(_box(b"ftyp", b"crx \0\0\0\1crx isom") + _box(b"moov", canon)
                                         + _box(b"mdat", bytes(256)))

    preview = io.BytesIO()
    Image.fromarray(smooth_u8()).save(preview, "JPEG", exif=make_exif(6).tobytes())
    header = b"FUJIFILMCCD-RAW 0201FF383501".ljust(84, b"\0")
    header += struct.pack(">II", 100, len(preview.getvalue()))
    (tmp_path / "DSCF1.RAF").write_bytes(header.ljust(100, b"\0") + preview.getvalue() + bytes(64))

    for name in ("P1.ORF", "P1.RW2", "IMG_1.CR3", "DSCF1.RAF"):
        exif_bytes = raw._raw_metadata(tmp_path / name)[0]
        assert_camera_exif(exif_bytes)  # Make, Model, dates, exposure; orientation reset to 1
    cr3 = Image.Exif()
    cr3.load(raw._raw_metadata(tmp_path / "IMG_1.CR3")[0])
    assert cr3.get_ifd(0x8825)[2] == (48.0, 51.0, 30.0)
    (tmp_path / "junk.RAF").write_bytes(b"FUJIFILMCCD-RAW " + bytes(200))
    assert raw._raw_metadata(tmp_path / "junk.RAF")[0] is None


@pytest.mark.parametrize("ext", [".dng", ".cr2", ".nef"])
def test_garbage_raw_has_a_clear_error(tmp_path, ext):
    (tmp_path / f"IMG_0001{ext}").write_bytes(np.random.default_rng(1).bytes(4096))
    with pytest.raises((UnsupportedInputError, InputUnreadableError)) as info:
        read_image(tmp_path / f"IMG_0001{ext}")
    assert f"IMG_0001{ext}" in str(info.value) and "RAW" in str(info.value)


# ----------------------------------------------------------------------------------------------- writing

def test_output_format_rules():
    def src(fmt, bits):
        return ImageData(np.zeros((1, 1, 3)), None, bits, fmt, None, None, None, None, None)

    assert output_format_for(src("RAW", 16)) == ("TIFF", 16)
    assert output_format_for(src("HEIF", 8)) == ("JPEG", 8)
    assert output_format_for(src("PNG", 16)) == ("PNG", 16)
    assert output_format_for(src("JPEG", 8)) == ("JPEG", 8)
    assert output_format_for(src("TIFF", 16), "jpg") == ("JPEG", 8)
    assert output_format_for(src("JPEG", 8), ".TIF") == ("TIFF", 8)
    assert imaging.extension_for("jpeg") == ".jpg"
    with pytest.raises(OutputNotWritableError):
        output_format_for(src("PNG", 8), "gif")


def test_format_argument_and_bit_depth(tmp_path):
    pixels = rand_u16()
    out = write_image(tmp_path / "x.out", pixels / 65535.0, format="TIFF", bit_depth=16)
    assert (to_uint16(read_image(out).rgb) == pixels).all()
    out = write_image(tmp_path / "y.png", pixels / 65535.0, source_with_meta(pixels, bit_depth=16), bit_depth=8)
    assert read_image(out).bit_depth == 8
    out = write_image(tmp_path / "z.jpg", pixels / 65535.0, bit_depth=16)  # JPEG is always 8-bit
    assert read_image(out).format == "JPEG"
    with pytest.raises(OutputNotWritableError, match="gif"):
        write_image(tmp_path / "x.gif", pixels / 65535.0)
    with pytest.raises(ValueError):
        write_image(tmp_path / "bad.png", np.zeros((4, 4)))
    with pytest.raises(ValueError):
        write_image(tmp_path / "bad.png", np.zeros((4, 4, 3)), bit_depth=12)


def test_jpeg_quality_is_used(tmp_path):
    noisy = rand_u8(64, 64) / 255.0
    small = write_image(tmp_path / "q50.jpg", noisy, quality=50).stat().st_size
    assert write_image(tmp_path / "q95.jpg", noisy, quality=95).stat().st_size > small * 1.3


def test_never_overwrites_without_permission(tmp_path):
    target = tmp_path / "out.png"
    target.write_bytes(b"precious")
    with pytest.raises(OutputExistsError, match="out.png"):
        write_image(target, rand_u8() / 255.0)
    assert target.read_bytes() == b"precious"
    write_image(target, rand_u8() / 255.0, overwrite=True)
    assert (to_uint8(read_image(target).rgb) == rand_u8()).all()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


def test_file_appearing_during_the_write_is_not_replaced(tmp_path, monkeypatch):
    target = tmp_path / "out.png"
    real_publish = writing._publish

    def racing_publish(tmp, path, overwrite):
        path.write_bytes(b"someone else")
        return real_publish(tmp, path, overwrite)

    monkeypatch.setattr(writing, "_publish", racing_publish)
    with pytest.raises(OutputExistsError):
        write_image(target, rand_u8() / 255.0)
    assert target.read_bytes() == b"someone else"
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_never_writes_over_the_source(tmp_path, monkeypatch):
    src_path = write_image(tmp_path / "original.png", rand_u8() / 255.0)
    before = src_path.read_bytes()
    img = read_image(src_path)
    for same in (src_path, tmp_path / "." / "original.png"):
        with pytest.raises(OutputExistsError, match="original"):
            write_image(same, img.rgb * 0.5, img, overwrite=True)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputExistsError):
        write_image("original.png", img.rgb, img, overwrite=True)
    if hasattr(os, "symlink"):
        (tmp_path / "alias.png").symlink_to(src_path)
        with pytest.raises(OutputExistsError):
            write_image(tmp_path / "alias.png", img.rgb, img, overwrite=True)
    assert src_path.read_bytes() == before


def test_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writing.os, "fsync", full_disk)
    with pytest.raises(OutputNotWritableError, match="disk space"):
        write_image(tmp_path / "out.jpg", rand_u8() / 255.0)
    assert list(tmp_path.iterdir()) == []


def test_failed_rename_leaves_nothing_behind(tmp_path, monkeypatch):
    def broken(*args):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(writing.os, "link", broken)
    monkeypatch.setattr(writing.os, "replace", broken)
    with pytest.raises(OutputNotWritableError, match="not allowed"):
        write_image(tmp_path / "out.png", rand_u8() / 255.0)
    assert list(tmp_path.iterdir()) == []


def test_creates_missing_folders(tmp_path):
    out = write_image(tmp_path / "a" / "b" / "out.png", rand_u8() / 255.0)
    assert out.is_file() and sorted(p.name for p in out.parent.iterdir()) == ["out.png"]


def test_unwritable_folder(tmp_path):
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(OutputNotWritableError, match="file"):
        write_image(tmp_path / "file" / "out.png", rand_u8() / 255.0)


def test_output_folder_is_checked_before_any_work(tmp_path, monkeypatch):
    from engine.imaging import check_output_folder

    check_output_folder(tmp_path / "new" / "deeper")  # not there yet: its nearest existing parent is writable
    assert not (tmp_path / "new").exists()  # checking creates nothing
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(OutputNotWritableError, match="is a file"):
        check_output_folder(tmp_path / "file" / "restored")
    monkeypatch.setattr(os, "access", lambda *a, **k: False)
    with pytest.raises(OutputNotWritableError, match="not writable for you"):
        check_output_folder(tmp_path / "restored")

    class ReadOnly:
        f_flag = os.ST_RDONLY

    monkeypatch.setattr(os, "statvfs", lambda path: ReadOnly())
    with pytest.raises(OutputNotWritableError, match="read-only disk. Choose another output folder"):
        check_output_folder(tmp_path / "restored")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs POSIX permissions, not root")
def test_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(OutputNotWritableError):
            write_image(folder / "out.png", rand_u8() / 255.0)
    finally:
        folder.chmod(0o700)


def test_written_file_has_normal_permissions(tmp_path):
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    umask = os.umask(0o022)
    os.umask(umask)
    out = write_image(tmp_path / "out.png", rand_u8() / 255.0)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_alpha_argument_and_resize(tmp_path):
    rgb = rand_u8() / 255.0
    alpha = np.linspace(0, 1, 24 * 36, dtype=np.float32).reshape(24, 36)
    back = read_image(write_image(tmp_path / "a.png", rgb, alpha=alpha))
    assert (to_uint8(back.alpha) == to_uint8(alpha)).all()
    src = ImageData(rgb, alpha[::2, ::2], 8, "PNG", None, None, None, None, None)
    assert read_image(write_image(tmp_path / "b.png", rgb, src)).alpha.shape == (24, 36)


def test_written_bytes_are_valid_for_other_readers(tmp_path):
    """OpenCV-encoded files with our added metadata must stay valid PNG/TIFF for libpng/libtiff."""
    src = source_with_meta(rand_u8() / 255.0)
    for ext in (".png", ".tif"):
        out = write_image(tmp_path / f"x{ext}", src.rgb, src)
        assert (cv2.imread(str(out))[..., ::-1] == to_uint8(src.rgb)).all()
        with Image.open(io.BytesIO(out.read_bytes())) as im:
            im.load()
            assert (np.asarray(im.convert("RGB")) == to_uint8(src.rgb)).all()


def _float_tiff(path: Path, rgb: np.ndarray, orientation: int = 1) -> None:
    """A 32-bit float TIFF, as HDR merges and RAW developers export, with EXIF, ICC, XMP and IPTC."""
    from engine.imaging.metadata import _retag_tiff

    ok, buf = cv2.imencode(".tif", np.ascontiguousarray(rgb[..., ::-1].astype(np.float32)))
    assert ok
    exif = Image.Exif()
    exif[0x0110], exif[0x0112] = "Float Camera", orientation
    meta = ImageData(rgb, None, 16, "TIFF", exif.tobytes(), ICC, None, XMP, None, iptc=IPTC)
    path.write_bytes(b"".join(bytes(p) for p in _retag_tiff(memoryview(buf).cast("B"), meta, False)))


def test_a_32_bit_float_tiff_is_read_with_its_metadata(tmp_path):
    """Pillow cannot open a float RGB TIFF: it was called damaged. OpenCV decodes it (values above 1 clipped),
    its metadata comes from the file's own directory, and the result is written as a 16-bit TIFF."""
    rgb = np.random.default_rng(3).random((30, 40, 3)).astype(np.float32) * 1.2
    _float_tiff(tmp_path / "hdr.tif", rgb, orientation=6)
    with pytest.raises(Exception):  # noqa: B017 - whatever Pillow raises: the reason for the other path
        Image.open(tmp_path / "hdr.tif")
    img = read_image(tmp_path / "hdr.tif")
    assert img.format == "TIFF" and img.bit_depth == 16 and not img.grayscale
    assert img.rgb.shape == (40, 30, 3)  # turned upright (orientation 6)
    assert np.allclose(img.rgb, np.clip(np.rot90(rgb, -1), 0, 1), atol=1e-6)
    assert img.icc_profile == ICC and img.xmp == XMP and img.iptc == IPTC
    exif = Image.Exif()
    exif.load(img.exif)
    assert exif[0x0110] == "Float Camera" and exif[0x0112] == 1
    out = write_image(tmp_path / "out.tif", img.rgb, img)
    assert cv2.imread(str(out), cv2.IMREAD_UNCHANGED).dtype == np.uint16
    assert imaging.read_small(tmp_path / "hdr.tif", 8).shape == (14, 10, 3)  # shrunk by 3, upright


def test_a_float_tiff_too_large_is_refused_before_it_is_decoded(tmp_path, monkeypatch):
    _float_tiff(tmp_path / "hdr.tif", np.zeros((40, 50, 3), np.float32))
    monkeypatch.setattr(data, "MAX_PIXELS", 1000)
    assert "megapixels" in _err(ImageTooLargeError, tmp_path / "hdr.tif")


def test_a_tiff_neither_decoder_reads_says_how_to_save_it(tmp_path):
    cv2.imwrite(str(tmp_path / "counts.tif"), np.full((20, 30, 3), 7, np.int32))  # 32-bit integer RGB
    assert "save it as an 8- or 16-bit TIFF" in _err(InputUnreadableError, tmp_path / "counts.tif")


def _plain_tiff(path: Path, samples: np.ndarray, photometric: int, *, alpha: bool = False,
                big: bool = False) -> None:
    """An uncompressed little-endian TIFF (or BigTIFF) of H×W×C uint16 or float32 samples, written by hand:
    Pillow cannot write 16-bit CMYK, 16-bit gray with alpha or float RGB. `alpha`: the last sample is
    unassociated alpha."""
    h, w, c = samples.shape
    data = samples.astype(samples.dtype.newbyteorder("<")).tobytes()
    bits, fmt = (32, 3) if samples.dtype == np.float32 else (16, 1)
    entries = [(256, 3, 1, w), (257, 3, 1, h), (258, 3, c, "bits"), (259, 3, 1, 1), (262, 3, 1, photometric),
               (273, 4, 1, "data"), (277, 3, 1, c), (278, 3, 1, h), (279, 4, 1, len(data)), (284, 3, 1, 1),
               *([(338, 3, 1, 2)] if alpha else []), (339, 3, c, "formats")]
    head, entry, count, offset = (16, 20, "<Q", "<Q") if big else (8, 12, "<H", "<I")
    ifd_end = head + struct.calcsize(count) + entry * len(entries) + struct.calcsize(offset)
    at = {"bits": ifd_end, "formats": ifd_end + 2 * c, "data": ifd_end + 4 * c}
    out = bytearray(b"II+\0" + struct.pack("<HHQ", 8, 0, 16) if big else b"II*\0" + struct.pack("<I", 8))
    out += struct.pack(count, len(entries))
    shorts = {"bits": [bits] * c, "formats": [fmt] * c}
    for tag, kind, n, value in entries:
        out += struct.pack("<HH", tag, kind) + struct.pack(offset, n)
        if value in shorts and 2 * n <= (8 if big else 4):  # values this short live in the entry itself
            out += struct.pack("<" + "H" * n, *shorts[value]).ljust(8 if big else 4, b"\0")
        elif isinstance(value, str):
            out += struct.pack(offset, at[value])
        else:
            out += struct.pack(offset, value) if kind == 4 or big else struct.pack("<HH", value, 0)
    out += struct.pack(offset, 0) + struct.pack("<" + "H" * c, *[bits] * c) + struct.pack("<" + "H" * c, *[fmt] * c)
    path.write_bytes(bytes(out + data))


def test_a_16_bit_cmyk_tiff_is_read_quietly(tmp_path, capfd):
    """OpenCV cannot decode it and printed an error on stderr (between the CLI's progress lines) before
    Pillow read it, as 8-bit CMYK converted to RGB."""
    cmyk = np.zeros((6, 8, 4), np.uint16)
    cmyk[..., 0] = 65535  # full cyan, nothing else
    _plain_tiff(tmp_path / "print.tif", cmyk, photometric=5)
    img = read_image(tmp_path / "print.tif")
    assert np.allclose(img.rgb[0, 0], [0, 1, 1], atol=0.01)
    assert capfd.readouterr().err == ""


def test_a_float_bigtiff_is_read_too(tmp_path):
    rgb = np.random.default_rng(4).random((6, 8, 3)).astype(np.float32)
    _plain_tiff(tmp_path / "merged.tif", rgb, photometric=2, big=True)
    assert np.allclose(read_image(tmp_path / "merged.tif").rgb, rgb, atol=1e-6)


def test_transparency_opencv_would_drop_is_refused_not_lost(tmp_path):
    """16-bit gray with alpha: Pillow cannot open it and OpenCV decodes it without its alpha (and at 8 bits);
    restoring it so would fill the transparent area with whatever lies under it."""
    ga = np.random.default_rng(5).integers(0, 65535, (6, 8, 2)).astype(np.uint16)
    _plain_tiff(tmp_path / "cutout.tif", ga, photometric=1, alpha=True)
    assert "transparency" in _err(UnsupportedInputError, tmp_path / "cutout.tif")


def test_a_gray_float_tiff_stays_gray_and_a_colour_one_with_equal_channels_stays_colour(tmp_path):
    y = np.random.default_rng(6).random((6, 8, 1)).astype(np.float32)
    _plain_tiff(tmp_path / "gray.tif", y, photometric=1)
    _plain_tiff(tmp_path / "rgb.tif", np.dstack([y, y, y]), photometric=2)
    gray, rgb = read_image(tmp_path / "gray.tif"), read_image(tmp_path / "rgb.tif")
    assert gray.grayscale and not rgb.grayscale
    assert np.allclose(gray.rgb, rgb.rgb) and np.allclose(gray.rgb[..., 0], y[..., 0])
