"""A photo's metadata, read from the decoded file and written into the encoded result: EXIF (orientation
reset to 1 once applied), ICC, DPI, XMP, IPTC and PNG text. Pillow writes JPEG/WebP metadata itself; for
the PNG and TIFF that OpenCV encodes we add chunks or rewrite the TIFF directory ourselves."""

from __future__ import annotations

import io
import logging
import re
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import numpy as np
from PIL import Image, TiffImagePlugin, TiffTags

from engine.cicp import exif_means_adobe_rgb
from engine.icc_profiles import adobe_rgb_profile, png_gamma_profile
from engine.imaging.data import _ORIENTATION, ImageData

log = logging.getLogger(__name__)

# TIFF tags that describe a file's layout (or carry ICC/XMP/IPTC we handle separately): never copied as EXIF.
_LAYOUT_TAGS = frozenset({254, 255, 256, 257, 258, 259, 262, 263, 266, 273, 277, 278, 279, 280, 281, 284,
                          317, 320, 322, 323, 324, 325, 330, 338, 339, 340, 341, 347, 513, 514, 530, 531,
                          532, 700, 33723, 34377, 34675})
# Descriptive IFD0 tags of the EXIF standard, plus the Exif and GPS sub-directories.
_TIFF_EXIF_TAGS = frozenset({270, 271, 272, 274, 282, 283, 296, 305, 306, 315, 33432, 0x8769, 0x8825})

_JPEG_SEGMENT = 65533  # the most one JPEG marker segment holds, less its length field


# The text tags of the Exif sub-directory (EXIF 2.32). Pillow knows no type for them there, so text given
# as bytes (below) would be written as numbers (exiftool: "LensModel: 49 56 45 ..."): registered as ASCII.
_EXIF_IFD_TEXT = {0x8824: "SpectralSensitivity", 0x9003: "DateTimeOriginal", 0x9004: "DateTimeDigitized",
                  0x9010: "OffsetTime", 0x9011: "OffsetTimeOriginal", 0x9012: "OffsetTimeDigitized",
                  0x9290: "SubsecTime", 0x9291: "SubsecTimeOriginal", 0x9292: "SubsecTimeDigitized",
                  0xA004: "RelatedSoundFile", 0xA420: "ImageUniqueID", 0xA430: "CameraOwnerName",
                  0xA431: "BodySerialNumber", 0xA433: "LensMake", 0xA434: "LensModel", 0xA435: "LensSerialNumber"}
for _tag, _name in _EXIF_IFD_TEXT.items():
    TiffTags.TAGS_V2_GROUPS.setdefault(0x8769, {}).setdefault(_tag, TiffTags.TagInfo(_tag, _name, TiffTags.ASCII, 0))


def _text_as_bytes(values) -> None:
    """Give text tags beyond ASCII their bytes back, in place (in the Exif and GPS sub-directories too).
    Pillow reads an ASCII tag's bytes as Latin-1 and writes "?" for every character beyond ASCII, so a
    UTF-8 "Zoë" or "©" (as Lightroom, exiftool and cameras' owner settings write them) became "Zo??" and
    "??" in every result."""
    for tag in list(values):
        value = values[tag]
        if isinstance(value, str) and not value.isascii():
            values[tag] = value.encode("latin-1", "replace")
        elif tag in _EXIF_IFD_TEXT and not isinstance(value, (str, bytes, int)):
            del values[tag]  # a damaged one (several values) that the ASCII type could not write
    if isinstance(values, Image.Exif):  # (a sub-directory is a dict: no deeper)
        for tag in (0x8769, 0x8825):
            if tag in values:
                _text_as_bytes(values.get_ifd(tag))  # Pillow writes the cached sub-directory


# what Pillow raises writing a tag whose value does not fit the type it knows for it
_UNWRITABLE = (AttributeError, TypeError, ValueError, OverflowError, struct.error)


