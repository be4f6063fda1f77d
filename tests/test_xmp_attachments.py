"""A phone photo's XMP describes data after its picture (an Ultra HDR gain map, a motion photo's video, a
depth map): the result holds only the restored picture, so those descriptions are taken out."""

from __future__ import annotations

import numpy as np
from PIL import Image

from engine.imaging import read_image, write_image
from engine.imaging.xmp_attachments import without_attachments
from engine.imaging.xmp_packet import parse, property_names, rdf_body

PIXEL_XMP = b"""<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:hdrgm="http://ns.adobe.com/hdr-gain-map/1.0/"
 xmlns:GCamera="http://ns.google.com/photos/1.0/camera/" xmlns:Container="http://ns.google.com/photos/1.0/container/"
 xmlns:Item="http://ns.google.com/photos/1.0/container/item/" xmlns:GDepth="http://ns.google.com/photos/1.0/depthmap/"
 xmlns:xmpNote="http://ns.adobe.com/xmp/note/" xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:xmp="http://ns.adobe.com/xap/1.0/" hdrgm:Version="1.0" GCamera:MotionPhoto="1"
 GCamera:MotionPhotoVersion="1" GCamera:MotionPhotoPresentationTimestampUs="968644" GCamera:MicroVideoOffset="1200"
 GDepth:Format="RangeInverse" xmpNote:HasExtendedXMP="5A1B" GCamera:BurstID="b1" xmp:Rating="4">
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Harbour at dusk</rdf:li></rdf:Alt></dc:title>
<Container:Directory><rdf:Seq>
<rdf:li rdf:parseType="Resource"><Container:Item Item:Semantic="Primary" Item:Mime="image/jpeg"/></rdf:li>
<rdf:li rdf:parseType="Resource"><Container:Item Item:Semantic="GainMap" Item:Mime="image/jpeg" Item:Length="31337"/>
</rdf:li>
<rdf:li rdf:parseType="Resource"><Container:Item Item:Semantic="MotionPhoto" Item:Mime="video/mp4" Item:Length="2400"/>
</rdf:li></rdf:Seq></Container:Directory>
</rdf:Description></rdf:RDF></x:xmpmeta>"""


def names(packet: bytes) -> set[str]:
    return {n.split("}")[1] for n in property_names(rdf_body(parse(packet)[1]))}


def test_gain_map_motion_video_and_depth_map_descriptions_go_the_rest_stays():
    kept = names(without_attachments(PIXEL_XMP))
    assert kept == {"about", "BurstID", "Rating", "title"}


def test_a_packet_without_them_is_kept_byte_for_byte():
    plain = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>\0\0'
    assert without_attachments(plain) is plain
    assert without_attachments(b"not xml <") == b"not xml <" and without_attachments(None) is None


def test_a_pixel_motion_photo_is_restored_without_its_false_descriptions(tmp_path):
    """Pixel phones save Ultra HDR motion photos: a gain map and an MP4 after the JPEG picture, described in
    its XMP. The result kept the descriptions without the data: Google Photos would look for a video in it."""
    rgb = (np.random.default_rng(0).random((24, 32, 3)) * 255).astype(np.uint8)
    Image.fromarray(rgb).save(tmp_path / "PXL_0001.MP.jpg", xmp=PIXEL_XMP, quality=90)
    with open(tmp_path / "PXL_0001.MP.jpg", "ab") as f:
        f.write(b"\0\0\0\x18ftypmp42" + bytes(2400))  # the motion photo's video, after the picture
    img = read_image(tmp_path / "PXL_0001.MP.jpg")
    assert names(img.xmp) == {"about", "BurstID", "Rating", "title"}
    with Image.open(write_image(tmp_path / "out.jpg", img.rgb, img)) as out:
        assert b"Harbour at dusk" in out.info["xmp"] and b"MotionPhoto" not in out.info["xmp"]
