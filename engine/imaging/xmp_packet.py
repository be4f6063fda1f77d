"""Reading and re-writing an XMP packet's RDF tree, for the two places that change one (a RAW's packet
without its develop settings, IPTC captions added for formats without IPTC). A packet with nothing to change
is kept byte for byte by the callers; one that is changed keeps its writer's namespace prefixes."""

from __future__ import annotations

import io
import logging
import xml.etree.ElementTree as ET

log = logging.getLogger(__name__)

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_PACKET = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n{}\n<?xpacket end="w"?>'


def parse(packet: bytes) -> tuple[dict[str, str], ET.Element] | None:
    """(the writer's prefixes, the tree) of `packet`, in one pass; None if it is not readable XML."""
    packet = packet.rstrip(b"\0")  # a TIFF tag's bytes may be padded to an even length
    prefixes: dict[str, str] = {}
    root = None
    try:
        for event, item in ET.iterparse(io.BytesIO(packet), events=("start-ns", "start")):
            if event == "start-ns":
                prefixes.setdefault(*item)
            elif root is None:
                root = item
    except ET.ParseError as e:
        log.warning("XMP not readable: %s", e)
        return None
    return prefixes, root


def to_packet(root: ET.Element, prefixes: dict[str, str]) -> bytes:
    """`root` as an XMP packet in UTF-8, with the writer's prefixes (ElementTree would name them ns0, ns1...)."""
    for prefix, uri in prefixes.items():
        if prefix and not prefix.startswith("ns") and prefix != "xml":
            ET.register_namespace(prefix, uri)
    return _PACKET.format(ET.tostring(root, encoding="unicode")).encode("utf-8")