def _exif_bytes(exif: Image.Exif) -> bytes:
    """`exif.tobytes()` without losing text beyond ASCII (see `_text_as_bytes`), and without the tags a
    damaged file stored with another type than theirs (an ImageDescription of numbers), which Pillow cannot
    write back: the rest of the EXIF is kept."""
    _text_as_bytes(exif)
    try:
        return exif.tobytes()
    except _UNWRITABLE as e:
        log.info("EXIF tags that cannot be written are left out: %s", e)
    for ifd_tag in (0x8769, 0x8825):  # the Exif and GPS directories' own tags, then the first directory's
        if ifd_tag in exif:
            sub = exif.get_ifd(ifd_tag)
            for tag in [t for t in sub if not _writable({ifd_tag: {t: sub[t]}})]:
                del sub[tag]
    for tag in [t for t in exif if t not in (0x8769, 0x8825) and not _writable({t: exif[t]})]:
        del exif[tag]
    return exif.tobytes()


def _writable(tags: dict) -> bool:
    probe = Image.Exif()
    try:
        for tag, value in tags.items():
            probe[tag] = value
        probe.tobytes()
    except _UNWRITABLE:
        return False
    return True


def _tiff_ifd0(read) -> tuple[str, list[tuple[int, int, int, int]]] | None:
    """A classic TIFF's byte order and first directory, as (tag, type, count, offset of the 12-byte entry);
    `read(offset, size)` gives the file's bytes. None for anything else (BigTIFF, damaged)."""
    return next(_tiff_directories(read, limit=1), None)


_SUB_IFDS = 330


def _tiff_directories(read, limit: int = 64) -> Iterator[tuple[str, list[tuple[int, int, int, int]]]]:
    """Each directory of a classic TIFF as `_tiff_ifd0` gives the first: IFD0, those chained after it and
    their SubIFDs (where a DNG keeps its raw image), at most `limit`, each once; it stops at damage."""
    try:
        head = read(0, 8)
        e = {b"II": "<", b"MM": ">"}.get(head[:2])
        if e is None or struct.unpack_from(e + "H", head, 2)[0] != 42:
            return
        todo, seen = [struct.unpack_from(e + "I", head, 4)[0]], set()
        while todo and len(seen) < limit:
            ifd = todo.pop(0)
            if ifd == 0 or ifd in seen:
                continue
            seen.add(ifd)
            (count,) = struct.unpack(e + "H", read(ifd, 2))
            raw = read(ifd + 2, 12 * count + 4)
            entries = [(*struct.unpack_from(e + "HHI", raw, 12 * i), ifd + 2 + 12 * i) for i in range(count)]
            yield e, entries
            for tag, kind, n, at in entries:
                if tag == _SUB_IFDS and kind in (4, 13) and 0 < n <= limit:
                    where = read(at + 8, 4) if n == 1 else read(struct.unpack(e + "I", read(at + 8, 4))[0], 4 * n)
                    todo += struct.unpack(e + "I" * n, where)
            todo.append(struct.unpack_from(e + "I", raw, 12 * count)[0])
    except struct.error:
        return


def _read_exif(img: Image.Image) -> tuple[bytes | None, int]:
    """EXIF bytes with Orientation reset to 1, and the orientation to apply to the pixels."""
    try:
        return _clean_exif(img.getexif(), tiff_file=img.format == "TIFF")
    except (OSError, ValueError, TypeError, KeyError, IndexError, SyntaxError, struct.error) as e:
        log.warning("EXIF ignored: %s", e)  # damaged EXIF loses the metadata, not the photo
        return None, 1


def _clean_exif(exif: Image.Exif, tiff_file: bool) -> tuple[bytes | None, int]:
    """A TIFF's (or TIFF-based RAW's) EXIF is its own first directory, full of layout and private tags
    that would corrupt another file: keep only the standard descriptive ones there."""
    orientation = exif.get(_ORIENTATION, 1)
    orientation = orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else 1
    for tag in set(exif) - _TIFF_EXIF_TAGS if tiff_file else _LAYOUT_TAGS.intersection(exif):
        del exif[tag]
    if _ORIENTATION in exif:
        exif[_ORIENTATION] = 1
    return (_exif_bytes(exif) if len(exif) else None), orientation


def _read_icc(img: Image.Image, gray: bool) -> bytes | None:
    """The profile that still describes the pixels we write: RGB for colour photos, GRAY for gray ones
    (a CMYK profile was used up converting to RGB)."""
    icc = img.info.get("icc_profile")
    return icc if isinstance(icc, bytes) and icc[16:20] == (b"GRAY" if gray else b"RGB ") else None


