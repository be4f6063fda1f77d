"""What a phone photo's XMP says about data stored after its picture, which a result does not carry.

An Android "Ultra HDR" JPEG holds a gain map after the picture, a Google motion photo a short video; Google
depth and portrait photos keep a depth map in extended XMP. The main XMP describes them: the gain map's
parameters (hdrgm), a directory of the items with their byte lengths (Container), the video's offset
(GCamera MotionPhoto / MicroVideo), the depth map's format (GDepth, GImage). A result holds only the
restored picture, so those descriptions would be false: a viewer following them reads past the end of the
file, or part of the picture as a video. They are taken out; everything else in the packet stays."""

from __future__ import annotations

from engine.imaging.xmp_packet import namespace, without

ATTACHMENT_NAMESPACES = frozenset({
    "http://ns.adobe.com/hdr-gain-map/1.0/",  # hdrgm: Ultra HDR / Adobe gain maps (ISO 21496-1)
    "http://ns.apple.com/HDRGainMap/1.0/",  # Apple's gain map
    "http://ns.google.com/photos/1.0/container/",  # Container:Directory
    "http://ns.google.com/photos/1.0/container/item/",  # its items
    "http://ns.google.com/photos/1.0/depthmap/",  # GDepth
    "http://ns.google.com/photos/1.0/image/",  # GImage
})
_GCAMERA = "http://ns.google.com/photos/1.0/camera/"
_MOTION = frozenset(f"{{{_GCAMERA}}}{name}" for name in (
    "MotionPhoto", "MotionPhotoVersion", "MotionPhotoPresentationTimestampUs",
    "MicroVideo", "MicroVideoVersion", "MicroVideoOffset", "MicroVideoPresentationTimestampUs"))
_EXTENDED = "{http://ns.adobe.com/xmp/note/}HasExtendedXMP"  # the depth map's extended packet is not kept


def _attached(name: str) -> bool:
    return name in _MOTION or name == _EXTENDED or namespace(name) in ATTACHMENT_NAMESPACES


def without_attachments(packet: bytes | None) -> bytes | None:
    """`packet` without what describes a gain map, motion video or depth map; byte for byte when it has
    none, and as it is when it cannot be read."""
    if not packet:
        return packet
    kept = without(packet, _attached)
    return packet if kept is None or kept == packet.rstrip(b"\0") else kept
