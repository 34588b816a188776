"""The engine over real gRPC on loopback, as a plugin sees it."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from engine_server.server import Engine
from motif_client import EngineError, MotifClient
from motif_client.motif_pb import engine_pb2 as pb
from motif_client.motif_pb import engine_pb2_grpc as pb_grpc
from tests.latent_factory import NEUTRAL

PROBE = ["probe"]


def _run(client: MotifClient, **kw: Any) -> list[Any]:
    return list(client.generate(**kw))


def _staging_empty(engine: Any) -> bool:
    return not any(engine.store.staging_root.iterdir())


def test_health_and_reflection(engine: Any) -> None:
    with grpc.insecure_channel(engine.address) as ch:
        health = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service="motif.v1.MotifEngine"))
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        stub = reflection_pb2_grpc.ServerReflectionStub(ch)
        reply = next(stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")])))
        services = {s.name for s in reply.list_services_response.service}
        assert {"motif.v1.MotifEngine", "grpc.health.v1.Health"} <= services


def test_describe_lists_versions_decoders_and_fields(client: MotifClient) -> None:
    info = client.describe()
    assert info["engine_version"]
    assert any("MiniLM" in v for v in info["model_versions"].values())
    probe = next(d for d in info["decoders"] if d["name"] == "probe")
    assert probe["placeholder"] and not probe["default"]
    names = {f["name"] for f in info["latent_fields"]}
    assert {"palette", "tempo_bpm", "valence", "key", "mode", "embedding"} <= names
    assert "cancel" in info["capabilities"]


def test_encode_returns_named_fields_and_honours_pins(client: MotifClient) -> None:
    latent = client.encode("quiet snowy village at dawn", seed=7)
    assert 5 <= len(latent["palette"]) <= 7 and latent["seed"] == 7
    pinned = client.encode("quiet snowy village at dawn", seed=7, pins={"tempo_bpm": 91.0, "mode": "minor"})
    assert pinned["tempo_bpm"] == 91.0 and pinned["mode"] == "minor"
    assert pinned["palette"] == latent["palette"]


def test_generate_streams_events_in_order_and_assets_fetch_intact(client: MotifClient, tmp_path: Path) -> None:
    events = _run(client, prompt="lighthouse in a storm", seed=11, decoders=PROBE, options={"probe": {"steps": 4}})
    kinds = [e.kind for e in events]
    assert kinds[0] == "queued" and kinds[-1] == "done"
    fractions = [e.fraction for e in events if e.kind == "progress"]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any(e.kind == "asset" for e in events)
    manifest = events[-1].manifest
    assert manifest["request"]["prompt"] == "lighthouse in a storm" and manifest["seed"] == 11
    asset = manifest["assets"][0]
    got = client.fetch_asset(manifest["pack_id"], asset["path"], tmp_path / "latent.json")
    assert hashlib.sha256(got.read_bytes()).hexdigest() == asset["sha256"]
    echoed = json.loads(got.read_text())
    assert echoed["latent"] == manifest["latent"]


def test_full_latent_with_pins_is_used_as_given(client: MotifClient) -> None:
    events = _run(client, latent=NEUTRAL, seed=5, decoders=PROBE, pins={"tempo_bpm": 77.0})
    latent = events[-1].manifest["latent"]
    assert latent["tempo_bpm"] == 77.0
    assert latent["palette"] == NEUTRAL["palette"]


def test_same_request_gives_same_pack(client: MotifClient) -> None:
    a = _run(client, prompt="desert market at noon", seed=3, decoders=PROBE)[-1].manifest
    b = _run(client, prompt="desert market at noon", seed=3, decoders=PROBE)[-1].manifest
    c = _run(client, prompt="desert market at noon", seed=4, decoders=PROBE)[-1].manifest
    assert a == b
    assert c["pack_id"] != a["pack_id"]


def test_fetch_resumes_from_an_offset(client: MotifClient, tmp_path: Path) -> None:
    manifest = _run(client, prompt="resume test", seed=1, decoders=PROBE)[-1].manifest
    asset = manifest["assets"][0]
    full = client.fetch_asset(manifest["pack_id"], asset["path"], tmp_path / "full.json").read_bytes()
    part = tmp_path / "resumed.json.part"
    part.write_bytes(full[:100])
    resumed = client.fetch_asset(manifest["pack_id"], asset["path"], tmp_path / "resumed.json", chunk_bytes=1024,
                                 via="stream")  # on loopback "auto" would copy the store file instead
    assert resumed.read_bytes() == full and not part.exists()


@pytest.mark.parametrize(
    ("kwargs", "code", "words"),
    [
        ({"prompt": ""}, "INVALID_ARGUMENT", "prompt is empty"),
        ({"prompt": "   \n "}, "INVALID_ARGUMENT", "prompt is empty"),
        ({"prompt": "x" * (10 * 1024 * 1024)}, "INVALID_ARGUMENT", "the limit is 2,000"),
        ({"prompt": "a forest", "decoders": ["hologram"]}, "INVALID_ARGUMENT", "Unknown decoder 'hologram'"),
        ({"prompt": "a forest", "decoders": PROBE, "pins": {"tempo_bpm": 0.0}}, "INVALID_ARGUMENT", "tempo_bpm"),
        ({"prompt": "a forest", "decoders": PROBE, "pins": {"key": "H"}}, "INVALID_ARGUMENT", "key must be one of"),
        ({"prompt": "a forest", "decoders": PROBE, "options": {"probe": {"colour": 1}}}, "INVALID_ARGUMENT",
         "Unknown probe option"),
        ({"prompt": "a forest", "decoders": PROBE, "options": {"lasers": {}}}, "INVALID_ARGUMENT", "unknown decoder"),
        ({"prompt": "a forest", "decoders": PROBE, "quality": "ultra"}, "INVALID_ARGUMENT", "quality must be"),
        ({"latent": {**NEUTRAL, "palette": []}, "decoders": PROBE}, "INVALID_ARGUMENT", "palette must hold"),
        ({"decoders": PROBE}, "INVALID_ARGUMENT", "Give either a prompt or a full latent"),  # no default prompt
        # a 200 KB bad value is quoted short, so the sentence fits gRPC's 16 KiB status metadata
        ({"prompt": "a forest", "decoders": PROBE, "options": {"probe": {"steps": "x" * 200_000}}},
         "INVALID_ARGUMENT", "steps must be a whole number; got 'xxx"),
        ({"prompt": "a forest", "decoders": ["x" * 200_000]}, "INVALID_ARGUMENT", "(200,000 characters)"),
        ({"prompt": "a forest", "decoders": PROBE, "options": {"probe": {"x" * 200_000: 1}}}, "INVALID_ARGUMENT",
         "Unknown probe option"),
        ({"prompt": "a forest", "decoders": PROBE, "options": {"x" * 200_000: {}}}, "INVALID_ARGUMENT",
         "unknown decoder"),
        ({"latent": {**NEUTRAL, "palette": ["#" + "f" * 200_000] * 5}, "decoders": PROBE}, "INVALID_ARGUMENT",
         "is not of the form #rrggbb"),
    ],
)
def test_bad_requests_get_a_code_and_a_sentence(client: MotifClient, kwargs: dict, code: str, words: str) -> None:
    with pytest.raises(EngineError) as err:
        _run(client, **kwargs)
    assert err.value.code == code
    assert words in err.value.message
    assert len(err.value.message) < 1000


def test_seed_out_of_range_is_refused_by_the_engine(engine: Any) -> None:
    """A raw gRPC client can send any uint64; the engine names the valid range."""
    with grpc.insecure_channel(engine.address) as ch:
        stub = pb_grpc.MotifEngineStub(ch)
        with pytest.raises(grpc.RpcError) as err:
            list(stub.Generate(pb.GenerateRequest(prompt="a forest", seed=2**40, decoders=PROBE)))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "seed must be between 0 and 4294967295" in err.value.details()


def test_seed_that_is_not_an_integer_is_refused_by_the_client(client: MotifClient) -> None:
    with pytest.raises(EngineError, match="whole number"):
        _run(client, prompt="a forest", seed="12a", decoders=PROBE)  # type: ignore[arg-type]


def test_unknown_pin_field_is_refused(client: MotifClient) -> None:
    with pytest.raises(EngineError, match="tempo") as err:
        _run(client, prompt="a forest", decoders=PROBE, pins={"tempo": 3})
    assert err.value.code == "INVALID_ARGUMENT"


def test_missing_pack_asset_and_bad_offset(client: MotifClient, tmp_path: Path) -> None:
    with pytest.raises(EngineError) as err:
        client.get_pack("0" * 24)
    assert err.value.code == "NOT_FOUND" and "no pack" in err.value.message
    manifest = _run(client, prompt="missing asset test", decoders=PROBE)[-1].manifest
    with pytest.raises(EngineError) as err:
        client.fetch_asset(manifest["pack_id"], "music/none.wav", tmp_path / "x")
    assert err.value.code == "NOT_FOUND"
    (tmp_path / "y.part").write_bytes(b"z" * 100_000)  # longer than the asset (the stream resumes from a .part)
    with pytest.raises(EngineError) as err:
        client.fetch_asset(manifest["pack_id"], manifest["assets"][0]["path"], tmp_path / "y", via="stream")
    assert err.value.code == "OUT_OF_RANGE" and "past the end" in err.value.message
    assert not (tmp_path / "y.part").exists()


def test_list_packs_newest_first(client: MotifClient) -> None:
    _run(client, prompt="first listed", decoders=PROBE)
    time.sleep(0.02)
    _run(client, prompt="second listed", decoders=PROBE)
    packs = client.list_packs(limit=2)
    assert [p["prompt"] for p in packs] == ["second listed", "first listed"]


def test_queue_positions_and_cancel_of_queued_and_running_jobs(client: MotifClient, engine: Any) -> None:
    slow = {"probe": {"sleep_s": 20, "steps": 200}}
    first = client.generate(prompt="slow one", seed=101, decoders=PROBE, options=slow)
    second = client.generate(prompt="slow two", seed=102, decoders=PROBE, options=slow)
    ev1 = next(first)
    ev2 = next(second)
    assert (ev1.kind, ev2.kind) == ("queued", "queued")
    assert ev2.position == 1
    # wait until the first is running
    while next(first).kind != "progress":
        pass
    assert client.cancel(ev2.job_id) is False  # still queued
    with pytest.raises(EngineError) as err:
        list(second)
    assert err.value.code == "CANCELLED"
    started = time.monotonic()
    assert client.cancel(ev1.job_id) is True
    with pytest.raises(EngineError) as err:
        list(first)
    assert err.value.code == "CANCELLED"
    assert time.monotonic() - started < 3.0
    assert _staging_empty(engine)
    with pytest.raises(EngineError) as err:
        client.cancel(ev1.job_id)
    assert err.value.code == "FAILED_PRECONDITION" and "already ended (cancelled)" in err.value.message


def test_client_that_asked_for_cancel_on_disconnect_leaves_no_work_or_files(client: MotifClient,
                                                                              engine: Any) -> None:
    stream = client.generate(prompt="abandoned mid-stream", seed=9, decoders=PROBE,
                             options={"probe": {"sleep_s": 20, "steps": 200}}, cancel_on_disconnect=True)
    job_id = next(stream).job_id
    while next(stream).kind != "progress":
        pass
    stream.close()  # the plugin went away
    job = engine.jobs.get(job_id)
    assert job.finished.wait(5), "the job kept running after its client left"
    assert job.state == "cancelled"
    assert _staging_empty(engine)
    assert not any(m["request"].get("prompt") == "abandoned mid-stream" for m, _ in engine.store.list())


def test_deadline_is_honoured(client: MotifClient, engine: Any) -> None:
    with pytest.raises(EngineError) as err:
        _run(client, prompt="too slow", seed=8, decoders=PROBE, options={"probe": {"sleep_s": 20, "steps": 200}},
             timeout_s=1.0, cancel_on_disconnect=True)
    assert err.value.code == "DEADLINE_EXCEEDED"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not _staging_empty(engine):
        time.sleep(0.1)
    assert _staging_empty(engine)


def test_crashing_decoder_fails_the_job_not_the_server(client: MotifClient) -> None:
    with pytest.raises(EngineError) as err:
        _run(client, prompt="crash", seed=13, decoders=PROBE, options={"probe": {"crash": True, "steps": 2}})
    assert err.value.code == "INTERNAL" and "engine is still running" in err.value.message
    events = _run(client, prompt="after the crash", seed=14, decoders=PROBE)
    assert events[-1].kind == "done"


def test_server_down_gives_a_clear_message() -> None:
    with MotifClient("127.0.0.1:1", timeout_s=2) as c, pytest.raises(EngineError) as err:
        c.describe()
    assert err.value.code == "UNAVAILABLE"
    assert "Cannot reach the Motif engine at 127.0.0.1:1" in err.value.message


def test_token_is_required_when_configured(tmp_path: Path) -> None:
    eng = Engine("127.0.0.1:0", store_root=tmp_path / "s", token="s3cret").start()
    try:
        with MotifClient(eng.address) as anon, pytest.raises(EngineError) as err:
            anon.describe()
        assert err.value.code == "UNAUTHENTICATED"
        with MotifClient(eng.address, token="wrong") as bad, pytest.raises(EngineError):
            bad.describe()
        with MotifClient(eng.address, token="s3cret") as ok:
            assert ok.describe()["engine_version"]
        with grpc.insecure_channel(eng.address) as ch:  # health stays open for probes
            assert health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest()).status == 1
    finally:
        eng.stop()


def test_non_loopback_bind_needs_a_token(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="Refusing to listen on 0.0.0.0"):
        Engine("0.0.0.0:0", store_root=tmp_path / "s", load_encoder=False)


def test_concurrent_clients_each_get_their_own_pack(engine: Any) -> None:
    results: dict[int, str] = {}

    def worker(seed: int) -> None:
        with MotifClient(engine.address) as c:
            results[seed] = list(c.generate(prompt="shared engine", seed=seed, decoders=PROBE))[-1].manifest["seed"]

    threads = [threading.Thread(target=worker, args=(s,)) for s in (21, 22, 23)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == {21: 21, 22: 22, 23: 23}