def _adobe_rgb_mark(img: Image.Image, gray: bool) -> bytes | None:
    """Adobe RGB (1998)'s profile where the EXIF marks a colour photo Adobe RGB, as a camera set to Adobe RGB
    does instead of embedding a profile; else None."""
    if gray:
        return None
    try:
        marked = exif_means_adobe_rgb(img.getexif())
    except (OSError, ValueError, TypeError, KeyError, IndexError, SyntaxError, struct.error):
        return None
    return adobe_rgb_profile() if marked else None


def _png_gamma_mark(img: Image.Image, gray: bool) -> bytes | None:
    """The profile a PNG's gAMA (and cHRM) chunks describe, where it has no iCCP or sRGB chunk and they do
    not mean sRGB (`icc_profiles.png_gamma_profile`); else None."""
    return png_gamma_profile(img.info, gray) if img.format == "PNG" else None


def _read_dpi(img: Image.Image) -> tuple[float, float] | None:
    """The resolution the file states in inches or centimetres, else None. Pillow also answers (1, 1)
    for a TIFF without resolution tags, the bare numbers of a resolution without a unit (an aspect ratio),
    and (72, 72) for a JPEG whose EXIF has none; written back, such a photo claimed 1 dpi (a print
    hundreds of inches wide) or a resolution it never had. A JPEG's EXIF resolution wins over its JFIF
    header's, as GIMP reads them (an editor that kept the EXIF may write its own default into JFIF, 96 dpi
    say); Pillow reads JFIF's."""
    try:
        if img.format == "TIFF":
            x, y = _stated_resolution(img.tag_v2)
        elif img.format in ("JPEG", "MPO"):
            try:
                x, y = _stated_resolution(img.getexif())
            except KeyError:
                if img.info.get("jfif_unit") not in (1, 2):  # JFIF gives only an aspect ratio, or is absent
                    raise
                x, y = (float(v) for v in img.info["dpi"])
        else:
            x, y = (float(v) for v in img.info["dpi"])
    except (KeyError, TypeError, ValueError, ZeroDivisionError, SyntaxError, struct.error):
        return None
    if not (x > 0 and y > 0 and np.isfinite([x, y]).all()):
        return None
    # PNG stores pixels per metre: the 300 dpi the photographer set comes back as 299.9994
    return tuple(float(round(v)) if abs(v - round(v)) < 0.02 else round(v, 2) for v in (x, y))


def _stated_resolution(tags) -> tuple[float, float]:
    """X and Y resolution in dpi from TIFF/EXIF tags; KeyError when they are absent or have no unit
    (ResolutionUnit 1; absent, it means inches)."""
    unit = tags.get(0x0128, 2)
    if unit not in (2, 3):
        raise KeyError("no resolution unit")
    scale = 2.54 if unit == 3 else 1.0
    return float(tags[0x011A]) * scale, float(tags[0x011B]) * scale


def _read_xmp(img: Image.Image) -> bytes | None:
    xmp = img.info.get("xmp") or img.info.get("XML:com.adobe.xmp")
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8")
    return xmp if isinstance(xmp, bytes) and xmp else None


_IPTC_RESOURCE = 0x0404  # the IPTC-NAA record in a Photoshop image resource block
_IPTC_TAG, _PHOTOSHOP_TAG, _ICC_TAG, _XMP_TAG = 33723, 34377, 34675, 700  # TIFF tags


def _read_iptc(img: Image.Image, path: Path) -> bytes | None:
    """IPTC-IIM (the captions, keywords and credits photo agencies and Lightroom write) from a JPEG's
    Photoshop APP13 block or a TIFF's IPTC tag (or the IPTC record of its Photoshop tag)."""
    data = None
    if img.format in ("JPEG", "MPO"):
        data = (img.info.get("photoshop") or {}).get(_IPTC_RESOURCE)
    elif img.format == "TIFF":
        # read from the file: Pillow keeps only the first number of a LONG-typed IPTC tag (as Photoshop
        # writes it), and gives the Photoshop block as a tuple
        tags = img.tag_v2
        data = _tiff_entry_bytes(path, _IPTC_TAG) if _IPTC_TAG in tags else None
        if not data and _PHOTOSHOP_TAG in tags:
            data = _photoshop_resources(_tiff_entry_bytes(path, _PHOTOSHOP_TAG) or b"").get(_IPTC_RESOURCE)
    if not isinstance(data, bytes) or not data.startswith(b"\x1c"):  # every IIM record starts with 0x1C
        return None
    return data


