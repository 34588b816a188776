"""FCPXML at NTSC rates, read directly: otio-fcpx-xml-adapter 1.0.0 computes rates as int(24000 / 1001) = 23.

Only for sequences whose format has a 1001-based frame duration (23.976, 29.97, 59.94); other rates go
through the adapter. What is read: the sequence's rate and start timecode, the primary storyline's
items (their offsets and durations are exact rational seconds, so frames are exact), their names, and
the markers on them. Connected clips (lanes) do not make cuts here.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction

from engine_server.errors import InvalidArgument, clip
from engine_server.readers.edit.timeline import Edit, Marker, Shot, exact_rate

ITEMS = ("asset-clip", "clip", "ref-clip", "sync-clip", "mc-clip", "gap", "video", "title", "audition")


def _seconds(value: str | None) -> Fraction:
    if not value:
        return Fraction(0)
    return Fraction(value.rstrip("s"))


def ntsc_fcpxml(text: str, file_name: str, sha256: str) -> Edit | None:
    """The edit of an NTSC-rate FCPXML, or None when the adapter can read it (or the file is not FCPXML)."""
    name = f"The timeline {file_name!r}"
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise InvalidArgument(f"{name} is not valid XML ({clip(str(exc), 160)}).") from exc
    seq = root.find(".//sequence")
    if seq is None:
        return None
    fmt = root.find(f"./resources/format[@id='{seq.get('format')}']")
    frame_duration = _seconds(fmt.get("frameDuration") if fmt is not None else None)
    if frame_duration == 0 or frame_duration.numerator != 1001:
        return None
    rate = exact_rate(1 / frame_duration, name)
    start = _seconds(seq.get("tcStart"))
    spine = seq.find("./spine")
    if spine is None:
        raise InvalidArgument(f"{name} has no storyline (spine) to score.")

    def frames(t: Fraction) -> int:
        return round((t - start) * rate)

    shots: list[Shot] = []
    markers: list[Marker] = []
    for item in spine:
        if item.tag not in ITEMS:
            continue
        a = frames(_seconds(item.get("offset")))
        n = round(_seconds(item.get("duration")) * rate)
        if n <= 0:
            continue
        shots.append(Shot(a, a + n, "" if item.tag == "gap" else str(item.get("name") or "")))
        clip_start = _seconds(item.get("start"))
        for m in item.findall("./marker") + item.findall("./chapter-marker"):
            at = a + round((_seconds(m.get("start")) - clip_start) * rate)
            markers.append(Marker(at, str(m.get("value") or ""), str(m.get("note") or "")))
    if not shots:
        raise InvalidArgument(f"{name} has nothing in its storyline to score.")
    total = shots[-1].end
    return Edit("fcpx_xml", file_name, sha256, rate, round(start * rate), total, tuple(shots), tuple(markers), (),
                False, False, (0, 0), seq.get("tcFormat") == "DF",
                notes=("FCPXML at an NTSC rate: primary storyline read directly (the OTIO adapter rounds the rate)",))
