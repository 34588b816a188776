"""The latent validates itself: every bad value is refused with a sentence naming the field."""

from __future__ import annotations

import pytest

from engine_server.errors import InvalidArgument
from engine_server.latent import FIELDS, Latent
from tests.latent_factory import NEUTRAL, make_latent


def test_round_trip_through_dict() -> None:
    latent = make_latent(key="Bb", mode="Minor")
    again = Latent.from_dict(latent.to_dict())
    assert again == latent
    assert again.key == "A#" and again.mode == "minor"


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("tempo_bpm", 0, "tempo_bpm must be between 40 and 220"),
        ("tempo_bpm", float("nan"), "finite"),
        ("valence", 1.5, "valence must be between -1 and 1"),
        ("key", "H", "key must be one of"),
        ("mode", "lydian-ish", "mode must be one of"),
        ("palette", ["#ffffff"] * 3, "5 to 7 colours"),
        ("palette", ["#ffffff", "red", "#000000", "#111111", "#222222"], "not of the form #rrggbb"),
        ("instruments", {"kazoo": 0.5}, "Unknown instrument"),
        ("instruments", {"piano": 2.0}, "between 0 and 1"),
        ("embedding", [0.0] * 10, "384 values"),
        ("seed", -1, "seed must be between 0"),
        ("seed", "abc", "whole number"),
        ("roughness", "rough", "must be a number"),
    ],
)
def test_bad_values_are_refused_clearly(field: str, value: object, words: str) -> None:
    with pytest.raises(InvalidArgument, match=words):
        make_latent(**{field: value})


def test_pins_replace_fields_and_validate() -> None:
    latent = make_latent()
    pinned = latent.with_fields({"tempo_bpm": 90, "mode": "minor"})
    assert (pinned.tempo_bpm, pinned.mode) == (90.0, "minor")
    assert pinned.palette == latent.palette
    with pytest.raises(InvalidArgument, match="unknown latent field"):
        latent.with_fields({"tempo": 90})
    with pytest.raises(InvalidArgument, match="tempo_bpm"):
        latent.with_fields({"tempo_bpm": 999})


def test_from_dict_names_missing_and_unknown_fields() -> None:
    data = dict(NEUTRAL)
    del data["weather"]
    with pytest.raises(InvalidArgument, match="missing field.*weather"):
        Latent.from_dict(data)
    with pytest.raises(InvalidArgument, match="Unknown latent field.*colour"):
        Latent.from_dict({**NEUTRAL, "colour": "red"})


def test_every_field_is_described() -> None:
    assert set(FIELDS) == set(NEUTRAL)
    assert all(spec.doc for spec in FIELDS.values())
