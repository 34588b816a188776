"""The shared creative latent: the one record every decoder reads.

Fields are named and bounded so a person can read, pin and edit them; `FIELDS` is the single
source of truth for names, ranges and choices (the proto, the CLI and validation all use it).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine_server.errors import InvalidArgument, clip, name_list, quote
from engine_server.vocabulary import ENVIRONMENTS, MAX_SUBJECTS, SUBJECTS
from motif_client import rules

EMBEDDING_DIM = 384
SEED_MAX = rules.SEED_MAX

KEYS = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_FLATS = {"Db": "C#", "Eb": "D#", "Gb": "F#", "Ab": "G#", "Bb": "A#", "Cb": "B", "Fb": "E"}
MODES = ("major", "minor")
METERS = ("4/4", "3/4", "6/8")
TIMES_OF_DAY = ("dawn", "morning", "noon", "afternoon", "dusk", "night")
WEATHERS = ("clear", "cloudy", "rain", "storm", "snow", "fog", "dust")
GEOMETRY_STYLES = ("architectural", "industrial", "organic", "natural", "scifi", "medieval")
CAMERA_MOTIONS = ("static", "dolly", "orbit", "crane", "handheld")
ENSEMBLES = (
    "orchestral",
    "cinematic_hybrid",
    "synthwave",
    "lofi",
    "ambient",
    "folk",
    "rock",
    "jazz",
    "electronic",
    "chiptune",
    "piano",
    "choral",
)
INSTRUMENT_FAMILIES = (
    "piano",
    "keys",
    "strings",
    "brass",
    "woodwinds",
    "choir",
    "guitar",
    "plucked",
    "mallets",
    "synth_pad",
    "synth_lead",
    "bass",
    "drums",
    "percussion",
)
PALETTE_MIN, PALETTE_MAX = 5, 7
_HEX = re.compile(r"^#[0-9a-f]{6}$")
MAX_SUBJECT_WORDS = 80
# Fields added with latent v2 (subjects and environments). A v1 latent (a pack.json written before them)
# reads with these values, which the decoders treat exactly as before: to_dict leaves them out while they
# hold them, so v1 latents, their pack ids and their bytes replay unchanged.
V2_DEFAULTS: dict[str, Any] = {"subjects": (), "environment": "open"}


@dataclass(frozen=True)
class FieldSpec:
    """What one latent field holds: its kind, its bounds or choices, and a sentence for people."""

    name: str
    kind: str  # "float" | "choice" | "palette" | "weights" | "embedding" | "int" | "subjects"
    doc: str
    lo: float = 0.0
    hi: float = 1.0
    choices: tuple[str, ...] = ()


FIELDS: dict[str, FieldSpec] = {
    s.name: s
    for s in (
        FieldSpec("palette", "palette", "5-7 colours (#rrggbb) with weights summing to 1"),
        FieldSpec("brightness", "float", "overall key-light level", 0.0, 1.0),
        FieldSpec("contrast", "float", "tonal contrast of light and grade", 0.0, 1.0),
        FieldSpec("saturation", "float", "colour intensity of palette and grade", 0.0, 1.0),
        FieldSpec("warmth", "float", "cool (-1) to warm (+1) colour temperature", -1.0, 1.0),
        FieldSpec("time_of_day", "choice", "sun position and sky", choices=TIMES_OF_DAY),
        FieldSpec("weather", "choice", "weather and particles", choices=WEATHERS),
        FieldSpec("weather_intensity", "float", "how strong the weather is", 0.0, 1.0),
        FieldSpec("valence", "float", "mood from sad/dark (-1) to happy/bright (+1)", -1.0, 1.0),
        FieldSpec("arousal", "float", "energy from calm (0) to intense (1)", 0.0, 1.0),
        FieldSpec("tension", "float", "dissonance and suspense", 0.0, 1.0),
        FieldSpec("tempo_bpm", "float", "musical tempo in beats per minute", 40.0, 220.0),
        FieldSpec("meter", "choice", "time signature", choices=METERS),
        FieldSpec("key", "choice", "tonic pitch class", choices=KEYS),
        FieldSpec("mode", "choice", "major or minor", choices=MODES),
        FieldSpec("ensemble", "choice", "instrument palette / genre", choices=ENSEMBLES),
        FieldSpec("instruments", "weights", "weight per instrument family (0..1)"),
        FieldSpec("roughness", "float", "surface micro-roughness", 0.0, 1.0),
        FieldSpec("metalness", "float", "share of metallic surfaces", 0.0, 1.0),
        FieldSpec("wear", "float", "age, dirt, rust and damage", 0.0, 1.0),
        FieldSpec("geometry_style", "choice", "shape vocabulary of the kit", choices=GEOMETRY_STYLES),
        FieldSpec("density", "float", "how busy and detailed the geometry is", 0.0, 1.0),
        FieldSpec("camera_motion", "choice", "camera move for the clip", choices=CAMERA_MOTIONS),
        FieldSpec("subjects", "subjects",
                  f"what the prompt names, hero first: up to {MAX_SUBJECTS} subject recipes, each with the prompt's "
                  "words that picked it (pin a list of names to choose them)", choices=tuple(SUBJECTS)),
        FieldSpec("environment", "choice", "the place around the kit: medium, ground and sky",
                  choices=tuple(ENVIRONMENTS)),
        FieldSpec("embedding", "embedding", f"raw {EMBEDDING_DIM}-d text embedding (unit length)"),
        FieldSpec("seed", "int", "seed that decides variations", 0, SEED_MAX),
    )
}


@dataclass(frozen=True)
class Swatch:
    color: str  # "#rrggbb"
    weight: float

    def rgb(self) -> tuple[float, float, float]:
        """sRGB in 0..1."""
        return tuple(int(self.color[i : i + 2], 16) / 255.0 for i in (1, 3, 5))  # type: ignore[return-value]


@dataclass(frozen=True)
class Latent:
    """The creative latent. Immutable: edits go through `with_fields`, which validates."""

    palette: tuple[Swatch, ...]
    brightness: float
    contrast: float
    saturation: float
    warmth: float
    time_of_day: str
    weather: str
    weather_intensity: float
    valence: float
    arousal: float
    tension: float
    tempo_bpm: float
    meter: str
    key: str
    mode: str
    ensemble: str
    instruments: Mapping[str, float]
    roughness: float
    metalness: float
    wear: float
    geometry_style: str
    density: float
    camera_motion: str
    embedding: tuple[float, ...] = field(repr=False)
    seed: int = 0
    subjects: tuple[tuple[str, str], ...] = ()  # (recipe name, prompt words) pairs, hero first
    environment: str = "open"

    @property
    def version(self) -> int:
        """2 when the v2 fields say something (subjects named or an environment other than open), else 1."""
        return 2 if any(getattr(self, k) != v for k, v in V2_DEFAULTS.items()) else 1

    @property
    def subject_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.subjects)

    def __post_init__(self) -> None:
        # Normalise every field (rounding included) so that to_dict/from_dict is lossless and a
        # latent read back from pack.json replays to the same bytes.
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, coerce_field(f.name, getattr(self, f.name)))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (the form used in pack.json and `motif encode --json`)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "palette":
                value = [{"color": s.color, "weight": s.weight} for s in value]
            elif f.name == "instruments":
                value = dict(sorted(value.items()))
            elif f.name == "embedding":
                value = list(value)
            elif f.name == "subjects":
                value = [{"name": n, "words": w} for n, w in value]
            if f.name in V2_DEFAULTS and getattr(self, f.name) == V2_DEFAULTS[f.name]:
                continue  # a v1 latent stays byte-for-byte what it was
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Latent:
        unknown = set(data) - set(FIELDS)
        if unknown:
            raise InvalidArgument(f"Unknown latent field(s): {name_list(unknown)}.")
        missing = set(FIELDS) - set(data) - set(V2_DEFAULTS)
        if missing:
            raise InvalidArgument(f"The latent is missing field(s): {', '.join(sorted(missing))}.")
        return cls(**{name: coerce_field(name, data[name] if name in data else V2_DEFAULTS[name]) for name in FIELDS})

    def with_fields(self, changes: Mapping[str, Any]) -> Latent:
        """A copy with `changes` applied (pinned fields); each value is validated first."""
        unknown = set(changes) - set(FIELDS)
        if unknown:
            raise InvalidArgument(
                f"Cannot pin unknown latent field(s): {name_list(unknown)}. "
                f"Known fields: {', '.join(FIELDS)}."
            )
        return dataclasses.replace(self, **{k: coerce_field(k, v) for k, v in changes.items()})


def normalise_key(value: str) -> str:
    key = value.strip()
    key = key[:1].upper() + key[1:]
    return _FLATS.get(key, key)


def coerce_field(name: str, value: Any) -> Any:
    """Convert a JSON/proto value into the field's Python form and check its bounds."""
    try:
        return _coerce_field(name, value)
    except (TypeError, ValueError, OverflowError) as exc:  # e.g. a palette that is a number, a weight that is text
        raise InvalidArgument(f"{name} has the wrong form ({clip(str(exc))}); got {quote(value)}.") from None


