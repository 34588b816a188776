"""The hum reader: a sung or hummed melody becomes the motif the pack is built on (docs/MUSIC.md).

`read_hum(raw)` takes `{"file_name", "data" (bytes) or "path"}`, decodes the audio once (audio.py),
transcribes it with basic-pitch's ONNX model (transcribe.py) and derives the motif (motif.py): the tempo
from the onsets and the key from the pitches. The `HumReading` folds them into the latent unless the
user pinned tempo_bpm / key / mode (then the hum's rhythm, in beats, plays at the pinned tempo and its
tune is re-spelled in the pinned key), gives the music decoder the motif as its `melody` option, and
records the raw transcription, the motif and how each was derived in pack.json under `request.hum`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any

from engine_server.errors import InvalidArgument, quote
from engine_server.latent import FIELDS, Latent
from engine_server.readers.hum.audio import MAX_HUM_BYTES, RATE, decode
from engine_server.readers.hum.motif import Tempo, estimate_hum_key, estimate_tempo, intervals, quantise
from engine_server.readers.hum.transcribe import MODEL_VERSION, HeardNote
from engine_server.readers.hum.transcribe import transcribe as transcribe_audio

KNOWN_KEYS = {"file_name", "data", "path"}
MIN_NOTES = 3
MOTIF_BARS = 4  # the idea the music develops: a hum's first four bars (the rest of a loop develops them)


def fit_motif(motif: list[dict[str, Any]], beats: float) -> list[dict[str, Any]]:
    """The motif's first `beats` beats (the last note kept cut to fit; trailing rests dropped)."""
    out: list[dict[str, Any]] = []
    t = 0.0
    for m in motif:
        if t >= beats - 1e-9:
            break
        out.append({"pitch": m["pitch"], "beats": min(float(m["beats"]), beats - t)})
        t += float(m["beats"])
    while out and out[-1]["pitch"] is None:
        out.pop()
    return out


class HumReading:
    """What the hum gave, and what it contributes to the job."""

    name = "hum"
    decoders: tuple[str, ...] = ()  # the whole pack, as for a prompt alone: its music is built on the tune

    def __init__(self, file_name: str, sha256: str, seconds: float, notes: list[HeardNote]) -> None:
        self.file_name, self.sha256, self.seconds, self.notes = file_name, sha256, seconds, notes
        self.tempo: Tempo = estimate_tempo([n.start_s for n in notes])
        self.key, self.mode, self.key_r, self.key_clarity = estimate_hum_key(notes)
        self.motif = quantise(notes, self.tempo)
        self.used = self.motif
        self.applied: dict[str, Any] = {}
        self.kept: list[str] = []

    def base(self) -> Latent | None:
        return None  # a hum carries a tune, not a scene: the prompt says what the pack is

    def fold(self, latent: Latent, pinned: frozenset[str], prompted: bool = True) -> Latent:
        lo, hi = FIELDS["tempo_bpm"].lo, FIELDS["tempo_bpm"].hi
        wanted: dict[str, Any] = {"tempo_bpm": round(min(max(self.tempo.bpm, lo), hi), 1),
                                  "key": self.key, "mode": self.mode}
        self.applied = {k: v for k, v in wanted.items() if k not in pinned}
        self.kept = sorted(k for k in wanted if k in pinned)
        return latent.with_fields(self.applied) if self.applied else latent

    def options(self, latent: Latent) -> dict[str, dict[str, Any]]:
        from engine_server.decoders.music.plan import BEATS_PER_BAR

        self.used = fit_motif(self.motif, MOTIF_BARS * BEATS_PER_BAR[latent.meter])
        return {"music": {"melody": [dict(m) for m in self.used]}}

    def record(self) -> dict[str, Any]:
        return {
            "file": self.file_name, "sha256": self.sha256, "duration_s": round(self.seconds, 3),
            "transcription": {
                "model": MODEL_VERSION, "runtime": "onnxruntime",
                "notes": [{"start_s": n.start_s, "end_s": n.end_s, "pitch": n.pitch, "midi": n.midi,
                           "amplitude": n.amplitude} for n in self.notes],
                "derived": "basic-pitch note/onset activations, one voice kept, pitch = median contour over the "
                           "note (vibrato and bends folded), repeated pitches split at the voice's gaps",
            },
            "tempo": {"bpm": self.tempo.bpm, "grid_fit": self.tempo.fit,
                      "derived": "onsets against an eighth-note grid, 50-200 BPM, preferring ~110 BPM"},
            "key": {"key": self.key, "mode": self.mode, "r": self.key_r, "clarity": self.key_clarity,
                    "derived": "Krumhansl-Kessler profiles on duration-weighted pitch classes"},
            "latent_from_hum": self.applied, "pinned_kept": self.kept,
            "motif": {
                "melody": self.motif, "melody_used": self.used, "bars_used": MOTIF_BARS,
                "intervals": intervals([int(m["pitch"]) for m in self.motif if m["pitch"] is not None]),
                "derived": "onsets quantised to the eighth grid the tempo was fitted to, from the first note; each "
                           "note lasts to the next onset unless it stops a beat early (then a rest); the music "
                           "develops the first bars (melody_used)",
            },
        }


def read_hum(raw: Any) -> HumReading:
    """Check, decode and transcribe a hum (InvalidArgument before any work when it holds no melody)."""
    if not isinstance(raw, Mapping):
        raise InvalidArgument("The hum input must name a file and carry its bytes or its path.")
    unknown = set(raw) - KNOWN_KEYS
    if unknown:
        raise InvalidArgument(f"Unknown hum field(s): {', '.join(sorted(map(str, unknown)))}.")
    file_name = str(raw.get("file_name") or "")
    data = raw.get("data")
    if raw.get("path") is not None:
        path = Path(raw["path"])
        file_name = file_name or path.name
        if not path.is_file():
            raise InvalidArgument(f"No hum file at {quote(str(path))}.")
        if path.stat().st_size > MAX_HUM_BYTES:
            raise InvalidArgument(f"The hum {file_name!r} is {path.stat().st_size / 1e6:.1f} MB; the limit is "
                                  f"{MAX_HUM_BYTES >> 20} MB.")
        data = path.read_bytes()
    elif isinstance(data, bytes | bytearray | memoryview):
        data = bytes(data)
    else:
        raise InvalidArgument("The hum input carries no audio: give its bytes (or, on the engine's machine, a path).")
    file_name = PurePath(file_name).name or "hum"
    audio = decode(data, file_name)
    notes = transcribe_audio(audio)
    if len(notes) < MIN_NOTES:
        raise InvalidArgument(f"No melody was heard in the hum {file_name!r} ({len(notes)} sung note(s) found; "
                              f"at least {MIN_NOTES} are needed): it sounds like noise or silence. Hum the tune "
                              "clearly, close to the microphone.")
    return HumReading(file_name, hashlib.sha256(data).hexdigest(), len(audio) / RATE, notes)
