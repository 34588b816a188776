"""Score to picture for editing hosts, without the host: a timeline as OTIO, hits as markers.

An editing host (Resolve) reads its timeline into a `TimelineDesc` (rate, start frame, the items of
every video track with their source media and in/out points, markers); `to_otio` writes that as
OpenTimelineIO JSON, the edit `MotifClient.score` sends (OTIO is what the engine reads best from an
editor: exact rate, start timecode, cuts and names, no media to upload). The JSON is written here by
hand because the client package carries only grpcio and protobuf; the engine reads it with
OpenTimelineIO itself, and the tests hold the two together. After the job, `score_markers` turns the
pack's hits into markers (frame offsets from the timeline start, the nearest host colour to the
palette, the hit kind as name, the cut in the note) and `score_audio` / `pack_media` name the files
to import. Nothing here knows a host API.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from .rules import hex_to_linear

MARKER_TAG = "motif-score"  # customData prefix of the markers a score run adds (so a re-run finds its own)
KNOWN_RATES = (Fraction(24000, 1001), Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30),
               Fraction(48), Fraction(50), Fraction(60000, 1001), Fraction(60))

# DaVinci Resolve's marker colours (`MarkerColor` in fusionscript-stubs) as sRGB, read off the
# timeline UI of Resolve 19/20; approximate, but only their order in OKLab matters for "nearest".
RESOLVE_MARKER_RGB: dict[str, str] = {
    "Blue": "#0f6cd9", "Cyan": "#00c8d7", "Green": "#1ca332", "Yellow": "#e8c31c", "Red": "#e0262c",
    "Pink": "#ff4fb1", "Purple": "#8e44d9", "Fuchsia": "#c7186a", "Rose": "#f5a3b5", "Lavender": "#a69be8",
    "Sky": "#8ec8f0", "Mint": "#7ce0b3", "Lemon": "#f0ec7a", "Sand": "#c9a66b", "Cocoa": "#7a4b2d",
    "Cream": "#f3ead2",
}


@dataclass(frozen=True)
class ItemDesc:
    """One item on a video track: record frames are absolute (as the host shows them), source frames are
    in the media's own frames."""

    name: str
    record_in: int
    record_out: int  # exclusive
    source_path: str = ""
    source_in: int = 0
    markers: Sequence[MarkerDesc] = ()


@dataclass(frozen=True)
class MarkerDesc:
    frame: int  # from the start of the thing it is on (timeline or item)
    name: str = ""
    note: str = ""
    duration: int = 1
    color: str = ""


@dataclass(frozen=True)
class TimelineDesc:
    name: str
    rate: Fraction
    start_frame: int
    video_tracks: Sequence[Sequence[ItemDesc]]  # bottom track first, as hosts number them
    markers: Sequence[MarkerDesc] = ()
    audio_tracks: Sequence[Sequence[ItemDesc]] = ()
    start_timecode: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def end_frame(self) -> int:
        ends = [it.record_out for track in self.video_tracks for it in track]
        return max(ends) if ends else self.start_frame

    @property
    def item_count(self) -> int:
        return sum(len(track) for track in self.video_tracks)


def parse_rate(value: Any) -> Fraction:
    """A host's frame rate ("23.976", "29.97", 24, "25.0") as the exact rate it stands for."""
    try:
        x = Fraction(str(value).strip()).limit_denominator(1001)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"The timeline's frame rate {value!r} is not a number.") from None
    for known in KNOWN_RATES:
        if abs(x - known) / known < Fraction(1, 1000):
            return known
    if x <= 0:
        raise ValueError(f"The timeline's frame rate {value!r} is not a frame rate.")
    return x


# ------------------------------------------------------------------ OTIO JSON


def _rt(value: float, rate: Fraction) -> dict[str, Any]:
    return {"OTIO_SCHEMA": "RationalTime.1", "rate": float(rate), "value": float(value)}


def _range(start: float, duration: float, rate: Fraction) -> dict[str, Any]:
    return {"OTIO_SCHEMA": "TimeRange.1", "start_time": _rt(start, rate), "duration": _rt(duration, rate)}


