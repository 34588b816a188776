"""Describe publishes each decoder's options, and the engine accepts what the schema says and refuses the rest.

Hosts build requests from this schema instead of guessing (the Blender panel once sent a sketch under
a key no decoder knows). Limits are checked against the decoders' own validation, so a published
range can never drift from the one enforced.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
from typing import Any

import pytest
from PIL import Image

from engine_server.decoders import registry
from engine_server.decoders.base import DecodeRequest
from engine_server.errors import InvalidArgument
from motif_client import EngineError, MotifClient
from tests.latent_factory import NEUTRAL

KINDS = {"int", "float", "bool", "string", "choice", "image", "midi", "list"}


def _context(decoder: str, option: str, value: Any) -> dict[str, Any]:
    """What an option needs beside it (music: duration_s belongs to cues, and a cue needs a duration_s)."""
    if decoder == "music" and option == "duration_s":
        return {"shape": "cue"}
    if decoder == "score":  # score.otio needs the edit's rate and length (the edit reader sets them)
        return {k: v for k, v in {"rate": [24, 1], "frames": 240}.items() if k != option}
    if decoder == "music" and option == "shape" and value == "cue":
        return {"duration_s": 8.0}
    return {}


def _sketch_b64() -> str:
    """A small colour rough: sky over a dark mass, as a PNG in base64."""
    img = Image.new("RGB", (96, 64), (120, 170, 230))
    img.paste((40, 60, 40), (10, 30, 60, 64))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


@pytest.fixture(scope="module")
def described(engine: Any) -> dict[str, dict[str, Any]]:
    with MotifClient(engine.address) as c:
        return {d["name"]: d for d in c.describe()["decoders"]}


def _validate(decoder: str, options: dict[str, Any]) -> None:
    """The decoder's own check, as the engine runs it before any work."""
    from engine_server.latent import Latent

    registry.get(decoder).validate(DecodeRequest(latent=Latent.from_dict(NEUTRAL), seed=1, options=options))


def test_every_dataclass_option_is_published_with_its_kind(described: dict[str, dict[str, Any]]) -> None:
    assert set(described) == set(registry.names())
    for name, info in described.items():
        spec = registry.get(name).option_spec
        assert [o["name"] for o in info["options"]] == [f.name for f in dataclasses.fields(spec)], name
        for o in info["options"]:
            assert o["kind"] in KINDS and o["doc"], (name, o)
            assert json.dumps(o["default"]) == json.dumps(getattr(spec(), o["name"])), (name, o)
    kinds = {(d, o["name"]): o["kind"] for d, info in described.items() for o in info["options"]}
    assert kinds[("image", "sketch")] == kinds[("video", "sketch")] == "image"
    assert kinds[("music", "melody_midi")] == "midi" and kinds[("music", "shape")] == "choice"
    assert kinds[("mesh", "texture_size")] == kinds[("image", "width")] == "int"
    assert kinds[("video", "duration_s")] == "float" and kinds[("probe", "crash")] == "bool"
    sketch = next(o for o in described["image"]["options"] if o["name"] == "sketch")
    assert sketch["max_bytes"] == 8 * 1024 * 1024 and "base64" in sketch["doc"]


def test_only_the_probe_is_diagnostic(described: dict[str, dict[str, Any]]) -> None:
    assert {n for n, d in described.items() if d["diagnostic"]} == {"probe"}


def test_published_limits_and_choices_are_the_enforced_ones(described: dict[str, dict[str, Any]]) -> None:
    checked = 0
    for name, info in described.items():
        for o in info["options"]:
            base = _context(name, o["name"], None)
            step = 1 if o["kind"] == "int" else 0.25
            if o["min"] is not None and not o["choices"]:
                _validate(name, {**base, o["name"]: _num(o["min"], o["kind"])})
                with pytest.raises(InvalidArgument):
                    _validate(name, {**base, o["name"]: _num(o["min"], o["kind"]) - step})
                checked += 1
            if o["max"] is not None and not o["choices"]:
                _validate(name, {**base, o["name"]: _num(o["max"], o["kind"])})
                with pytest.raises(InvalidArgument):
                    _validate(name, {**base, o["name"]: _num(o["max"], o["kind"]) + step})
                checked += 1
            for choice in o["choices"]:
                _validate(name, {**_context(name, o["name"], choice), o["name"]: int(choice) if o["kind"] == "int"
                                 else choice})
                checked += 1
            if o["choices"]:
                with pytest.raises(InvalidArgument):
                    _validate(name, {**base, o["name"]: 3 if o["kind"] == "int" else "no-such-choice"})
            if o["default"] is not None:
                _validate(name, {**base, o["name"]: o["default"]})
            if o["kind"] in ("int", "float", "bool"):  # a 200 KB wrong value: named, and quoted short
                with pytest.raises(InvalidArgument, match=o["name"]) as err:
                    _validate(name, {**base, o["name"]: "x" * 200_000})
                assert len(err.value.message) < 300 and "200,000 characters" in err.value.message
    assert checked >= 25


def _num(value: float, kind: str) -> float:
    return int(value) if kind == "int" else float(value)


def test_a_sketch_sent_as_published_is_accepted(client: MotifClient, described: dict[str, dict[str, Any]]) -> None:
    """Build the request from Describe alone: the option of kind "image" takes the base64 file."""
    key = next(o["name"] for o in described["image"]["options"] if o["kind"] == "image")
    assert key == "sketch"
    blocker = client.generate("a slow stand-in", seed=301, decoders=["probe"],
                              options={"probe": {"sleep_s": 30, "steps": 300}})
    first = next(blocker)
    try:
        events = client.generate("a harbour sketch", seed=302, decoders=["image"],
                                 options={"image": {key: _sketch_b64(), "width": 320, "height": 180}})
        queued = next(events)  # the engine checked the request (sketch decoded and read) before queuing it
        assert queued.kind == "queued"
        client.cancel(queued.job_id)
        with pytest.raises(EngineError) as err:  # the key the Blender panel used to send
            list(client.generate("a harbour sketch", seed=303, decoders=["image"],
                                 options={"image": {"sketch_png_base64": _sketch_b64()}}))
        assert err.value.code == "INVALID_ARGUMENT" and f"Known: width, height, {key}" in err.value.message
        with pytest.raises(EngineError) as err:  # bytes that are not an image: a sentence, no Python repr
            list(client.generate("a harbour sketch", seed=304, decoders=["image"],
                                 options={"image": {key: base64.b64encode(b"just some notes").decode()}}))
        assert err.value.code == "INVALID_ARGUMENT" and "PNG or JPEG" in err.value.message
        assert "object at 0x" not in err.value.message
    finally:
        client.cancel(first.job_id)
