"""Build hand-made latents for decoder tests that must not depend on the encoder's judgement."""

from __future__ import annotations

import math
from typing import Any

from engine_server.latent import EMBEDDING_DIM, Latent

NEUTRAL: dict[str, Any] = {
    "palette": [
        {"color": "#2b2d42", "weight": 0.3},
        {"color": "#8d99ae", "weight": 0.25},
        {"color": "#edf2f4", "weight": 0.2},
        {"color": "#ef233c", "weight": 0.15},
        {"color": "#d90429", "weight": 0.1},
    ],
    "brightness": 0.5,
    "contrast": 0.5,
    "saturation": 0.5,
    "warmth": 0.0,
    "time_of_day": "afternoon",
    "weather": "clear",
    "weather_intensity": 0.0,
    "valence": 0.0,
    "arousal": 0.5,
    "tension": 0.3,
    "tempo_bpm": 100.0,
    "meter": "4/4",
    "key": "C",
    "mode": "major",
    "ensemble": "orchestral",
    "instruments": {"strings": 0.8, "piano": 0.5, "bass": 0.6, "percussion": 0.3},
    "roughness": 0.5,
    "metalness": 0.2,
    "wear": 0.3,
    "geometry_style": "architectural",
    "density": 0.5,
    "camera_motion": "dolly",
    "embedding": [1.0 / math.sqrt(EMBEDDING_DIM)] * EMBEDDING_DIM,
    "seed": 0,
    "subjects": [],  # latent v2: what the prompt names (none: the style's kit)
    "environment": "open",
}


def make_latent(**overrides: Any) -> Latent:
    """A valid latent with neutral values; pass fields to change."""
    return Latent.from_dict({**NEUTRAL, **overrides})