def _marker(m: MarkerDesc, offset: int, rate: Fraction) -> dict[str, Any]:
    return {"OTIO_SCHEMA": "Marker.2", "name": m.name, "metadata": {"note": m.note},
            "color": (m.color or "RED").upper(), "comment": m.note,
            "marked_range": _range(offset + m.frame, max(m.duration, 0), rate)}


def _file_url(path: str) -> str:
    return Path(path).resolve().as_uri() if path else ""


def _track(items: Sequence[ItemDesc], kind: str, name: str, start: int, rate: Fraction) -> dict[str, Any]:
    children: list[dict[str, Any]] = []
    at = start
    for it in sorted(items, key=lambda i: i.record_in):
        if it.record_out <= it.record_in or it.record_in < at:
            continue  # empty or overlapping (hosts do not overlap items on one track)
        if it.record_in > at:
            children.append({"OTIO_SCHEMA": "Gap.1", "name": "", "metadata": {},
                             "source_range": _range(0, it.record_in - at, rate), "effects": [], "markers": [],
                             "enabled": True})
        length = it.record_out - it.record_in
        ref: dict[str, Any] = ({"OTIO_SCHEMA": "ExternalReference.1", "name": Path(it.source_path).name,
                                "target_url": _file_url(it.source_path), "available_range": None, "metadata": {},
                                "available_image_bounds": None}
                               if it.source_path else {"OTIO_SCHEMA": "MissingReference.1", "name": "",
                                                       "available_range": None, "metadata": {},
                                                       "available_image_bounds": None})
        children.append({
            "OTIO_SCHEMA": "Clip.2", "name": it.name, "metadata": {},
            "source_range": _range(it.source_in, length, rate), "effects": [],
            "markers": [_marker(m, it.source_in, rate) for m in it.markers], "enabled": True,
            "media_references": {"DEFAULT_MEDIA": ref}, "active_media_reference_key": "DEFAULT_MEDIA",
        })
        at = it.record_out
    return {"OTIO_SCHEMA": "Track.1", "name": name, "metadata": {}, "source_range": None, "effects": [],
            "markers": [], "enabled": True, "kind": kind, "children": children}


def to_otio(desc: TimelineDesc) -> bytes:
    """The timeline as OpenTimelineIO JSON (`.otio`): tracks in record time from the timeline start, the
    start frame as `global_start_time`, every item's media and source in point, markers where they are."""
    rate, start = desc.rate, desc.start_frame
    tracks = [_track(t, "Video", f"V{i + 1}", start, rate) for i, t in enumerate(desc.video_tracks)]
    tracks += [_track(t, "Audio", f"A{i + 1}", start, rate) for i, t in enumerate(desc.audio_tracks)]
    stack: dict[str, Any] = {
        "OTIO_SCHEMA": "Stack.1", "name": "tracks", "metadata": {}, "source_range": None, "effects": [],
        "markers": [_marker(m, 0, rate) for m in desc.markers], "enabled": True, "children": tracks}
    doc = {"OTIO_SCHEMA": "Timeline.1", "name": desc.name,
           "metadata": {"motif": {"host_start_timecode": desc.start_timecode, **dict(desc.extra)}},
           "global_start_time": _rt(start, rate), "tracks": stack}
    return json.dumps(doc, indent=1).encode("utf-8")


def otio_file_name(desc: TimelineDesc) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in desc.name).strip("_") or "timeline"
    return f"{safe[:60]}.otio"


# ------------------------------------------------------------------ colours


def _oklab(color: str) -> tuple[float, float, float]:
    r, g, b = hex_to_linear(color)
    lms = (0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b,
           0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b,
           0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b)
    l_, m_, s_ = (math.copysign(abs(v) ** (1 / 3), v) for v in lms)
    return (0.2104542553 * l_ + 0.7936177850 * m_ - 0.0040720468 * s_,
            1.9779984951 * l_ - 2.4285922050 * m_ + 0.4505937099 * s_,
            0.0259040371 * l_ + 0.7827717662 * m_ - 0.8086757660 * s_)


def nearest_marker_color(color: str, table: Mapping[str, str] = RESOLVE_MARKER_RGB) -> str:
    """The host marker colour nearest `color` ('#rrggbb') in OKLab (perceptual distance)."""
    target = _oklab(color)
    return min(table, key=lambda name: math.dist(_oklab(table[name]), target))