def _read_png_text(img: Image.Image) -> dict[str, str] | None:
    """A PNG's tEXt/zTXt/iTXt entries, but XMP (kept as such) and ImageMagick's "Raw profile type …"
    copies of EXIF or IPTC (Pillow reads the EXIF one; a stale copy must not travel)."""
    if img.format != "PNG":
        return None
    text = {str(k): str(v) for k, v in (getattr(img, "text", None) or {}).items()
            if k != "XML:com.adobe.xmp" and not str(k).startswith("Raw profile type")}
    return text or None


def _png_text_chunk(key: str, value: str) -> bytes | None:
    """tEXt for Latin-1 text (zTXt when long), iTXt for any other; None for a key PNG does not allow."""
    try:
        keyword = key.encode("latin-1")
    except UnicodeEncodeError:
        return None
    if not 1 <= len(keyword) <= 79:
        return None
    try:
        latin = value.encode("latin-1")
    except UnicodeEncodeError:
        return _png_chunk(b"iTXt", keyword + b"\0\0\0\0\0" + value.encode("utf-8"))
    if len(latin) > 1024:
        return _png_chunk(b"zTXt", keyword + b"\0\0" + zlib.compress(latin))
    return _png_chunk(b"tEXt", keyword + b"\0" + latin)


_TIFF_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 6: 1, 7: 1, 8: 2, 9: 4}


@contextmanager
def _file_reader(path: Path) -> Iterator[Callable[[int, int], bytes]]:
    """`read(offset, size)` over a file, as `_tiff_ifd0` and `_tiff_directories` take it."""
    with open(path, "rb") as fp:
        def read(at: int, size: int) -> bytes:
            fp.seek(at)
            return fp.read(size)

        yield read


def _tiff_entries(path: Path, tags: Iterable[int]) -> tuple[str, dict[int, bytes]]:
    """The raw bytes of these tags of a classic TIFF's first directory, whatever their declared types, read
    in one pass, and the file's byte order ("<" or ">"); no tags for anything else (BigTIFF, damaged)."""
    wanted, found = set(tags), {}
    try:
        with _file_reader(path) as read:
            ifd0 = _tiff_ifd0(read)
            if ifd0 is None:
                return "<", found
            e, entries = ifd0
            for entry_tag, kind, count, at in entries:
                if entry_tag in wanted and kind in _TIFF_TYPE_SIZES:
                    size = count * _TIFF_TYPE_SIZES[kind]
                    found[entry_tag] = read(at + 8, size) if size <= 4 else read(
                        struct.unpack(e + "I", read(at + 8, 4))[0], size)
    except (OSError, struct.error):
        return "<", {}
    return e, found


def _tiff_entry_bytes(path: Path, tag: int) -> bytes | None:
    """The raw bytes of a tag of a classic TIFF's first directory, whatever its declared type."""
    return _tiff_entries(path, (tag,))[1].get(tag)


def _tiff_number(raw: bytes | None, byte_order: str) -> int | None:
    """The first value of a SHORT or LONG tag's bytes (`_tiff_entries`): a width, a count of samples ..."""
    if not raw or len(raw) not in (2, 4):
        return None
    return struct.unpack(byte_order + ("H" if len(raw) == 2 else "I"), raw)[0]


def _photoshop_resources(block: bytes) -> dict[int, bytes]:
    """Photoshop image resources ('8BIM', id, padded Pascal name, size, padded data) by id."""
    out, at = {}, 0
    with suppress(struct.error):
        while block[at:at + 4] == b"8BIM":
            (rid,) = struct.unpack_from(">H", block, at + 4)
            name_len = block[at + 6]
            at += 6 + name_len + 1 + (name_len + 1) % 2
            (size,) = struct.unpack_from(">I", block, at)
            out[rid] = block[at + 4:at + 4 + size]
            at += 4 + size + size % 2
    return out


def _jpeg_app13(iptc: bytes) -> bytes:
    """An APP13 segment holding `iptc` as a Photoshop resource, as Photoshop and Lightroom write it."""
    resource = b"8BIM" + struct.pack(">H", _IPTC_RESOURCE) + b"\0\0" + struct.pack(">I", len(iptc)) + iptc
    body = b"Photoshop 3.0\0" + resource + b"\0" * (len(iptc) % 2)
    return b"\xff\xed" + struct.pack(">H", len(body) + 2) + body


