"""What made a result, recorded in its XMP, so the file itself says how it was restored.

A photographer who opens a result months later (or a maintainer reading a bug report's file) can see the
task, model, evaluations, seed, path and strength in any XMP reader (`exiftool -XMP-hourglass:all`), and
Hourglass can save a result again at a lower strength from the strength it records (`hourglass restore
--again`). Two parts, both beside the photo's own XMP, which is kept:

- `hourglass:*` properties, one value each, replaced when a result is restored or saved again;
- one `xmpMM:History` event per save, appended to the photo's history (Photoshop and Lightroom keep theirs
  there), so a result saved again still shows how it was first made.

The namespace is under the reserved `.invalid` domain: the project owns no domain, and an XMP namespace is a
name, never fetched.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime

from engine.imaging.xmp_packet import (
    RDF,
    X,
    editable,
    first_description,
    namespace,
    parse,
    rdf_body,
    to_packet,
    without,
)

log = logging.getLogger(__name__)

NS = "https://hourglass.invalid/xmp/restore/1.0/"
_MM = "http://ns.adobe.com/xap/1.0/mm/"
_EVT = "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#"
_PREFIXES = {"hourglass": NS, "xmpMM": _MM, "stEvt": _EVT, "rdf": RDF, "x": X}
FIELDS = ("Software", "Task", "Detected", "Model", "Evaluations", "Seed", "FullResolution", "Strength", "Photo",
          "PhotoSHA256")


@dataclass(frozen=True)
class Provenance:
    """What to record in a result: `record` (names from FIELDS) and the History event's words."""
    record: dict[str, str] = field(default_factory=dict)
    event: str = ""
    earlier: tuple[dict[str, str], ...] = ()  # a result saved again: the events of the result it came from


def with_provenance(xmp: bytes | None, record: dict[str, str], event: str, when: datetime | None = None,
                    earlier: tuple[dict[str, str], ...] = ()) -> bytes | None:
    """`xmp` (the photo's packet, or None) with `record` (names from FIELDS; empty values left out) as
    `hourglass:` properties in place of any earlier ones, and a History event whose parameters are `event`,
    after the `earlier` events (from `events_of`) the photo's history lacks.
    The photo's packet unchanged when it cannot be read: its properties are worth more than the record."""
    unknown = set(record) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown provenance fields {sorted(unknown)}")
    cleaned = without(xmp, _recorded) if xmp else None  # (None: unreadable)
    found = editable(cleaned) if not xmp or cleaned is not None else None
    if found is None:
        log.warning("The photo's XMP cannot be read; the result does not record how it was made")
        return xmp
    prefixes, root, rdf = found
    target = first_description(rdf)
    for name in FIELDS:
        if record.get(name):
            target.set(f"{{{NS}}}{name}", xml_text(str(record[name])))
    seq = _history(rdf, target)
    if seq is None:
        log.warning("The photo's XMP History is not a list of events; it is kept, without this save's")
        return to_packet(root, {**_PREFIXES, **prefixes})
    present = [_event(li) for li in seq]
    for carried in earlier:
        if carried not in present:
            _append(seq, carried)
    when = (when or datetime.now().astimezone()).isoformat(timespec="seconds")
    _append(seq, {"action": "saved", "when": when, "softwareAgent": xml_text(record.get("Software", "")),
                  "parameters": xml_text(event), "changed": "/"})
    return to_packet(root, {**_PREFIXES, **prefixes})


def without_record(xmp: bytes) -> bytes:
    """`xmp` without `hourglass:` properties: a result saved without a record, of a photo that is itself a
    result, must not pass the photo's record on as its own (its History is the photo's, and stays). An
    unreadable packet is kept as it is."""
    cleaned = without(xmp, _recorded)
    return xmp if cleaned is None else cleaned


def _recorded(name: str) -> bool:
    return namespace(name) == NS


