"""A sketch given with the prompt steers the shared palette, and the pack records what it gave."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from engine_server import pipeline
from engine_server.encoder import get_encoder
from engine_server.errors import InvalidArgument


def _sketch_b64() -> str:
    img = Image.new("RGB", (320, 180), (20, 40, 160))  # blue sky
    img.paste((230, 120, 20), (0, 110, 320, 180))  # orange ground: a horizon at ~40 %
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def _prepare(options: dict) -> pipeline.PreparedJob:
    spec = pipeline.JobSpec(prompt="quiet meadow at noon", seed=1, decoders=("image",), options=options)
    return pipeline.prepare(spec, get_encoder())


def test_sketch_colours_join_the_palette_and_are_recorded() -> None:
    plain = _prepare({})
    sketched = _prepare({"image": {"sketch": _sketch_b64()}})
    assert sketched.latent.palette != plain.latent.palette
    assert sketched.pack_id != plain.pack_id
    record = sketched.request_record["sketch"]
    assert record["chromatic"] is True
    assert 0.25 < record["horizon"] < 0.55


def test_corrupt_sketch_is_refused_before_any_work() -> None:
    broken = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40).decode()
    with pytest.raises(InvalidArgument):
        _prepare({"image": {"sketch": broken}})
