"""Results for sharing: where the photo was taken left out on request (engine.imaging.location), and results
that record nothing of how they were made (`record=False`), in every format, restored or saved again."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from engine import imaging
from engine.api import RestoreOptions, restore_file
from engine.imaging.location import exif_without_gps, xmp_without_gps
from engine.reblend import reblend_file
from tests.test_imaging import make_exif

# a phone's coordinates (exif:), a catalogue's location structure with coordinates and names (Iptc4xmpExt:),
# a drone's (drone-dji:), and captions that are not coordinates (dc:subject, photoshop:City)
_XMP = b"""<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
 xmlns:drone-dji="http://www.dji.com/drone-dji/1.0/"
 exif:GPSLatitude="48,51.5N" drone-dji:GpsLongitude="+2.29" photoshop:City="Paris">
<exif:GPSLongitude>2,17.4E</exif:GPSLongitude>
<dc:subject><rdf:Bag><rdf:li>harbour</rdf:li></rdf:Bag></dc:subject>
<Iptc4xmpExt:LocationCreated><rdf:Bag><rdf:li rdf:parseType="Resource">
<Iptc4xmpExt:City>Paris</Iptc4xmpExt:City><Iptc4xmpExt:GPSLatitude>48,51.5N</Iptc4xmpExt:GPSLatitude>
</rdf:li></rdf:Bag></Iptc4xmpExt:LocationCreated>
</rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>"""
_WHERE = (b"GPSLatitude", b"GPSLongitude", b"GpsLongitude", b"48,51.5N")


def _photo(tmp_path, name="harbour.jpg"):
    rng = np.random.default_rng(3)
    path = tmp_path / name
    Image.fromarray(rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)).save(path, exif=make_exif(), xmp=_XMP)
    return path


def _metadata(path):
    """(EXIF IFD0 tags, its GPS directory, XMP bytes) of a result, as Pillow reads them back."""
    with Image.open(path) as img:
        exif = img.getexif()
        xmp = img.info.get("xmp") or img.info.get("XML:com.adobe.xmp") or exif.get(700) or b""
        return dict(exif), dict(exif.get_ifd(0x8825)), xmp.encode() if isinstance(xmp, str) else xmp


def test_exif_loses_its_gps_directory_and_keeps_the_rest():
    exif = make_exif().tobytes()
    kept = Image.Exif()
    kept.load(exif_without_gps(exif))
    assert 0x8825 not in kept and not kept.get_ifd(0x8825)
    assert (kept[0x010F], kept[0x0132]) == ("Hourglass Camera Co.", "2024:05:06 07:08:09")
    assert kept.get_ifd(0x8769)[0x9003] == "2024:05:06 07:08:09"  # the capture time is not a place
    without_gps = exif_without_gps(exif)
    assert exif_without_gps(without_gps) is without_gps  # none there: byte for byte
    assert exif_without_gps(None) is None


def test_a_damaged_exif_or_xmp_is_left_out_whole_as_it_may_hold_the_place(caplog):
    assert exif_without_gps(b"Exif\0\0garbage that is no TIFF") is None
    assert xmp_without_gps(b"<x:xmpmeta><rdf:RDF>unclosed") is None
    assert "may hold where it was taken" in caplog.text


def test_xmp_loses_coordinates_in_any_namespace_and_keeps_place_names_and_captions():
    kept = xmp_without_gps(_XMP)
    assert not any(word in kept for word in _WHERE)
    assert kept.count(b"Paris") == 2 and b"harbour" in kept  # photoshop:City, Iptc4xmpExt:City; dc:subject
    plain = xmp_without_gps(kept)
    assert plain == kept.rstrip(b"\0")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "TIFF", "WEBP", "AVIF", "HEIC"])
def test_every_format_s_result_is_without_the_place_when_asked_and_keeps_it_otherwise(tiny_model, tmp_path, fmt):
    src = _photo(tmp_path)
    options = {"steps": 1, "task": "haze", "format": fmt}
    ext = imaging.extension_for(fmt)
    shared = restore_file(src, tmp_path / f"shared{ext}", tiny_model, RestoreOptions(**options, remove_location=True))
    kept = restore_file(src, tmp_path / f"kept{ext}", tiny_model, RestoreOptions(**options)).output_path
    shared = shared.output_path
    exif, gps, xmp = _metadata(shared)
    assert not gps and 0x8825 not in exif and not any(word in xmp for word in _WHERE), fmt
    assert exif.get(0x0110) == "HG-1" and b"harbour" in xmp and b"Paris" in xmp  # the rest is kept
    assert imaging.read_provenance(shared)["Task"] == "haze"  # and recorded as ever
    _, gps, xmp = _metadata(kept)
    assert gps[1] == "N" and b"GPSLongitude" in xmp


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool is not installed")
def test_exiftool_finds_no_location_in_a_shared_result(tiny_model, tmp_path):
    src = _photo(tmp_path)
    out = restore_file(src, tmp_path / "shared.jpg", tiny_model,
                       RestoreOptions(steps=1, task="haze", remove_location=True)).output_path
    found = subprocess.run(["exiftool", "-a", "-G1", "-s", "-gps:all", "-xmp:all", "-exif:all", out],
                           capture_output=True, text=True, check=True).stdout
    assert "GPS" not in found.replace("XMP-photoshop", "") and "Gps" not in found
    assert "City" in found and "Model" in found and "DateTimeOriginal" in found


def test_a_result_without_a_record_records_nothing_nor_its_source_s(tiny_model, tmp_path):
    """record=False: no `hourglass:` properties and no event of this save, also when the photo is itself a
    result (its record describes how *it* was made); the photo's own XMP and History stay."""
    src = _photo(tmp_path)
    first = restore_file(src, tmp_path / "first.jpg", tiny_model, RestoreOptions(steps=1, task="haze")).output_path
    assert imaging.read_provenance(first)
    again = restore_file(first, tmp_path / "again.jpg", tiny_model,
                         RestoreOptions(steps=1, task="rain", record=False)).output_path
    assert imaging.read_provenance(again) == {}
    assert len(imaging.read_history(again)) == len(imaging.read_history(first)) == 1  # the first's, not this one
    assert b"harbour" in _metadata(again)[2]
    unrecorded = restore_file(src, tmp_path / "plain.png", tiny_model,
                              RestoreOptions(steps=1, task="haze", record=False)).output_path
    assert imaging.read_provenance(unrecorded) == {} and imaging.read_history(unrecorded) == ()


