"""The edit reader: score to picture's input (docs/SCORE.md).

`read_edit(raw)` takes `{"file_name", "data" (bytes) or "path", "hits", "rate"}`, reads the file once (a
video through PyAV and PySceneDetect, a timeline through OpenTimelineIO) and returns an `EditReading`:
its latent curve seeds and folds the latent, and its options make the music decoder compose a cue
exactly as long as the edit with a hit on the cuts, and the score decoder write `score.otio`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path, PurePath
from typing import Any

from engine_server.errors import InvalidArgument, quote
from engine_server.latent import EMBEDDING_DIM, Latent
from engine_server.readers.edit.cue import CuePlan, parse_hits, plan_cue
from engine_server.readers.edit.curve import SOURCES, fold_curve, latent_curve
from engine_server.readers.edit.otio_in import ADAPTERS, read_timeline
from engine_server.readers.edit.timeline import RATES, Edit
from engine_server.readers.edit.video import read_video
from engine_server.store import sha256_file

MAX_EDIT_BYTES = 4 << 30  # a file read on the engine's machine
MAX_EDIT_TEXT_BYTES = 32 << 20  # an OTIO / EDL / FCPXML
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".mkv", ".mxf", ".avi", ".webm", ".mts", ".ts")
KNOWN_KEYS = {"file_name", "data", "path", "hits", "rate"}

# The start of a score when the request has no prompt: a neutral film cue (the picture sets the rest).
FILM_BASE: dict[str, Any] = {
    "palette": ["#1d2331", "#3e4a5c", "#7d8a99", "#c9ced6", "#8a6d4b"], "brightness": 0.5, "contrast": 0.5,
    "saturation": 0.4, "warmth": 0.0, "time_of_day": "dusk", "weather": "clear", "weather_intensity": 0.0,
    "valence": 0.0, "arousal": 0.4, "tension": 0.4, "tempo_bpm": 96.0, "meter": "4/4", "key": "D",
    "mode": "minor", "ensemble": "orchestral", "instruments": {"strings": 0.9, "brass": 0.5, "woodwinds": 0.4},
    "roughness": 0.5, "metalness": 0.1, "wear": 0.2, "geometry_style": "architectural", "density": 0.5,
    "camera_motion": "static", "embedding": [0.0] * EMBEDDING_DIM, "seed": 0,
}


class EditReading:
    """What the edit gave, and what it contributes to the job."""

    name = "edit"
    decoders = ("music", "score")

    def __init__(self, edit: Edit, hits: str | tuple[int, ...]) -> None:
        self.edit = edit
        self.hits_mode = hits
        self.curve: list[dict[str, Any]] = []
        self.folded: dict[str, Any] = {}
        self.prompted = False
        self.plan: CuePlan | None = None

    def base(self) -> Latent:
        return Latent.from_dict(FILM_BASE)

    def fold(self, latent: Latent, pinned: frozenset[str], prompted: bool = True) -> Latent:
        self.prompted = prompted
        self.curve = latent_curve(self.edit, latent, prompted)
        latent, self.folded = fold_curve(latent, self.edit, self.curve, prompted, pinned)
        return latent

    def options(self, latent: Latent) -> dict[str, dict[str, Any]]:
        e = self.edit
        if not self.curve:
            self.curve = latent_curve(e, latent, self.prompted)
        self.plan = plan = plan_cue(e, self.curve, self.hits_mode, latent.tempo_bpm, latent.meter)
        duration = float(e.duration_s)
        music: dict[str, Any] = {
            "shape": "cue", "duration_s": duration,
            "hit_points": [{"time": h["time_s"], "kind": h["kind"]} for h in plan.hits],
            "sections": [{"time_s": s["time_s"], "energy": s["energy"], "role": s["role"]} for s in plan.sections],
            "energy_curve": plan.energy,
        }
        if len(plan.tempo) > 1 or abs(plan.tempo[0][1] - latent.tempo_bpm) > 1e-6:
            music["tempo_map"] = [{"time_s": t, "bpm": b} for t, b in plan.tempo]
        duck = [{"start_s": a, "end_s": b} for a, b in e.dialogue if b - a >= 0.2 and a < duration]
        if duck:
            music["duck"] = duck
        score = {
            "title": PurePath(e.file_name).stem or "edit", "rate": [e.rate.numerator, e.rate.denominator],
            "start_frame": e.start_frame, "frames": e.frames, "drop_frame": e.drop_frame,
            "hits": [{"frame": h["frame"], "kind": h["kind"], "cut": h["cut"]["frame"] if h["cut"] else None}
                     for h in plan.hits],
            "markers": [{"frame": m.frame, "name": m.name, "note": m.note} for m in e.markers],
        }
        return {"music": music, "score": score}

    def record(self) -> dict[str, Any]:
        e = self.edit
        plan = self.plan
        return {
            "file": e.file_name, "sha256": e.sha256, "source": e.source,
            "rate": f"{e.rate.numerator}/{e.rate.denominator}", "fps": RATES[e.rate],
            "start_timecode": e.timecode(0), "start_frame": e.start_frame, "drop_frame": e.drop_frame,
            "frames": e.frames, "duration_s": round(float(e.duration_s), 6),
            "size": list(e.size), "has_audio": e.has_audio, "picture_measured": e.picture_measured,
            "notes": list(e.notes),
            "cuts": e.cuts,
            "shots": [{"start_frame": s.start, "end_frame": s.end, "name": s.name, "motion": s.motion,
                       "lightness": s.lightness, "chroma": s.chroma, "warmth": s.warmth,
                       "palette": [{"color": c, "weight": w} for c, w in s.palette], "speech": s.speech}
                      for s in e.shots],
            "markers": [{"frame": m.frame, "name": m.name, "note": m.note, "duration": m.duration} for m in e.markers],
            "dialogue": [{"start_s": a, "end_s": b} for a, b in e.dialogue],
            "curve": self.curve, "curve_sources": SOURCES, "prompted": self.prompted, "latent_from_edit": self.folded,
            "hits_requested": self.hits_mode if isinstance(self.hits_mode, str) else list(self.hits_mode),
            "hits": plan.hits if plan else [], "hits_skipped": plan.skipped if plan else [],
            "major_cuts": [e.shots[k].start for k in plan.majors] if plan else [],
            "tempo_map": [{"time_s": t, "bpm": b} for t, b in plan.tempo] if plan else [],
            "tempo_alignment": plan.alignment if plan else [],
            "sections": plan.sections if plan else [],
        }


def _rate_hint(value: Any) -> Fraction | None:
    if value in (None, "", 0):
        return None
    try:
        return Fraction(str(value)) if not isinstance(value, float) else Fraction(value)
    except (ValueError, ZeroDivisionError):
        raise InvalidArgument(f"rate must be a frame rate such as 24, 25 or 24000/1001; got {quote(value)}.") from None


def read_edit(raw: Any) -> EditReading:
    """Check and read an edit (InvalidArgument before any work when it cannot be scored)."""
    if not isinstance(raw, Mapping):
        raise InvalidArgument("The edit input must name a file and carry its bytes or its path.")
    unknown = set(raw) - KNOWN_KEYS
    if unknown:
        raise InvalidArgument(f"Unknown edit field(s): {', '.join(sorted(map(str, unknown)))}.")
    hits = parse_hits(raw.get("hits"))
    file_name = str(raw.get("file_name") or "")
    data: bytes | None = raw.get("data")
    path: Path | None = Path(raw["path"]) if raw.get("path") is not None else None
    if path is not None:
        file_name = file_name or path.name
        if not path.is_file():
            raise InvalidArgument(f"No edit file at {quote(str(path))}.")
        size = path.stat().st_size
    elif isinstance(data, bytes | bytearray | memoryview):
        data = bytes(data)
        size = len(data)
    else:
        raise InvalidArgument("The edit input carries no file: give its bytes (or, on the engine's machine, a path).")
    if size == 0:
        raise InvalidArgument(f"The edit {file_name!r} is empty.")
    suffix = PurePath(file_name).suffix.lower()
    if suffix in ADAPTERS:
        if size > MAX_EDIT_TEXT_BYTES:
            raise InvalidArgument(f"The timeline {file_name!r} is {size / 1e6:.0f} MB; the limit is "
                                  f"{MAX_EDIT_TEXT_BYTES >> 20} MB.")
        text = data if data is not None else path.read_bytes()  # type: ignore[union-attr]
        sha = hashlib.sha256(text).hexdigest()
        edit = read_timeline(text, file_name, sha, suffix, _rate_hint(raw.get("rate")))
    elif suffix in VIDEO_SUFFIXES or suffix == "":
        if size > MAX_EDIT_BYTES:
            raise InvalidArgument(f"The video {file_name!r} is {size / 1e9:.1f} GB; the limit is "
                                  f"{MAX_EDIT_BYTES >> 30} GB: score a proxy, or the timeline (OTIO, EDL, FCPXML).")
        source: bytes | Path = data if data is not None else path  # type: ignore[assignment]
        sha = hashlib.sha256(data).hexdigest() if data is not None else sha256_file(source)  # type: ignore[arg-type]
        edit = read_video(source, file_name, sha)
    else:
        raise InvalidArgument(
            f"Cannot tell what kind of edit {file_name!r} is from its name: give a video ({', '.join(VIDEO_SUFFIXES)}),"
            f" an OpenTimelineIO file (.otio), a CMX 3600 EDL (.edl) or an FCPXML (.fcpxml).")
    return EditReading(edit, hits)
