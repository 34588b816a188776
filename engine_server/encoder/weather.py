"""Weather the prompt did not name is not shown: the latent map's weather, settled against the words.

The latent map guesses a weather from the whole sentence, and some guesses come from association, not
from the words: "a cabin in the woods" leans to snow (p 0.42), "a cozy tavern interior" to snow (0.28).
An artist who asked for an autumn cabin and got falling snow sees the prompt ignored. So:
- indoors, under water and in space there is no weather;
- a weather the prompt names outright (vocabulary.WEATHER_WORDS: "drizzly", "overcast") is shown, the
  most likely of them by the map when it names several;
- otherwise the map's guess stands when it is confident (p >= GUESS_P) or the place implies it (snow in
  a snowy place, dust in the desert), and becomes clear when it is not. Measured on prompts whose weather
  word the list lacks: "a tornado tearing through a town" storm 0.49, "lightning over the city" 0.59,
  "a hazy morning" fog 0.75; association guesses reach 0.42 ("a cabin in the woods").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from engine_server.encoder.mapper import CLEAR_WEATHER_MAX_INTENSITY, NAMED_WEATHER_MIN_INTENSITY
from engine_server.latent import Latent
from engine_server.vocabulary import WEATHER_WORDS

GUESS_P = 0.45
SHELTERED = frozenset({"interior", "underwater", "space"})
IMPLIED_WEATHER = {"snow": "snow", "desert": "dust"}
_NAMES = {w: re.compile(r"\b(?:" + "|".join(re.escape(t) for t in tags) + r")\b") for w, tags in WEATHER_WORDS.items()}


def named_weathers(prompt: str) -> list[str]:
    """The weathers a prompt names outright, in WEATHER_WORDS order."""
    text = prompt.lower()
    return [w for w, pattern in _NAMES.items() if pattern.search(text)]


def settled_weather(weather: str, probs: Mapping[str, float], environment: str, prompt: str) -> str:
    """The weather to show, for the map's choice `weather` (with `probs` per weather) in `environment`."""
    if environment in SHELTERED:
        return "clear"
    named = named_weathers(prompt)
    if named:
        return max(named, key=lambda w: probs.get(w, 0.0))
    if weather == "clear" or IMPLIED_WEATHER.get(environment) == weather:
        return weather
    return weather if probs.get(weather, 0.0) >= GUESS_P else "clear"


def weather_fields(latent: Latent, probs: Mapping[str, float], environment: str, prompt: str) -> dict[str, Any]:
    """Latent field updates when the weather is settled otherwise than the map chose (none when it stands)."""
    weather = settled_weather(latent.weather, probs, environment, prompt)
    if weather == latent.weather:
        return {}
    intensity = latent.weather_intensity
    if weather == "clear":
        intensity = min(intensity, CLEAR_WEATHER_MAX_INTENSITY)
    else:  # as the map does for a weather it chose: named weather should be visible
        intensity = max(intensity, NAMED_WEATHER_MIN_INTENSITY)
    return {"weather": weather, "weather_intensity": intensity}