def test_saving_again_follows_both_choices(tiny_model, tmp_path):
    src = _photo(tmp_path, "p.jpg")
    first = restore_file(src, tmp_path / "r.jpg", tiny_model, RestoreOptions(steps=1, task="haze")).output_path
    shared = reblend_file(src, first, tmp_path / "r60.jpg", 1.0, 0.6, task="haze", remove_location=True,
                          record=False).output_path
    _, gps, xmp = _metadata(shared)
    assert not gps and not any(word in xmp for word in _WHERE) and b"harbour" in xmp
    assert imaging.read_provenance(shared) == {}
    kept = reblend_file(src, first, tmp_path / "r50.jpg", 1.0, 0.5, task="haze").output_path
    assert _metadata(kept)[1][1] == "N" and imaging.read_provenance(kept)["Strength"] == "0.5"


def test_coordinates_are_read_as_degrees_south_and_west_negative_and_damaged_ones_as_none():
    from PIL.TiffImagePlugin import IFDRational

    from engine.imaging.location import gps_coordinates

    sydney = {1: "S", 2: (33.0, 51.0, 36.0), 3: "E", 4: (151.0, 12.0, 36.0)}
    assert gps_coordinates(sydney) == pytest.approx((-33.86, 151.21))
    assert gps_coordinates({1: "N", 2: (40.5,), 3: "W", 4: (3.0, 42.0)}) == pytest.approx((40.5, -3.7))
    for damaged in ({1: "N", 2: (48.0, 51.0, 30.0)}, {2: (IFDRational(0, 0), 0, 0), 4: (1, 2, 3)},
                    {2: (91.0, 0, 0), 4: (0, 0, 0)}, {2: "north", 4: (0, 0, 0)}, {2: (), 4: (1,)}, {}):
        assert gps_coordinates(damaged) is None, damaged


def test_read_location_says_where_a_file_holds_coordinates(tmp_path):
    from engine.imaging.location import xmp_has_gps

    photo = _photo(tmp_path)  # a GPS directory with a latitude alone, and XMP coordinates
    assert imaging.read_location(photo) == {"latitude": None, "longitude": None, "in": ["EXIF", "XMP"]}
    exif = make_exif()
    exif.get_ifd(0x8825).update({3: "E", 4: (2.0, 17.0, 24.0)})
    Image.new("RGB", (8, 8)).save(tmp_path / "p.webp", exif=exif)
    assert imaging.read_location(tmp_path / "p.webp") == {"latitude": pytest.approx(48.8583333),
                                                          "longitude": pytest.approx(2.29), "in": ["EXIF"]}
    Image.new("RGB", (8, 8)).save(tmp_path / "plain.png")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    assert imaging.read_location(tmp_path / "plain.png") is None and imaging.read_location(tmp_path / "broken.jpg") is None
    assert xmp_has_gps(b"<unclosed GPSLatitude") and not xmp_has_gps(xmp_without_gps(_XMP)) and xmp_has_gps(_XMP)