def _coerce_field(name: str, value: Any) -> Any:
    spec = FIELDS.get(name)
    if spec is None:
        raise InvalidArgument(f"Unknown latent field: {quote(name)}.")
    if spec.kind == "palette":
        swatches = []
        for item in value:
            if isinstance(item, Swatch):
                swatches.append(item)
            elif isinstance(item, str):
                swatches.append(Swatch(item.lower(), 1.0))
            elif isinstance(item, Mapping):
                swatches.append(Swatch(str(item.get("color", "")).lower(), float(item.get("weight", 1.0))))
            else:
                raise InvalidArgument(
                    f"palette entries must be '#rrggbb' strings or {{color, weight}}; got {quote(item)}."
                )
        total = sum(s.weight for s in swatches)
        if total > 0 and abs(total - 1.0) > 1e-5:  # leave already-normalised weights untouched (idempotent)
            swatches = [Swatch(s.color, round(s.weight / total, 6)) for s in swatches]
        value = tuple(swatches)
    elif spec.kind == "weights":
        if not isinstance(value, Mapping):
            raise InvalidArgument("instruments must be a mapping of family name to weight.")
        value = {str(k): round(float(v), 6) for k, v in value.items()}
    elif spec.kind == "embedding":
        value = tuple(round(float(v), 7) for v in value)
    elif spec.kind == "subjects":
        value = _coerce_subjects(value)
    elif spec.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, str) and re.fullmatch(r"\d+", value.strip()):
                value = int(value)
            else:
                raise InvalidArgument(f"{name} must be a whole number from 0 to {SEED_MAX}; got {quote(value)}.")
    elif spec.kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidArgument(f"{name} must be a number from {spec.lo:g} to {spec.hi:g}; got {quote(value)}.")
        value = round(float(value), 6) if math.isfinite(value) else float(value)
    elif spec.kind == "choice":
        if not isinstance(value, str):
            raise InvalidArgument(f"{name} must be one of {', '.join(spec.choices)}; got {quote(value)}.")
        value = normalise_key(value) if name == "key" else value.strip().lower()
        if name == "environment" and not value:  # proto3's empty string: not set
            value = "open"
    validate_field(name, value)
    return value


