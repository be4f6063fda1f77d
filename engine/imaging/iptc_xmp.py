"""IPTC captions, keywords and credits carried into the XMP of a result whose format has no place for IPTC
(PNG, WebP, AVIF, HEIC). Agency files and older software hold them only as IPTC-IIM; without this, such a
photo restored as a PNG would lose its caption. Each IIM dataset goes to the XMP property the IPTC Core
schema and the Metadata Working Group name for it. Lightroom and exiftool write both and keep them equal,
so a property the XMP already has keeps the XMP's value (the Metadata Working Group's rule)."""

from __future__ import annotations

import logging
import re
import struct
import xml.etree.ElementTree as ET

from engine.imaging.xmp_packet import (
    RDF,
    XML_LANG,
    X,
    editable,
    first_description,
    property_names,
    to_packet,
)

log = logging.getLogger(__name__)

_DC = "http://purl.org/dc/elements/1.1/"
_PS = "http://ns.adobe.com/photoshop/1.0/"
_CORE = "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/"
_PREFIXES = {"x": X, "rdf": RDF, "dc": _DC, "photoshop": _PS, "Iptc4xmpCore": _CORE}

# record 2 dataset → (namespace, property, kind): "alt" a language alternative, "bag"/"seq" a list, "text" one value
_PROPERTIES = {
    5: (_DC, "title", "alt"),  # Object Name
    120: (_DC, "description", "alt"),  # Caption/Abstract
    116: (_DC, "rights", "alt"),  # Copyright Notice
    25: (_DC, "subject", "bag"),  # Keywords
    80: (_DC, "creator", "seq"),  # By-line
    105: (_PS, "Headline", "text"),
    110: (_PS, "Credit", "text"),
    115: (_PS, "Source", "text"),
    40: (_PS, "Instructions", "text"),  # Special Instructions
    85: (_PS, "AuthorsPosition", "text"),  # By-line Title
    122: (_PS, "CaptionWriter", "text"),  # Writer/Editor
    90: (_PS, "City", "text"),
    95: (_PS, "State", "text"),  # Province/State
    101: (_PS, "Country", "text"),  # Country/Primary Location Name
    103: (_PS, "TransmissionReference", "text"),  # Original Transmission Reference
    92: (_CORE, "Location", "text"),  # Sub-location
    100: (_CORE, "CountryCode", "text"),  # Country/Primary Location Code
}
_DATE_CREATED, _TIME_CREATED = 55, 60
_UTF8 = b"\x1b%G"  # record 1 dataset 90 (Coded Character Set): ISO 2022 escape for UTF-8


def datasets(iim: bytes) -> list[tuple[int, int, bytes]]:
    """(record, dataset, value) of every IIM dataset, in order; stops at the first byte that is not one
    (a TIFF tag's padding, a damaged block)."""
    found, at = [], 0
    while at + 5 <= len(iim) and iim[at] == 0x1C:
        record, number, size = iim[at + 1], iim[at + 2], struct.unpack(">H", iim[at + 3:at + 5])[0]
        at += 5
        if size & 0x8000:  # an extended dataset: the next (size & 0x7FFF) bytes hold its length
            width = size & 0x7FFF
            if width > 4 or at + width > len(iim):
                break
            size = int.from_bytes(iim[at:at + width], "big")
            at += width
        if at + size > len(iim):
            break
        found.append((record, number, iim[at:at + size]))
        at += size
    return found


def _text(value: bytes, utf8: bool) -> str:
    """IIM text: UTF-8 where the block says so; else UTF-8 if it decodes (most software writes it without
    saying), else Windows Latin-1, as exiftool and Photoshop read it."""
    value = value.rstrip(b"\0")
    if not utf8:
        try:
            return value.decode("utf-8").strip()
        except UnicodeDecodeError:
            return value.decode("cp1252", "replace").strip()
    return value.decode("utf-8", "replace").strip()


def _date_created(date: str | None, time: str | None) -> str | None:
    """IIM's CCYYMMDD (00 for an unknown month or day) and HHMMSS±HHMM as an XMP date."""
    if not date or not re.fullmatch(r"\d{8}", date):
        return None
    year, month, day = date[:4], date[4:6], date[6:]
    if month == "00":
        return year
    if day == "00":
        return f"{year}-{month}"
    found = re.fullmatch(r"(\d\d)(\d\d)(\d\d)([+-]\d\d)(\d\d)", time or "")
    if not found:
        return f"{year}-{month}-{day}"
    h, m, s, zone_h, zone_m = found.groups()
    return f"{year}-{month}-{day}T{h}:{m}:{s}{zone_h}:{zone_m}"


def iptc_properties(iim: bytes) -> dict[str, tuple[str, list[str]]]:
    """`{"{namespace}property": (kind, values)}` for the IIM datasets that have an XMP property."""
    found = datasets(iim)
    utf8 = any(r == 1 and n == 90 and v.startswith(_UTF8) for r, n, v in found)
    props: dict[str, tuple[str, list[str]]] = {}
    dates: dict[int, str] = {}
    for record, number, value in found:
        if record != 2:
            continue
        text = _text(value, utf8)
        if not text:
            continue
        if number in (_DATE_CREATED, _TIME_CREATED):
            dates.setdefault(number, text)
        elif number in _PROPERTIES:
            ns, name, kind = _PROPERTIES[number]
            values = props.setdefault(f"{{{ns}}}{name}", (kind, []))[1]
            if kind in ("bag", "seq") or not values:  # a repeated single-valued dataset: the first counts
                values.append(text)
    date = _date_created(dates.get(_DATE_CREATED), dates.get(_TIME_CREATED))
    if date:
        props[f"{{{_PS}}}DateCreated"] = ("text", [date])
    return props


def _add(description: ET.Element, tag: str, kind: str, values: list[str]) -> None:
    element = ET.SubElement(description, tag)
    if kind == "text":
        element.text = values[0]
        return
    container = ET.SubElement(element, f"{{{RDF}}}{'Alt' if kind == 'alt' else kind.capitalize()}")
    for value in values:
        item = ET.SubElement(container, f"{{{RDF}}}li")
        item.text = value
        if kind == "alt":
            item.set(XML_LANG, "x-default")


def with_iptc(xmp: bytes | None, iim: bytes | None) -> bytes | None:
    """`xmp` with the IPTC properties it lacks added from `iim` (a new packet when there is no XMP). Kept
    byte for byte when it lacks none, and as it is when it cannot be read (better than losing it)."""
    props = iptc_properties(iim) if iim else {}
    if not props:
        return xmp
    found = editable(xmp)
    if found is None:
        return xmp
    prefixes, root, rdf = found
    present = property_names(rdf)
    missing = {tag: kind_values for tag, kind_values in props.items() if tag not in present}
    if not missing:
        return xmp
    description = first_description(rdf)
    for tag, (kind, values) in missing.items():
        _add(description, tag, kind, values)
    return to_packet(root, {**_PREFIXES, **prefixes})
