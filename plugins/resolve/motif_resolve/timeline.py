"""Read Resolve's current timeline into the kit's `TimelineDesc` (host-free from there on)."""

from __future__ import annotations

from typing import Any

from . import faults
from .kit import timeline_score as ts


def current_project(resolve: Any) -> Any:
    """The project open in Resolve, or a ResolveFault."""
    if resolve is None:
        raise faults.ResolveFault(faults.scripting_unavailable())
    project = resolve.GetProjectManager().GetCurrentProject()
    if not project:
        raise faults.ResolveFault(faults.no_project())
    return project


def current(resolve: Any) -> tuple[Any, Any]:
    """(project, timeline) open in Resolve, or a ResolveFault saying which is missing."""
    project = current_project(resolve)
    timeline = project.GetCurrentTimeline()
    if not timeline:
        raise faults.ResolveFault(faults.no_timeline(project.GetName()))
    return project, timeline


def _markers(raw: Any) -> list[ts.MarkerDesc]:
    out = []
    for frame, m in sorted((raw or {}).items()):
        if str(m.get("customData", "")).startswith(ts.MARKER_TAG):
            continue  # our own hit markers from an earlier run: not part of the edit
        out.append(ts.MarkerDesc(round(float(frame)), str(m.get("name", "")), str(m.get("note", "")),
                                 max(round(float(m.get("duration", 1))), 1)))
    return out


def _item(item: Any) -> ts.ItemDesc:
    media = item.GetMediaPoolItem()
    path = str(media.GetClipProperty("File Path") or "") if media else ""
    return ts.ItemDesc(str(item.GetName()), int(item.GetStart(False)), int(item.GetEnd(False)), path,
                       int(item.GetSourceStartFrame() or 0), tuple(_markers(item.GetMarkers())))


def describe(project: Any, timeline: Any) -> ts.TimelineDesc:
    """Rate, start, every video track's items (cuts, names, media and source in points), markers, and the
    audio tracks (dialogue is read from their names). Refuses a timeline without video items."""
    rate_text = timeline.GetSetting("timelineFrameRate") or project.GetSetting("timelineFrameRate")
    try:
        rate = ts.parse_rate(rate_text)
    except ValueError as exc:
        raise faults.ResolveFault(str(exc)) from None
    video = [[_item(i) for i in timeline.GetItemListInTrack("video", k) or []]
             for k in range(1, int(timeline.GetTrackCount("video")) + 1)]
    audio = [[_item(i) for i in timeline.GetItemListInTrack("audio", k) or []
              if not str(timeline.GetTrackName("audio", k)).startswith(TRACK_NAME)]
             for k in range(1, int(timeline.GetTrackCount("audio")) + 1)]
    desc = ts.TimelineDesc(str(timeline.GetName()), rate, int(timeline.GetStartFrame()), video,
                           _markers(timeline.GetMarkers()), [a for a in audio if a],
                           str(timeline.GetStartTimecode() or ""))
    if desc.item_count == 0:
        raise faults.ResolveFault(faults.empty_timeline(desc.name))
    return desc


TRACK_NAME = "Motif Score"