def xml_text(text: str) -> str:
    """`text` as XML can hold it: a file name's undecodable bytes (Linux allows any) as U+FFFD, and the
    control characters XML 1.0 forbids dropped, so that no reader chokes on the packet."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return _NOT_XML.sub("", text)


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _history(rdf: ET.Element, target: ET.Element) -> ET.Element | None:
    """The list of xmpMM:History (the photo's own, wherever it is, or a new one in `target`); None for a
    History written otherwise (a writer's mistake), which is kept as it is rather than replaced."""
    history = rdf.find(f"{{{RDF}}}Description/{{{_MM}}}History")
    if history is None:
        return ET.SubElement(ET.SubElement(target, f"{{{_MM}}}History"), f"{{{RDF}}}Seq")
    return next((c for c in history if c.tag in (f"{{{RDF}}}Seq", f"{{{RDF}}}Bag")), None)


def _append(seq: ET.Element, event: dict[str, str]) -> None:
    item = ET.SubElement(seq, f"{{{RDF}}}li", {f"{{{RDF}}}parseType": "Resource"})
    for name, value in event.items():
        if value:
            ET.SubElement(item, f"{{{_EVT}}}{name}").text = value


def _event(li: ET.Element) -> dict[str, str]:
    """A History event's fields, written as elements or attributes."""
    fields = {k.split("}", 1)[1]: v for k, v in li.attrib.items() if namespace(k) == _EVT}
    description = li.find(f"{{{RDF}}}Description")  # the long form of rdf:parseType="Resource"
    for child in (li if description is None else description):
        if namespace(child.tag) == _EVT and child.text:
            fields[child.tag.split("}", 1)[1]] = child.text.strip()
    return fields


def events_of(xmp: bytes | None) -> tuple[dict[str, str], ...]:
    """The History events Hourglass recorded in a result (to carry into a result saved again from it)."""
    parsed = parse(xmp) if xmp else None
    rdf = rdf_body(parsed[1]) if parsed is not None else None
    seq = rdf.find(f"{{{RDF}}}Description/{{{_MM}}}History/{{{RDF}}}Seq") if rdf is not None else None
    if seq is None:
        return ()
    events = (_event(li) for li in seq.findall(f"{{{RDF}}}li"))
    return tuple(e for e in events if e.get("softwareAgent", "").startswith("Hourglass"))


def made_by_hourglass(xmp: bytes | None) -> str:
    """How Hourglass made this file, when it is one of its results (a photo restored once is not restored
    again unasked: it would be restored twice, a dark photo brightened twice): its last recorded save, as
    "restored p.jpg as low-light … strength 100%, on 2026-12-07"; '' for a photo Hourglass did not save."""
    record = provenance_of(xmp)
    if not record.get("Task"):
        return ""
    events = events_of(xmp)
    if events and events[-1].get("parameters"):
        when = events[-1].get("when", "")[:10]
        return events[-1]["parameters"] + (f", on {when}" if when else "")
    strength = recorded_strength(record)
    return ", ".join(x for x in (f"restored as {record['Task']}", record.get("Model", ""),
                                 f"strength {strength:.0%}" if strength is not None else "") if x)


def provenance_of(xmp: bytes | None) -> dict[str, str]:
    """The `hourglass:` properties a result records (empty for a photo Hourglass did not save)."""
    if not xmp:
        return {}
    parsed = parse(xmp)
    rdf = rdf_body(parsed[1]) if parsed is not None else None
    if rdf is None:
        return {}
    found: dict[str, str] = {}
    for description in rdf.findall(f"{{{RDF}}}Description"):
        for name, value in description.attrib.items():
            if namespace(name) == NS:
                found[name.split("}", 1)[1]] = value
        for child in description:  # a tool that rewrote the packet may have made attributes elements
            if namespace(child.tag) == NS and child.text and len(child) == 0:
                found[child.tag.split("}", 1)[1]] = child.text.strip()
    return found


def recorded_strength(record: dict[str, str]) -> float | None:
    """The strength (0–1) a result records it was saved at; None when it records none readable."""
    try:
        value = float(record["Strength"])
    except (KeyError, ValueError):
        return None
    return value if 0.0 <= value <= 1.0 else None
