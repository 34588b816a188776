"""A timeline as an edit: OpenTimelineIO JSON, a CMX 3600 EDL or an FCPXML, read through OTIO's adapters.

The cuts are the boundaries of the items on every video track (a gap counts as a shot of black), in
frames at the timeline's rate; the shot names are the clip names on the top video track; markers from
the timeline, its tracks and its clips are mapped to timeline frames. Nothing is decoded: motion and
colour are unknown (the curve then follows the pace of the cutting and the prompt), and dialogue is
taken from audio clips on tracks or clips named like dialogue (Dialogue, Dial, DX, VO, ADR).
"""

from __future__ import annotations

import itertools
import re
from fractions import Fraction
from typing import Any

from engine_server.errors import InvalidArgument, clip
from engine_server.readers.edit.timeline import Edit, Marker, Shot, check, exact_rate

ADAPTERS = {".otio": "otio_json", ".edl": "cmx_3600", ".fcpxml": "fcpx_xml"}
DIALOGUE_NAME = re.compile(r"(^|[^a-z])(dialog(ue)?|dial|dx|vo|adr|voice)([^a-z]|$)", re.IGNORECASE)
EDL_DEFAULT_RATE = Fraction(24)


def read_timeline(data: bytes, file_name: str, sha256: str, suffix: str, rate_hint: Fraction | None) -> Edit:
    import opentimelineio as otio

    name = f"The timeline {file_name!r}"
    adapter = ADAPTERS[suffix]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidArgument(f"{name} is not text; an {suffix} file is.") from exc
    if adapter == "fcpx_xml":
        from engine_server.readers.edit.fcpxml import ntsc_fcpxml

        own = ntsc_fcpxml(text, file_name, sha256)
        if own is not None:  # the adapter truncates 24000/1001 to 23 fps: read the primary storyline here
            return check(own)
    kwargs: dict[str, Any] = {}
    if adapter == "cmx_3600":
        kwargs["rate"] = float(rate_hint or EDL_DEFAULT_RATE)
    try:
        result = otio.adapters.read_from_string(text, adapter_name=adapter, **kwargs)
    except Exception as exc:  # the adapters raise their own errors, OTIO's, ValueError, XML errors...
        raise InvalidArgument(f"{name} could not be read as {adapter} ({clip(str(exc), 200)}).") from exc
    timeline = _first_timeline(result)
    if timeline is None:
        raise InvalidArgument(f"{name} holds no timeline.")
    return check(_edit(timeline, file_name, sha256, adapter, rate_hint))


def _first_timeline(obj: Any) -> Any:
    import opentimelineio as otio

    if isinstance(obj, otio.schema.Timeline):
        return obj
    if isinstance(obj, otio.schema.SerializableCollection):
        for child in obj:
            found = _first_timeline(child)
            if found is not None:
                return found
    return None


def _rate_of(timeline: Any, name: str, hint: Fraction | None) -> Fraction:
    import opentimelineio as otio

    if hint is not None:
        return exact_rate(hint, name)
    if timeline.global_start_time is not None:
        return exact_rate(timeline.global_start_time.rate, name)
    for c in timeline.find_clips():
        if c.source_range is not None:
            return exact_rate(c.source_range.duration.rate, name)
    dur = timeline.duration()
    if isinstance(dur, otio.opentime.RationalTime) and dur.rate > 1:
        return exact_rate(dur.rate, name)
    raise InvalidArgument(f"{name} does not say its frame rate; give the rate (e.g. --rate 24).")


def _edit(timeline: Any, file_name: str, sha256: str, adapter: str, hint: Fraction | None) -> Edit:
    import opentimelineio as otio

    name = f"The timeline {file_name!r}"
    rate = _rate_of(timeline, name, hint)
    fr = float(rate)

    def frames(t: Any) -> int:
        return round(t.rescaled_to(fr).value)

    start = frames(timeline.global_start_time) if timeline.global_start_time is not None else 0
    try:
        total = frames(timeline.duration())
    except Exception as exc:
        raise InvalidArgument(f"{name} has items whose length cannot be read ({clip(str(exc), 160)}).") from exc
    video = [t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video]
    if not video:
        raise InvalidArgument(f"{name} has no video track: there is no picture to score.")
    bounds: set[int] = set()
    names: list[tuple[int, int, str]] = []  # (start, end, clip name) on the top video track
    for depth, track in enumerate(reversed(video)):  # top track first
        for i, item in enumerate(track):
            if isinstance(item, otio.schema.Transition):
                continue
            r = track.range_of_child_at_index(i)
            a, b = frames(r.start_time), frames(r.end_time_exclusive())
            if b <= a:
                continue
            if isinstance(item, otio.schema.Gap) and depth > 0:
                continue  # a gap on a lower track shows the track above: no cut
            bounds.update((a, b))
            if depth == 0 or not any(x <= a < y for x, y, _ in names):
                names.append((a, b, "" if isinstance(item, otio.schema.Gap) else str(item.name or "")))
    cuts = sorted(b for b in bounds if 0 < b < total)
    edges = [0, *cuts, total]
    shots = []
    for a, b in itertools.pairwise(edges):
        label = next((n for x, y, n in names if x <= a < y and n), "")
        shots.append(Shot(a, b, label))
    markers = _markers(timeline, frames, total)
    dialogue = _dialogue(timeline, frames, rate)
    drop = rate.denominator == 1001 and rate > 25
    return Edit(adapter, file_name, sha256, rate, start, total, tuple(shots), tuple(markers), tuple(dialogue),
                any(t.kind == otio.schema.TrackKind.Audio for t in timeline.tracks), False, (0, 0), drop,
                notes=(f"read with OpenTimelineIO's {adapter} adapter; motion and colour not measured",))


def _markers(timeline: Any, frames: Any, total: int) -> list[Marker]:
    import opentimelineio as otio

    out: list[Marker] = []

    def add(m: Any, start_frame: int) -> None:
        if 0 <= start_frame < total:
            note = str(m.metadata.get("note", "") or m.metadata.get("comment", "")) if m.metadata else ""
            out.append(Marker(start_frame, str(m.name or ""), note, frames(m.marked_range.duration)))

    for m in timeline.tracks.markers:
        add(m, frames(m.marked_range.start_time))
    for track in timeline.tracks:
        for m in track.markers:
            add(m, frames(m.marked_range.start_time))
        for i, item in enumerate(track):
            if isinstance(item, otio.schema.Transition) or not item.markers:
                continue
            r = track.range_of_child_at_index(i)
            src = item.trimmed_range()
            for m in item.markers:
                add(m, frames(r.start_time + (m.marked_range.start_time - src.start_time)))
    return sorted(out, key=lambda m: m.frame)


def _dialogue(timeline: Any, frames: Any, rate: Fraction) -> list[tuple[float, float]]:
    import opentimelineio as otio

    spans: list[tuple[float, float]] = []
    for track in timeline.tracks:
        if track.kind != otio.schema.TrackKind.Audio:
            continue
        whole = bool(DIALOGUE_NAME.search(str(track.name or "")))
        for i, item in enumerate(track):
            if not isinstance(item, otio.schema.Clip):
                continue
            if whole or DIALOGUE_NAME.search(str(item.name or "")):
                r = track.range_of_child_at_index(i)
                spans.append((float(frames(r.start_time) / rate), float(frames(r.end_time_exclusive()) / rate)))
    spans.sort()
    merged: list[tuple[float, float]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1] + 0.3:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((round(a, 3), round(b, 3)))
    return merged