def _coerce_subjects(value: Any) -> tuple[tuple[str, str], ...]:
    """Names (a pin: "cabin"), {name, words} mappings (pack.json) or pairs, to (name, words) pairs."""
    if isinstance(value, str | bytes | Mapping):
        raise InvalidArgument(f"subjects must be a list of subject names; got {quote(value)}.")
    out: list[tuple[str, str]] = []
    for item in value:
        if isinstance(item, str):
            name, words = item, ""
        elif isinstance(item, Mapping):
            name, words = item.get("name", ""), item.get("words", "")
        elif isinstance(item, tuple | list) and len(item) == 2:
            name, words = item
        else:
            raise InvalidArgument(f"subjects entries must be names or {{name, words}}; got {quote(item)}.")
        if not isinstance(name, str) or not isinstance(words, str):
            raise InvalidArgument(f"subjects entries must be names or {{name, words}}; got {quote(item)}.")
        out.append((name.strip().lower().replace(" ", "_"), words.strip()[:MAX_SUBJECT_WORDS]))
    return tuple(out)


def validate_field(name: str, value: Any) -> None:
    spec = FIELDS[name]
    if spec.kind in ("float", "int"):
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidArgument(f"{name} must be a finite number; got {quote(value)}.")
        if not spec.lo <= value <= spec.hi:
            raise InvalidArgument(f"{name} must be between {spec.lo:g} and {spec.hi:g} ({spec.doc}); got {value:g}.")
    elif spec.kind == "choice":
        if value not in spec.choices:
            raise InvalidArgument(f"{name} must be one of {', '.join(spec.choices)}; got {quote(value)}.")
    elif spec.kind == "palette":
        if not PALETTE_MIN <= len(value) <= PALETTE_MAX:
            raise InvalidArgument(f"palette must hold {PALETTE_MIN} to {PALETTE_MAX} colours; got {len(value)}.")
        for s in value:
            if not _HEX.match(s.color):
                raise InvalidArgument(f"palette colour {quote(s.color)} is not of the form #rrggbb.")
            if not (math.isfinite(s.weight) and s.weight >= 0):
                raise InvalidArgument(f"palette weight for {s.color} must be a non-negative number.")
    elif spec.kind == "weights":
        unknown = set(value) - set(INSTRUMENT_FAMILIES)
        if unknown:
            raise InvalidArgument(
                f"Unknown instrument famil(ies): {name_list(unknown)}. "
                f"Known: {', '.join(INSTRUMENT_FAMILIES)}."
            )
        for k, w in value.items():
            if not (math.isfinite(w) and 0.0 <= w <= 1.0):
                raise InvalidArgument(f"instrument weight for {k} must be between 0 and 1; got {w:g}.")
    elif spec.kind == "subjects":
        if len(value) > MAX_SUBJECTS:
            raise InvalidArgument(f"subjects holds at most {MAX_SUBJECTS} names; got {len(value)}.")
        unknown = {n for n, _ in value if n not in SUBJECTS}
        if unknown:
            raise InvalidArgument(f"Unknown subject(s): {name_list(unknown)}. Known: {', '.join(SUBJECTS)}.")
        picked = [n for n, _ in value]
        if len(set(picked)) != len(picked):
            raise InvalidArgument(f"subjects names each subject once; got {quote(picked)}.")
    elif spec.kind == "embedding":
        if len(value) != EMBEDDING_DIM:
            raise InvalidArgument(f"embedding must have {EMBEDDING_DIM} values; got {len(value)}.")
        if not all(math.isfinite(v) for v in value):
            raise InvalidArgument("embedding values must be finite numbers.")
