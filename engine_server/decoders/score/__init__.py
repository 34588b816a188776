"""The `score` decoder: `score.otio`, the cue laid against the edit for any editor that reads OpenTimelineIO.

It runs after the music decoder in a score-to-picture job (engine_server/readers/edit gives it its
options): one audio track with the mix, one per stem, each a clip as long as the edit at the edit's
own rate and start timecode, and a marker per hit (its kind as the name, the cut it serves in the
metadata). Media references are relative to the pack folder (`music/mix.wav`), so the pack can move.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from engine_server.decoders.base import Asset, DecodeContext, DecodeRequest, OutputSpec, check_options, option
from engine_server.errors import FailedPrecondition, InvalidArgument

OTIO_PATH = "score.otio"
MARKER_COLOURS = {"accent": "RED", "swell": "ORANGE", "drop": "BLUE"}


@dataclass(frozen=True)
class ScoreOptionSpec:
    """Options of the score decoder (set by the edit reader; `motif score` fills them in)."""

    title: str = option("edit", "the edit's name, for the timeline")
    rate: Sequence[Any] | None = option(None, "the edit's frame rate as [numerator, denominator]", kind="list")
    start_frame: int = option(0, "the edit's start timecode as a frame count", lo=0)
    frames: int | None = option(None, "the edit's length in frames", lo=1)
    drop_frame: bool = option(False, "timecodes are drop-frame (29.97 / 59.94)")
    hits: Sequence[Any] | None = option(None, "[{frame, kind, cut}] hit points in edit frames", kind="list")
    markers: Sequence[Any] | None = option(None, "[{frame, name, note}] the edit's own markers (kept as metadata)",
                                           kind="list")


def _check(options: dict[str, Any]) -> tuple[Fraction, int]:
    check_options("score", ScoreOptionSpec, options)  # kinds and limits as declared
    rate = options.get("rate")
    frames = options.get("frames")
    if not (isinstance(rate, list | tuple) and len(rate) == 2 and all(isinstance(x, int) and x > 0 for x in rate)):
        raise InvalidArgument("The score decoder writes score.otio for an edit: run it with `motif score EDIT` "
                              "(score option rate must be [numerator, denominator]).")
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 1:
        raise InvalidArgument("score option frames must be the edit's length in frames.")
    for h in options.get("hits") or []:
        if not isinstance(h, dict) or not isinstance(h.get("frame"), int) or not 0 <= h["frame"] < frames:
            raise InvalidArgument("score option hits must be {frame, kind, cut} objects inside the edit.")
    return Fraction(rate[0], rate[1]), frames


class ScoreDecoder:
    name = "score"
    summary = "score to picture: score.otio with the cue and stems on audio tracks and the hits as markers"
    reads = frozenset({"seed"})
    writes = (OutputSpec("timeline", "application/vnd.opentimelineio+json",
                         "OpenTimelineIO: the mix and stems on audio tracks, a marker per hit"),)
    after: tuple[str, ...] = ("music",)
    placeholder = False
    diagnostic = False
    option_spec = ScoreOptionSpec

    def validate(self, request: DecodeRequest) -> None:
        _check(dict(request.options))

    def estimate_seconds(self, request: DecodeRequest) -> float:
        return 0.05

    def decode(self, request: DecodeRequest, ctx: DecodeContext) -> list[Asset]:
        import opentimelineio as otio

        opts = dict(request.options)
        rate, frames = _check(opts)
        music = ctx.upstream.get("music")
        if not music:
            raise FailedPrecondition("score.otio lays the music cue against the edit: run the music decoder with it.")
        fr = float(rate)
        zero = otio.opentime.RationalTime(0, fr)
        length = otio.opentime.TimeRange(zero, otio.opentime.RationalTime(frames, fr))
        timeline = otio.schema.Timeline(name=f"Motif score - {opts.get('title', 'edit')}",
                                        global_start_time=otio.opentime.RationalTime(opts.get("start_frame", 0), fr))
        timeline.metadata["motif"] = {"rate": [rate.numerator, rate.denominator], "drop_frame": opts.get("drop_frame"),
                                      "edit_markers": list(opts.get("markers") or []), "seed": request.seed}
        for a in sorted(music, key=lambda a: (a.role != "music", a.path)):
            if a.role not in ("music", "stem"):
                continue
            label = "Motif score (mix)" if a.role == "music" else f"Motif stem: {a.meta.get('part', a.path)}"
            ref = otio.schema.ExternalReference(target_url=a.path, available_range=length)
            ref.metadata["motif"] = {"role": a.role, "sample_rate": a.meta.get("sample_rate"),
                                     "duration_s": a.meta.get("duration_s")}
            track = otio.schema.Track(name=label, kind=otio.schema.TrackKind.Audio)
            track.append(otio.schema.Clip(name=label, media_reference=ref, source_range=length))
            timeline.tracks.append(track)
        for i, h in enumerate(opts.get("hits") or []):
            kind = str(h.get("kind", "accent"))
            marker = otio.schema.Marker(
                name=kind, marked_range=otio.opentime.TimeRange(otio.opentime.RationalTime(h["frame"], fr),
                                                                otio.opentime.RationalTime(0, fr)),
                color=getattr(otio.schema.MarkerColor, MARKER_COLOURS.get(kind, "RED")))
            marker.metadata["motif"] = {"hit": i + 1, "kind": kind, "frame": h["frame"], "cut_frame": h.get("cut"),
                                        "time_s": round(float(Fraction(h["frame"]) / rate), 6)}
            timeline.tracks.markers.append(marker)
        ctx.path(OTIO_PATH).write_text(otio.adapters.write_to_string(timeline, "otio_json"), encoding="utf-8")
        ctx.progress(1.0, "score.otio written")
        n_hits = len(opts.get("hits") or [])
        return [Asset("timeline", OTIO_PATH, "application/vnd.opentimelineio+json",
                      {"frames": frames, "rate": f"{rate.numerator}/{rate.denominator}", "hits": n_hits})]