# ------------------------------------------------------------------ hits -> markers, files


@dataclass(frozen=True)
class HitMarker:
    frame: int  # offset from the timeline start (Resolve's AddMarker frameId)
    color: str
    name: str
    note: str
    custom_data: str


def _hit_color(hit: Mapping[str, Any], edit: Mapping[str, Any], palette: Sequence[str], index: int) -> str:
    cut = hit.get("cut") or {}
    shots = edit.get("shots") or []
    k = cut.get("shot")
    if isinstance(k, int) and 0 <= k < len(shots):
        own = [p.get("color") for p in shots[k].get("palette") or [] if p.get("color")]
        if own:
            return str(own[0])
    if palette:
        return str(palette[(k if isinstance(k, int) else index) % len(palette)])
    return "#e0262c"


def palette_colors(manifest: Mapping[str, Any]) -> list[str]:
    """The pack's palette as '#rrggbb' strings, heaviest first as the latent keeps it."""
    out = []
    for swatch in (manifest.get("latent") or {}).get("palette") or []:
        color = swatch.get("color") if isinstance(swatch, Mapping) else swatch
        if isinstance(color, str) and len(color) == 7 and color.startswith("#"):
            out.append(color)
    return out


def score_markers(manifest: Mapping[str, Any], table: Mapping[str, str] = RESOLVE_MARKER_RGB) -> list[HitMarker]:
    """One marker per hit of a score pack: at the hit's frame from the edit's first frame, coloured by the
    shot's own colour (a video edit) or the pack's palette (nearest host colour), the hit kind as name."""
    edit = (manifest.get("request") or {}).get("edit") or {}
    palette = palette_colors(manifest)
    pack = str(manifest.get("pack_id", ""))
    out = []
    for i, hit in enumerate(edit.get("hits") or []):
        cut = hit.get("cut") or {}
        if cut:
            names = f"{cut.get('from') or '—'} → {cut.get('to') or '—'}"
            note = (f"cut {cut.get('shot')} at {hit.get('timecode', '')} (frame {cut.get('frame')}): {names}"
                    f"{', major' if cut.get('major') else ''}; strength {float(cut.get('strength', 0)):.2f}")
        else:
            note = f"hit at {hit.get('timecode', '')} (frame {hit.get('frame')})"
        out.append(HitMarker(int(hit["frame"]), nearest_marker_color(_hit_color(hit, edit, palette, i), table),
                             str(hit.get("kind", "hit")), f"Motif {note}", f"{MARKER_TAG}:{pack[:12]}:{i}"))
    return out


def _assets(manifest: Mapping[str, Any], role: str, suffix: str = "") -> list[str]:
    return sorted(str(a["path"]) for a in manifest.get("assets", [])
                  if a.get("role") == role and str(a["path"]).endswith(suffix))


def score_audio(pack_dir: Path, manifest: Mapping[str, Any]) -> tuple[Path, list[Path]]:
    """(mix, stems) of a score pack, as files on disk; ValueError when the pack has no mix."""
    mix = _assets(manifest, "music", ".wav")
    if not mix:
        raise ValueError(f"Pack {str(manifest.get('pack_id', ''))[:8]} has no music mix to place.")
    return Path(pack_dir) / mix[0], [Path(pack_dir) / p for p in _assets(manifest, "stem", ".wav")]


def pack_media(pack_dir: Path, manifest: Mapping[str, Any]) -> list[tuple[str, Path]]:
    """(kind, file) of everything an editing host imports from a pack: image, clip, mix, stems."""
    root = Path(pack_dir)
    media: list[tuple[str, Path]] = []
    for a in manifest.get("assets", []):
        mime, path = str(a.get("media_type", "")), str(a["path"])
        if mime.startswith("image/"):
            media.append(("image", root / path))
        elif mime.startswith("video/"):
            media.append(("clip", root / path))
    media += [("mix", root / p) for p in _assets(manifest, "music", ".wav")]
    media += [("stem", root / p) for p in _assets(manifest, "stem", ".wav")]
    return media


def edit_frames(manifest: Mapping[str, Any]) -> int:
    """The length of the scored edit in frames (0 when the pack is not a score)."""
    return int(((manifest.get("request") or {}).get("edit") or {}).get("frames") or 0)
