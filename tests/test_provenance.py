"""A result records how it was made in its XMP (engine.imaging.provenance): read back by any XMP reader and by
Hourglass, beside the photo's own XMP, which is kept; a result saved again keeps the first save's story."""

from __future__ import annotations

import hashlib
import logging

import numpy as np
import pytest
from PIL import Image

from engine import imaging
from engine.api import SOFTWARE, RestoreOptions, restore_file
from engine.errors import InvalidRequestError
from engine.imaging.provenance import events_of, provenance_of, with_provenance
from engine.reblend import reblend_file

_PHOTO_XMP = b"""<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xapMM="http://ns.adobe.com/xap/1.0/mm/"
 xmlns:stEvt="http://ns.adobe.com/xap/1.0/sType/ResourceEvent#">
<dc:subject><rdf:Bag><rdf:li>harbour</rdf:li><rdf:li>fog</rdf:li></rdf:Bag></dc:subject>
<xapMM:History><rdf:Seq><rdf:li rdf:parseType="Resource"><stEvt:action>saved</stEvt:action>
<stEvt:softwareAgent>Adobe Lightroom</stEvt:softwareAgent></rdf:li></rdf:Seq></xapMM:History>
</rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>"""


def _photo(tmp_path, name="harbour.jpg", xmp=_PHOTO_XMP, size=(48, 40)):
    rng = np.random.default_rng(1)
    path = tmp_path / name
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path, xmp=xmp)
    return path


def _restore(model, src, out, **options):
    options = {"steps": 1, "task": "haze", "seed": 7, **options}
    return restore_file(src, out, model, RestoreOptions(**options))


def _history(path):
    return [e.get("parameters", e.get("softwareAgent")) for e in _events(path)]


def _events(path):
    with Image.open(path) as img:
        xmp = img.info.get("xmp") or img.info.get("XML:com.adobe.xmp") or img.getexif().get(700)
    parsed = imaging.provenance.parse(xmp.encode() if isinstance(xmp, str) else xmp)
    seq = parsed[1].find(".//{http://ns.adobe.com/xap/1.0/mm/}History/{http://www.w3.org/1999/02/22-rdf-syntax-ns#}Seq")
    return [imaging.provenance._event(li) for li in seq]


def test_a_result_records_task_model_evaluations_seed_path_and_strength_beside_the_photos_own_xmp(tiny_model,
                                                                                                   tmp_path):
    out = tmp_path / "out" / "harbour.jpg"
    photo = _photo(tmp_path)
    res = _restore(tiny_model, photo, out, strength=0.6, steps=2)
    record = imaging.read_provenance(res.output_path)
    assert record == {"Software": SOFTWARE, "Task": "haze", "Model": tiny_model.name, "Evaluations": "2",
                      "Seed": "7", "FullResolution": "tiled", "Strength": "0.6", "Photo": "harbour.jpg",
                      "PhotoSHA256": hashlib.sha256(photo.read_bytes()).hexdigest()}
    assert imaging.recorded_strength(record) == 0.6
    xmp = Image.open(out).info["xmp"]
    assert b"<rdf:li>harbour</rdf:li>" in xmp and b"<rdf:li>fog</rdf:li>" in xmp  # the photo's keywords
    history = _history(out)
    assert history[0] == "Adobe Lightroom"  # the photo's own history comes first, then this save
    assert history[1] == (f"restored harbour.jpg as haze (chosen) with {tiny_model.name}, 2 evaluations, seed 7, "
                          "at full resolution, strength 60%")


def test_a_detected_task_records_its_confidence(tiny_model, tmp_path, stub):
    stub("rain")
    res = _restore(tiny_model, _photo(tmp_path, xmp=None, size=(160, 120)), tmp_path / "r.jpg", task="auto")
    record = imaging.read_provenance(res.output_path)
    assert (record["Task"], record["Detected"]) == ("rain", f"{res.confidence:.2f}")
    assert f"as rain (detected, {res.confidence:.0%})" in _history(res.output_path)[-1]


@pytest.mark.parametrize("fmt", ["PNG", "TIFF", "WEBP", "AVIF", "JPEG"])
def test_every_format_that_holds_xmp_records_it(tiny_model, tmp_path, fmt):
    res = _restore(tiny_model, _photo(tmp_path), tmp_path / f"r.{fmt.lower()}", format=fmt)
    assert imaging.read_provenance(res.output_path)["Strength"] == "1"
    assert b"<rdf:li>harbour</rdf:li>" in imaging.read_image(res.output_path).xmp  # and the photo's own


def test_a_16_bit_tiff_records_it_too(tiny_model, tmp_path):
    import cv2
    src = tmp_path / "scan.tif"
    cv2.imwrite(str(src), np.random.default_rng(0).integers(0, 65535, (32, 40, 3), dtype=np.uint16))
    res = _restore(tiny_model, src, tmp_path / "out.tif")
    assert imaging.read_provenance(res.output_path)["Photo"] == "scan.tif"


