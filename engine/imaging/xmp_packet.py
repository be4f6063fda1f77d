"""Reading and re-writing an XMP packet's RDF tree, for the places that change one (a RAW's packet without
its develop settings, a phone photo's without its gain map and motion video, IPTC captions added for formats
without IPTC). A packet with nothing to change
is kept byte for byte by the callers; one that is changed keeps its writer's namespace prefixes."""

from __future__ import annotations

import io
import logging
import xml.etree.ElementTree as ET

log = logging.getLogger(__name__)

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
X = "adobe:ns:meta/"
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


def editable(packet: bytes | None) -> tuple[dict[str, str], ET.Element, ET.Element] | None:
    """(the writer's prefixes, the tree, its rdf:RDF) to add properties to: `packet`'s, or a new empty
    packet's when there is none; None when it cannot be read or has no RDF (log: the caller keeps it)."""
    if not packet:
        root = ET.Element(f"{{{X}}}xmpmeta")
        return {}, root, ET.SubElement(root, f"{{{RDF}}}RDF")
    parsed = parse(packet)  # (which says why when it cannot)
    if parsed is None:
        return None
    rdf = rdf_body(parsed[1])
    if rdf is None:
        log.warning("XMP without an RDF body: left as it is")
        return None
    return parsed[0], parsed[1], rdf


def to_packet(root: ET.Element, prefixes: dict[str, str]) -> bytes:
    """`root` as an XMP packet in UTF-8, with the writer's prefixes (ElementTree would name them ns0, ns1...)."""
    for prefix, uri in prefixes.items():
        if prefix and not prefix.startswith("ns") and prefix != "xml":
            ET.register_namespace(prefix, uri)
    return _PACKET.format(ET.tostring(root, encoding="unicode")).encode("utf-8")


def rdf_body(root: ET.Element) -> ET.Element | None:
    """The rdf:RDF element of a packet's tree (its root, or inside x:xmpmeta)."""
    return root if root.tag == f"{{{RDF}}}RDF" else root.find(f".//{{{RDF}}}RDF")


def property_names(rdf: ET.Element) -> set[str]:
    """Every top-level property of the packet, written as an attribute or as an element."""
    return {name for d in rdf.findall(f"{{{RDF}}}Description") for name in (*d.attrib, *(c.tag for c in d))}


def first_description(rdf: ET.Element) -> ET.Element:
    """Where new properties go: the first rdf:Description (one is added to a packet without any)."""
    found = rdf.find(f"{{{RDF}}}Description")
    return found if found is not None else ET.SubElement(rdf, f"{{{RDF}}}Description", {f"{{{RDF}}}about": ""})


def without(packet: bytes, dropped) -> bytes | None:
    """`packet` without the properties (attributes or elements, at any depth) whose expanded name
    `dropped(name)` picks; byte for byte when none is there. None if it is not readable XMP."""
    parsed = parse(packet)
    if parsed is None:
        return None
    prefixes, root = parsed
    if not any(dropped(n) for element in root.iter() for n in (element.tag, *element.attrib)):
        return packet.rstrip(b"\0")  # nothing to take out: keep it byte for byte
    for element in root.iter():
        for name in [n for n in element.attrib if dropped(n)]:
            del element.attrib[name]
        for child in [c for c in element if dropped(c.tag)]:
            element.remove(child)
    return to_packet(root, prefixes)


def namespace(name: str) -> str:
    """The namespace URI of an expanded name ('{uri}local'), '' for none."""
    return name[1:].split("}", 1)[0] if name.startswith("{") else ""


def merged(base: bytes, newer: bytes) -> bytes | None:
    """`base` with every property of `newer`, which replaces base's own of that name (a sidecar file
    over the photo's packet: the sidecar is what the user's catalogue says now). None if either cannot be read."""
    first, second = parse(base), parse(newer)
    if first is None or second is None:
        return None
    (prefixes, root), (new_prefixes, new_root) = first, second
    rdf, new_rdf = rdf_body(root), rdf_body(new_root)
    if rdf is None or new_rdf is None:
        return None
    about = f"{{{RDF}}}about"
    incoming = [(name, value) for d in new_rdf.findall(f"{{{RDF}}}Description")
                for name, value in d.attrib.items() if name != about]
    elements = [c for d in new_rdf.findall(f"{{{RDF}}}Description") for c in d]
    replaced = {name for name, _ in incoming} | {c.tag for c in elements}
    for description in rdf.findall(f"{{{RDF}}}Description"):
        for name in [n for n in description.attrib if n in replaced]:
            del description.attrib[name]
        for child in [c for c in description if c.tag in replaced]:
            description.remove(child)
    target = first_description(rdf)
    for name, value in incoming:
        target.set(name, value)
    target.extend(elements)
    return to_packet(root, {**prefixes, **new_prefixes})