def with_software(exif: bytes | None, software: str) -> bytes | None:
    """EXIF with its Software tag set to `software`, as editors mark the files they write (the camera's
    firmware version it replaces is in its maker notes too); a new EXIF block when there was none."""
    tags = Image.Exif()
    try:
        if exif:
            tags.load(exif)
        tags[0x0131] = software
        return _exif_bytes(tags)
    except (ValueError, TypeError, SyntaxError, OSError, struct.error) as e:  # keep the EXIF as read
        log.warning("EXIF Software tag not set: %s", e)
        return exif or None


def with_jpeg_positioning(exif: bytes | None) -> bytes | None:
    """A JPEG result's EXIF with the YCbCrPositioning tag the EXIF standard requires of a JPEG's first
    directory (cameras write it; reading drops it with the layout tags, as it described the photo's own
    encoding): centred, as libjpeg places the chroma of the JPEG written here."""
    if not exif:
        return exif
    tags = Image.Exif()
    try:
        tags.load(exif)
        if _YCBCR_POSITIONING in tags:
            return exif
        tags[_YCBCR_POSITIONING] = 1
        return _exif_bytes(tags)
    except (ValueError, TypeError, SyntaxError, OSError, struct.error) as e:  # keep the EXIF as read
        log.info("EXIF YCbCrPositioning not set: %s", e)
        return exif


_YCBCR_POSITIONING = 0x0213


def exif_without_orientation(exif: bytes | None) -> bytes | None:
    """The EXIF for an AVIF: Pillow moves an Orientation tag into AVIF's own rotation box and re-writes
    the EXIF itself, turning text beyond ASCII into "?"; ours is 1 (applied), so it is simply left out."""
    if not exif:
        return exif
    tags = Image.Exif()
    try:
        tags.load(exif)
        if _ORIENTATION not in tags:
            return exif
        del tags[_ORIENTATION]
        return _exif_bytes(tags) if len(tags) else None
    except (ValueError, TypeError, SyntaxError, OSError, struct.error) as e:  # keep the EXIF as read
        log.warning("EXIF orientation not removed: %s", e)
        return exif


# PNG's registered text keywords that have an EXIF tag of the same meaning
_PNG_TEXT_EXIF = {"Description": 0x010E, "Author": 0x013B, "Copyright": 0x8298}  # ImageDescription, Artist


def with_png_text(exif: bytes | None, text: dict[str, str] | None) -> bytes | None:
    """EXIF with a PNG's Description, Author and Copyright in its tags of the same meaning, for a result
    saved in a format without PNG text (JPEG, TIFF, WebP...), so they are not lost on the way; tags the
    EXIF already has win. Text beyond ASCII is written as UTF-8 bytes, as exiftool and exiv2 write and read
    it (Pillow would write "?" for each such character)."""
    found = {tag: value for key, tag in _PNG_TEXT_EXIF.items() if (value := (text or {}).get(key, "").strip())}
    if not found:
        return exif
    tags = Image.Exif()
    try:
        if exif:
            tags.load(exif)
        for tag, value in found.items():
            if not tags.get(tag):
                tags[tag] = value if value.isascii() else value.encode("utf-8")
        return _exif_bytes(tags)
    except (ValueError, TypeError, SyntaxError, OSError, struct.error) as e:  # keep the EXIF as read
        log.warning("PNG text not carried into EXIF: %s", e)
        return exif


def _reset_xmp_orientation(xmp: bytes | None) -> bytes | None:
    """Like Pillow's exif_transpose: once pixels are upright, XMP must not ask viewers to rotate again."""
    if xmp is None:
        return None
    xmp = re.sub(rb'(tiff:Orientation\s*=\s*["\'])\d', rb"\g<1>1", xmp)
    return re.sub(rb"(<tiff:Orientation>\s*)\d", rb"\g<1>1", xmp)