def test_a_bmp_holds_no_xmp_and_reads_as_recording_nothing(tiny_model, tmp_path):
    res = _restore(tiny_model, _photo(tmp_path, xmp=None), tmp_path / "r.bmp", format="BMP")
    assert imaging.read_provenance(res.output_path) == {}


def test_restoring_a_result_again_replaces_its_record_and_extends_its_history(tiny_model, tmp_path):
    first = _restore(tiny_model, _photo(tmp_path), tmp_path / "first.jpg", strength=0.5).output_path
    second = _restore(tiny_model, first, tmp_path / "second.jpg", task="rain").output_path
    record = imaging.read_provenance(second)
    assert (record["Task"], record["Strength"], record["Photo"]) == ("rain", "1", "first.jpg")
    assert Image.open(second).info["xmp"].count(b"hourglass:Task") == 1
    assert [h.split(" as ")[0] for h in _history(second)] == ["Adobe Lightroom", "restored harbour.jpg",
                                                              "restored first.jpg"]


def test_a_task_detected_ahead_is_recorded_as_detected(tiny_model, tmp_path):
    """The app detects when a photo is added and sends the detected task with its score: the result says it
    was detected, not chosen."""
    out = _restore(tiny_model, _photo(tmp_path), tmp_path / "out.jpg", task="haze", detected=0.87).output_path
    assert imaging.read_provenance(out)["Detected"] == "0.87"
    assert _history(out)[-1].startswith("restored harbour.jpg as haze (detected, 87%) with tiny-t")


def test_a_result_is_not_restored_again_unasked(tiny_model, tmp_path):
    """Task auto: a photo that records Hourglass made it (a result added again, a photo that holds its result
    after Replace) is skipped, saying how it was made; a chosen task or restore_clean restores it again."""
    first = _restore(tiny_model, _photo(tmp_path), tmp_path / "first.jpg", strength=0.5).output_path
    skipped = _restore(tiny_model, first, tmp_path / "again.jpg", task="auto")
    assert skipped.skipped and skipped.output_path == "" and not (tmp_path / "again.jpg").exists()
    with open(first, "rb") as f:  # (the app's "edited since?" for a photo it left)
        assert skipped.photo_sha256 == hashlib.sha256(f.read()).hexdigest()
    assert skipped.already_restored.startswith("restored harbour.jpg as haze (chosen) with tiny-t, ")
    assert skipped.already_restored.endswith(f"strength 50%, on {_events(first)[-1]['when'][:10]}")
    assert not _restore(tiny_model, first, tmp_path / "chosen.jpg", task="haze").skipped
    assert not _restore(tiny_model, first, tmp_path / "asked.jpg", task="auto", restore_clean=True).skipped
    plain = _restore(tiny_model, _photo(tmp_path, "plain.jpg"), tmp_path / "plain_out.jpg", task="auto")
    assert plain.already_restored == ""  # (a photo with XMP from another program: detected as usual)


def test_how_a_result_was_made_without_its_history():
    from engine.imaging.provenance import made_by_hourglass

    record = {"Task": "low-light", "Model": "hourglass-diffuir-t", "Strength": "0.6", "Photo": "p.jpg"}
    bare = with_provenance(None, record, "")
    without_history = bare.replace(bare[bare.find(b"<xmpMM:History"):bare.find(b"</xmpMM:History>") + 16], b"") \
        if b"<xmpMM:History" in bare else bare
    assert made_by_hourglass(without_history) == "restored as low-light, hourglass-diffuir-t, strength 60%"
    assert made_by_hourglass(None) == "" and made_by_hourglass(_PHOTO_XMP) == ""


def test_a_result_saved_again_records_its_new_strength_and_the_first_saves_story(tiny_model, tmp_path):
    photo = _photo(tmp_path)
    first = _restore(tiny_model, photo, tmp_path / "harbour.jpg.out.png").output_path
    again = reblend_file(photo, first, tmp_path / "again.png", 1.0, 0.4, task="haze").output_path
    record = imaging.read_provenance(again)
    assert record == {**imaging.read_provenance(first), "Strength": "0.4"}
    history = _history(again)
    assert history[0] == "Adobe Lightroom" and history[1].startswith("restored harbour.jpg as haze")
    assert history[2] == "saved harbour.jpg again at strength 40% from harbour.jpg.out.png (saved at 100%)"
    assert len(events_of(Image.open(again).info["xmp"])) == 2


