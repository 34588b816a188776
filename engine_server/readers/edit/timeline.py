"""An edit as plain data: an exact frame rate, a start timecode, shots between cuts, markers, dialogue.

Frame numbers are exact integers and the rate is a Fraction (24000/1001, not 23.976), so a cut's time
is exact too: `frame / rate` seconds. Every reader (video file, OTIO, EDL, FCPXML) produces an `Edit`;
`check` refuses what cannot be scored, before any work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from engine_server.errors import InvalidArgument

# The rates an edit may have (NTSC rates exact).
RATES: dict[Fraction, str] = {
    Fraction(24000, 1001): "23.976", Fraction(24): "24", Fraction(25): "25", Fraction(30000, 1001): "29.97",
    Fraction(30): "30", Fraction(50): "50", Fraction(60000, 1001): "59.94", Fraction(60): "60",
}
MIN_EDIT_S = 4.0  # the shortest cue the music decoder composes
MAX_EDIT_S = 600.0  # the longest: ten minutes (score a longer programme reel by reel)


def exact_rate(value: Any, source: str) -> Fraction:
    """The edit rate as an exact Fraction: a rate within 0.05 % of a known one is taken as that one
    (a container may say 2997/100 or 23.976 for 24000/1001); anything else is refused."""
    try:
        rate = Fraction(value).limit_denominator(1_000_000)
    except (TypeError, ValueError, ZeroDivisionError) as exc:
        raise InvalidArgument(f"{source} has no readable frame rate.") from exc
    for known in RATES:
        if abs(rate - known) <= known * Fraction(5, 10000):
            return known
    raise InvalidArgument(
        f"{source} runs at {float(rate):.3f} frames per second; Motif scores edits at "
        f"{', '.join(RATES.values())} fps. Conform the edit to one of these rates.")


@dataclass(frozen=True)
class Marker:
    frame: int  # from the edit's first frame
    name: str
    note: str = ""
    duration: int = 0


@dataclass(frozen=True)
class Shot:
    """One shot: frames [start, end) from the edit's first frame, and what was measured in it."""

    start: int
    end: int
    name: str = ""
    motion: float | None = None  # mean absolute frame difference of lightness, 0..1 (None: not measured)
    lightness: float | None = None  # mean OKLab L
    chroma: float | None = None  # mean OKLab chroma
    warmth: float | None = None  # -1 cool .. +1 warm, from the mean OKLab a, b
    palette: tuple[tuple[str, float], ...] = ()  # (#rrggbb, share) of this shot
    speech: float = 0.0  # share of the shot under dialogue
    cut_score: float = 0.0  # how hard the cut into this shot is (detector score, 0..1); 0 for the first

    @property
    def frames(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Edit:
    source: str  # "video" | "otio_json" | "cmx_3600" | "fcpx_xml"
    file_name: str
    sha256: str
    rate: Fraction
    start_frame: int  # the first frame's record timecode, as a frame count at `rate`
    frames: int  # length of the edit in frames
    shots: tuple[Shot, ...]
    markers: tuple[Marker, ...] = ()
    dialogue: tuple[tuple[float, float], ...] = ()  # seconds from the edit's start
    has_audio: bool = False
    picture_measured: bool = False  # motion and colour were measured from decoded frames
    size: tuple[int, int] = (0, 0)
    drop_frame: bool = False  # timecodes written drop-frame (29.97 / 59.94 only)
    notes: tuple[str, ...] = field(default=())

    @property
    def cuts(self) -> list[int]:
        """Frames (from the first frame) where a new shot starts."""
        return [s.start for s in self.shots[1:]]

    @property
    def duration_s(self) -> Fraction:
        return self.frames / self.rate

    def seconds(self, frame: int) -> Fraction:
        return frame / self.rate

    def timecode(self, frame: int) -> str:
        """The record timecode of a frame (drop-frame for 29.97 and 59.94)."""
        import opentimelineio as otio

        rt = otio.opentime.RationalTime(self.start_frame + frame, float(self.rate))
        return str(otio.opentime.to_timecode(rt, float(self.rate), self.drop_frame))


def check(edit: Edit) -> Edit:
    """Refuse what cannot be scored, with a sentence saying why (before any work)."""
    name = f"The edit {edit.file_name!r}" if edit.file_name else "The edit"
    seconds = float(edit.duration_s)
    if edit.frames <= 1:
        raise InvalidArgument(f"{name} is {edit.frames} frame long: there is nothing to score.")
    if seconds > MAX_EDIT_S:
        raise InvalidArgument(
            f"{name} lasts {_hms(seconds)}; a cue can last at most {MAX_EDIT_S / 60:g} minutes. "
            "Score a long timeline reel by reel (one edit per cue).")
    if seconds < MIN_EDIT_S:
        raise InvalidArgument(f"{name} lasts {seconds:.2f} s; a cue needs at least {MIN_EDIT_S:g} s of picture.")
    if len(edit.shots) < 2:
        raise InvalidArgument(
            f"{name} has no cut: it is one shot of {seconds:.1f} s, so there is nothing to hit. "
            "Give an edit with at least one cut, or ask `motif generate` for a music cue of that length.")
    return edit


def _hms(seconds: float) -> str:
    h, rem = divmod(round(seconds), 3600)
    m, s = divmod(rem, 60)
    return f"{h} h {m:02d} min {s:02d} s" if h else f"{m} min {s:02d} s"