def _srgb_profile() -> bytes | None:
    try:
        from PIL import ImageCms

        return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    except (ImportError, OSError):  # Pillow without LittleCMS: the file is still sRGB, just untagged
        return None


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _add_png_metadata(png: memoryview, meta: ImageData) -> list:
    """Insert iCCP, eXIf, pHYs, XMP (iTXt) and text chunks right after IHDR (where the PNG spec wants the
    first three; text may go anywhere)."""
    chunks = []
    if meta.icc_profile:
        chunks.append(_png_chunk(b"iCCP", b"ICC Profile\0\0" + zlib.compress(meta.icc_profile)))
    if meta.exif:
        exif = meta.exif[6:] if meta.exif.startswith(b"Exif\0\0") else meta.exif
        chunks.append(_png_chunk(b"eXIf", exif))
    if meta.dpi:
        ppm = (round(d / 0.0254) for d in meta.dpi)
        chunks.append(_png_chunk(b"pHYs", struct.pack(">IIB", *ppm, 1)))
    if meta.xmp:
        chunks.append(_png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + meta.xmp))
    for key, value in (meta.text or {}).items():
        chunk = _png_text_chunk(key, value)
        if chunk is not None:
            chunks.append(chunk)
    end_of_ihdr = 8 + 8 + 13 + 4
    assert png[12:16] == b"IHDR"
    return [png[:end_of_ihdr], *chunks, png[end_of_ihdr:]]


def _sub_ifd(exif: Image.Exif, tag: int) -> dict:
    """The Exif or GPS sub-directory with its own sub-directory (Interop, in the Exif one) as a directory
    too, as `Image.Exif.tobytes` does: left as the number it was read as, it pointed at the old file's
    offset, into the pixels (exiftool: "Bad format for InteropIFD entry 0")."""
    values = exif.get_ifd(tag)
    if tag == 0x8769 and 0xA005 in values and not isinstance(values[0xA005], dict):
        interop = exif.get_ifd(0xA005)
        values = {k: v for k, v in values.items() if k != 0xA005}
        if interop:  # an unreadable one is left out
            values[0xA005] = interop
    return values


def _retag_tiff(tiff: memoryview, meta: ImageData, has_alpha: bool) -> list:
    """Rebuild OpenCV's TIFF with a directory that also holds EXIF, ICC, DPI and XMP.

    New layout: header, new directory, then OpenCV's bytes after its header (pixel strips and the old,
    now unused, directory). Pillow's serializer adds the directory's end to StripOffsets, so we give it
    the strips' positions relative to that point.
    """
    if tiff[:4] not in (b"II*\0", b"MM\0*"):  # BigTIFF: keep the pixels, lose the metadata
        log.warning("TIFF metadata not written: unexpected TIFF header %r", bytes(tiff[:4]))
        return [tiff]
    ifd = TiffImagePlugin.ImageFileDirectory_v2(ifh=bytes(tiff[:8]))
    fp = io.BytesIO(tiff)
    fp.seek(ifd.next)
    ifd.load(fp)
    for tag in list(ifd):  # load() keeps raw bytes that tobytes() would skip; decode every tag
        ifd[tag] = ifd[tag]
    strips = ifd[273] if isinstance(ifd[273], tuple) else (ifd[273],)
    ifd[273] = tuple(offset - 8 for offset in strips)
    ifd.tagtype[273] = TiffTags.LONG
    if meta.exif:
        exif = Image.Exif()
        exif.load(meta.exif)
        _text_as_bytes(exif)
        for tag in set(exif) - _LAYOUT_TAGS:  # as Pillow's own TIFF writer does
            ifd[tag] = _sub_ifd(exif, tag) if tag in TiffTags.TAGS_V2_GROUPS else exif[tag]
    if has_alpha:
        ifd[338] = (2,)  # ExtraSamples: unassociated alpha
    if meta.dpi:
        ifd[296], ifd[282], ifd[283] = 2, meta.dpi[0], meta.dpi[1]
    if meta.icc_profile:
        ifd[_ICC_TAG] = meta.icc_profile
    if meta.xmp:
        ifd[_XMP_TAG] = meta.xmp
    if meta.iptc:
        ifd[_IPTC_TAG] = meta.iptc
        ifd.tagtype[_IPTC_TAG] = TiffTags.UNDEFINED
    header = bytes(tiff[:4]) + struct.pack("<L" if tiff[:2] == b"II" else ">L", 8)
    return [header + ifd.tobytes(offset=8), tiff[8:]]