def test_the_photos_xmp_is_kept_whole_when_the_record_would_push_a_jpeg_segment_over(tiny_model, tmp_path, caplog):
    filler = b"<dc:description>" + b"x" * 64_600 + b"</dc:description>"
    big = _PHOTO_XMP.replace(b"<dc:subject>", filler + b"<dc:subject>")
    src = _photo(tmp_path, "big.png", xmp=None)
    Image.open(src).save(src, pnginfo=_png_xmp(big))
    assert len(imaging.read_image(src).xmp) < 65_504 - 29  # fits a JPEG alone
    with caplog.at_level(logging.WARNING):
        res = _restore(tiny_model, src, tmp_path / "r.jpg", format="JPEG")
    assert Image.open(res.output_path).info["xmp"].count(b"x" * 64_600) == 1  # the photo's XMP, whole
    assert imaging.read_provenance(res.output_path) == {}
    assert "leaves no room" in caplog.text


def _png_xmp(xmp):
    from PIL import PngImagePlugin
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8"))
    return info


def test_an_unreadable_photo_xmp_is_kept_as_it_is(caplog):
    broken = b"<x:xmpmeta><rdf:RDF"
    with caplog.at_level(logging.WARNING):
        assert with_provenance(broken, {"Strength": "1"}, "restored") is broken
    assert "cannot be read" in caplog.text


def test_unknown_fields_are_refused_and_files_without_a_record_read_as_empty(tmp_path):
    with pytest.raises(ValueError, match="Colour"):
        with_provenance(None, {"Colour": "red"}, "restored")
    (tmp_path / "notes.jpg").write_text("not a photo")
    assert imaging.read_provenance(tmp_path / "notes.jpg") == {}
    assert imaging.read_provenance(tmp_path / "gone.jpg") == {}
    assert provenance_of(None) == {} and imaging.recorded_strength({"Strength": "2"}) is None
    assert imaging.recorded_strength({"Strength": "most"}) is None


def test_a_file_name_xml_cannot_hold_is_recorded_readably(tmp_path):
    odd = "bad\udcffname\x01.png"  # a Linux name that is not UTF-8, with a control character
    packet = with_provenance(None, {"Photo": odd}, f"restored {odd}")
    assert provenance_of(packet) == {"Photo": "bad\ufffdname.png"}
    assert events_of(packet) == ()  # (no Software: not Hourglass's event)


def test_a_result_is_not_blended_over_a_photo_that_changed_since_it_was_made(tiny_model, tmp_path):
    photo = _photo(tmp_path)
    first = _restore(tiny_model, photo, tmp_path / "first.png").output_path
    Image.open(photo).rotate(180).save(photo)  # edited since: the same size, other pixels
    with pytest.raises(InvalidRequestError, match="has changed since 'first.png' was made from it"):
        reblend_file(photo, first, tmp_path / "again.png", 1.0, 0.5)
    assert not (tmp_path / "again.png").exists()


def test_earlier_results_are_the_files_beside_the_planned_one_that_record_this_very_photo(tiny_model, tmp_path):
    import os

    from engine.earlier_results import earlier_results
    (tmp_path / "card2").mkdir()
    photo, other = _photo(tmp_path), _photo(tmp_path / "card2")
    Image.open(other).rotate(90).save(other)  # another camera's harbour.jpg: same name, other pixels
    out = tmp_path / "restored"
    first = _restore(tiny_model, photo, out / "harbour.jpg", strength=0.8).output_path
    _restore(tiny_model, other, out / "harbour (1).jpg")
    again = reblend_file(photo, first, out / "harbour (2).jpg", 0.8, 0.5).output_path
    Image.open(photo).save(out / "harbour (3).jpg")  # not saved by Hourglass
    Image.open(first).save(out / "harbour (old).jpg", xmp=Image.open(first).info["xmp"])  # not a numbered name
    os.utime(first, (1, 1))
    found = earlier_results(out / "harbour.jpg", photo)
    assert [(p.name, r["Strength"]) for p, r in found] == [("harbour.jpg", "0.8"), ("harbour (2).jpg", "0.5")]
    assert str(found[1][0]) == again
    assert [p.name for p, _ in earlier_results(out / "harbour.jpg", other)] == ["harbour (1).jpg"]
    assert earlier_results(tmp_path / "nowhere" / "harbour.jpg", photo) == []


def test_a_history_written_otherwise_is_kept_and_a_bag_is_extended():
    odd = _PHOTO_XMP.replace(b"<rdf:Seq><rdf:li", b"<rdf:Bag><rdf:li").replace(b"</rdf:Seq>", b"</rdf:Bag>")
    assert with_provenance(odd, {"Software": "Hourglass 9"}, "restored").count(b"<stEvt:parameters>restored") == 1
    text = _PHOTO_XMP.replace(b"<rdf:Seq><rdf:li rdf:parseType=\"Resource\"><stEvt:action>saved</stEvt:action>\n"
                              b"<stEvt:softwareAgent>Adobe Lightroom</stEvt:softwareAgent></rdf:li></rdf:Seq>",
                              b"exported twice")
    assert b"exported twice" in text
    kept = with_provenance(text, {"Strength": "1"}, "restored")
    assert b"exported twice" in kept and b"<stEvt:parameters>" not in kept
    assert provenance_of(kept) == {"Strength": "1"}
