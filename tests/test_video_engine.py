"""Rendering in the right place: through a real engine, cancel stops a render fast and leaves nothing,
and a renderer that crashes fails its job while the engine keeps serving."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

from motif_client import EngineError, MotifClient
from tests.latent_factory import NEUTRAL

DUSK = {**NEUTRAL, "time_of_day": "dusk", "weather": "rain", "weather_intensity": 0.5, "geometry_style": "industrial"}


def _staging_empty(engine: Any) -> bool:
    return not any(engine.store.staging_root.iterdir())


def _no_pack_with_seed(engine: Any, seed: int) -> bool:
    return not any(m.get("seed") == seed for m, _ in engine.store.list())


def _until(stream: Iterator[Any], predicate: Any, limit_s: float = 120.0) -> Any:
    deadline = time.monotonic() + limit_s
    for ev in stream:
        if predicate(ev):
            return ev
        assert time.monotonic() < deadline, "the render never reached the expected point"
    raise AssertionError("the job ended before the expected point")


def test_cancel_mid_image_render_stops_within_two_seconds(client: MotifClient, engine: Any) -> None:
    seed = 5101
    stream = client.generate(latent=DUSK, seed=seed, decoders=["image"], quality="final",
                             options={"image": {"width": 1280, "height": 720}})
    job_id = next(stream).job_id
    _until(stream, lambda e: e.kind == "progress" and "rendered band 1/" in e.message)  # now inside band 2
    started = time.monotonic()
    assert client.cancel(job_id) is True
    with pytest.raises(EngineError) as err:
        list(stream)
    stopped = time.monotonic() - started
    assert err.value.code == "CANCELLED"
    assert stopped < 2.0, f"took {stopped:.2f} s to stop"
    assert _staging_empty(engine) and _no_pack_with_seed(engine, seed)


def test_cancel_mid_clip_stops_between_frames(client: MotifClient, engine: Any) -> None:
    seed = 5102
    stream = client.generate(latent={**DUSK, "camera_motion": "static"}, seed=seed, decoders=["video"],
                             options={"video": {"width": 320, "height": 180, "duration_s": 8}})
    job_id = next(stream).job_id
    _until(stream, lambda e: e.kind == "progress" and "video: frame" in e.message)
    started = time.monotonic()
    assert client.cancel(job_id) is True
    with pytest.raises(EngineError) as err:
        list(stream)
    assert err.value.code == "CANCELLED"
    assert time.monotonic() - started < 2.0
    assert _staging_empty(engine) and _no_pack_with_seed(engine, seed)


def test_renderer_crash_fails_the_job_and_the_engine_keeps_serving(client: MotifClient, engine: Any) -> None:
    seed = 5103
    stream = client.generate(latent=DUSK, seed=seed, decoders=["image"], quality="final",
                             options={"image": {"width": 1280, "height": 720}})
    next(stream)
    _until(stream, lambda e: e.kind == "progress" and "rendered band 1/" in e.message)
    worker = engine.jobs.executor.slots[0].process
    os.kill(worker.pid, signal.SIGSEGV)  # what a renderer segfault looks like from outside
    with pytest.raises(EngineError) as err:
        list(stream)
    assert err.value.code == "INTERNAL" and "engine is still running" in err.value.message
    assert _staging_empty(engine) and _no_pack_with_seed(engine, seed)
    events = list(client.generate(latent=NEUTRAL, seed=5104, decoders=["probe"]))
    assert events[-1].kind == "done"
