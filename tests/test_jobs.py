"""Jobs belong to the engine: detach, re-attach from any seq, several watchers, the pack feed, resume.

All against a real engine on loopback (the shared `engine` fixture), with the fast `probe` decoder.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from typing import Any

import pytest

from engine_server.provenance.verify import verify_pack
from motif_client import EngineError, Event, MotifClient

PROBE = ["probe"]
ENGINE_EXECUTOR = "inprocess"  # probe jobs only: no worker process to spawn (conftest.engine)


def _wait_state(client: MotifClient, job_id: str, states: set[str], timeout_s: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        info = next(j for j in client.list_jobs() if j["job_id"] == job_id)
        if info["state"] in states:
            return info
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached {states}; last seen {info}")


def test_detached_job_runs_on_and_watch_from_zero_replays_every_event_once(client: MotifClient,
                                                                           engine: Any) -> None:
    stream = client.generate(prompt="detach me", seed=31, decoders=PROBE,
                             options={"probe": {"sleep_s": 1.5, "steps": 12}})
    seen: list[Event] = []
    for ev in stream:
        seen.append(ev)
        if ev.kind == "progress":
            break
    stream.close()  # the host crashed or the lid closed
    job_id = seen[0].job_id
    running = next(j for j in client.list_jobs() if j["job_id"] == job_id)
    assert running["state"] in {"queued", "running"} and running["prompt"] == "detach me"

    replay = list(client.watch_job(job_id, from_seq=0))
    assert [e.seq for e in replay] == list(range(len(replay))), "every event exactly once, in order"
    assert [(e.kind, e.fraction, e.message) for e in replay[: len(seen)]] == \
        [(e.kind, e.fraction, e.message) for e in seen]
    assert replay[-1].kind == "done" and sum(e.kind == "asset" for e in replay) >= 1
    manifest = replay[-1].manifest
    findings = verify_pack(engine.store.pack_dir(manifest["pack_id"]))
    assert findings and all(f.ok for f in findings), findings
    # a late watcher starting mid-journal gets just the tail
    tail = list(client.watch_job(job_id, from_seq=replay[-3].seq))
    assert [e.seq for e in tail] == [e.seq for e in replay[-3:]]
    assert _wait_state(client, job_id, {"done"})["fraction"] == 1.0


def test_two_watchers_at_once_see_the_same_events(client: MotifClient, engine: Any) -> None:
    first = next(client.generate(prompt="two watchers", seed=32, decoders=PROBE,
                                 options={"probe": {"sleep_s": 1.0, "steps": 10}}))
    results: dict[str, list[Event]] = {}

    def watch(name: str) -> None:
        with MotifClient(engine.address) as c:
            results[name] = list(c.watch_job(first.job_id))

    threads = [threading.Thread(target=watch, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    a, b = results["a"], results["b"]
    assert a == b and a[-1].kind == "done"
    assert [e.seq for e in a] == list(range(len(a)))


def test_pack_feed_shows_a_pack_made_by_another_client(engine: Any) -> None:
    got: list[dict[str, Any]] = []
    ready = threading.Event()

    def watch() -> None:
        with MotifClient(engine.address, client_name="blender") as c:
            feed = c.watch_packs()
            ready.set()
            for summary in feed:
                got.append(summary)
                if summary["prompt"] == "made in unreal":
                    feed.close()
                    return

    watcher = threading.Thread(target=watch)
    watcher.start()
    ready.wait(5)
    time.sleep(0.3)  # the stream is open on the engine
    with MotifClient(engine.address, client_name="unreal") as other:
        done = list(other.generate(prompt="made in unreal", seed=33, decoders=PROBE))[-1]
    watcher.join(10)
    assert not watcher.is_alive(), "the feed never announced the pack"
    summary = got[-1]
    assert summary["pack_id"] == done.manifest["pack_id"]
    assert summary["client"] == "unreal" and summary["decoders"] == ["probe"] and summary["asset_count"] >= 1
    with MotifClient(engine.address) as c:  # last=N replays the newest packs first
        feed = c.watch_packs(last=1)
        assert next(feed)["pack_id"] == done.manifest["pack_id"]
        feed.close()


def test_list_jobs_shows_state_client_and_progress(engine: Any) -> None:
    with MotifClient(engine.address, client_name="resolve") as c:
        events = list(c.generate(prompt="listed job", seed=34, decoders=PROBE))
        info = next(j for j in c.list_jobs() if j["job_id"] == events[0].job_id)
        assert (info["state"], info["client"], info["prompt"], info["fraction"]) == ("done", "resolve",
                                                                                      "listed job", 1.0)
        assert info["next_seq"] == len(events) and info["pack_id"] == events[-1].manifest["pack_id"]
        assert all(j["state"] == "done" for j in c.list_jobs(states=["done"]))
        with pytest.raises(EngineError) as err:
            c.list_jobs(states=["sleeping"])
        assert err.value.code == "INVALID_ARGUMENT" and "unknown job state" in err.value.message.lower()


def test_watch_errors_are_precise(client: MotifClient) -> None:
    with pytest.raises(EngineError) as err:
        list(client.watch_job("0123456789abcdef"))
    assert err.value.code == "NOT_FOUND" and "motif jobs" in err.value.message
    done = list(client.generate(prompt="short journal", seed=35, decoders=PROBE))
    with pytest.raises(EngineError) as err:
        list(client.watch_job(done[0].job_id, from_seq=len(done) + 5))
    assert err.value.code == "OUT_OF_RANGE"
    assert list(client.watch_job(done[0].job_id, from_seq=len(done))) == []


def test_cancelled_job_resumes_as_a_new_job_with_the_same_pack(client: MotifClient) -> None:
    stream = client.generate(prompt="resume me", seed=36, decoders=PROBE,
                             options={"probe": {"sleep_s": 20, "steps": 200}})
    job_id = next(stream).job_id
    stream.close()
    assert client.cancel(job_id) in (True, False)
    assert _wait_state(client, job_id, {"cancelled"})["state"] == "cancelled"
    with pytest.raises(EngineError) as err:
        client.resume_job("feedfacefeedface")
    assert err.value.code == "NOT_FOUND"
    new = client.resume_job(job_id)
    assert new["job_id"] != job_id and new["prompt"] == "resume me"
    first = next(client.watch_job(new["job_id"]))
    assert first.kind == "queued"
    client.cancel(new["job_id"])  # keep the shared worker free
    _wait_state(client, new["job_id"], {"cancelled"})
    quick = list(client.generate(prompt="resume done", seed=37, decoders=PROBE))
    with pytest.raises(EngineError) as err:
        client.resume_job(quick[0].job_id)
    assert err.value.code == "FAILED_PRECONDITION" and quick[-1].manifest["pack_id"] in err.value.message


_KILLED_CLIENT = """
import json, os, sys, time
import grpc
from motif_client.motif_pb import engine_pb2 as pb, engine_pb2_grpc as pb_grpc
channel = grpc.insecure_channel(sys.argv[1])
grpc.channel_ready_future(channel).result(timeout=10)
req = pb.GenerateRequest(prompt=sys.argv[2], seed=38, decoders=["probe"], cancel_on_disconnect=True,
                         options_json=json.dumps({"probe": {"sleep_s": 20, "steps": 100}}))
call = pb_grpc.MotifEngineStub(channel).Generate(req)  # the RPC starts now
time.sleep(float(sys.argv[3]))
os._exit(0)  # killed: no goodbye
"""


@pytest.mark.parametrize("after_s", [0.0, 0.02, 0.5])
def test_client_killed_at_once_with_cancel_on_disconnect_leaves_no_job_running(engine: Any,
                                                                                after_s: float) -> None:
    """The disconnect callback must not race the RPC's start: a job whose client died is cancelled."""
    prompt = f"killed client {after_s}"
    subprocess.run([sys.executable, "-c", _KILLED_CLIENT, engine.address, prompt, str(after_s)], check=True,
                   timeout=60)
    with MotifClient(engine.address) as c:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            mine = [j for j in c.list_jobs() if j["prompt"] == prompt]
            if mine and mine[0]["state"] == "cancelled":
                break
            time.sleep(0.1)
        # the RPC may die before it reaches the engine (no job at all); if it arrived, it must be cancelled
        assert [j["state"] for j in mine] in ([], ["cancelled"]), mine
        if after_s >= 0.5:
            assert mine, "the job should have reached the engine"


def test_old_ended_jobs_are_forgotten_beyond_the_limit(engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Journals do not pile up forever: beyond KEEP_ENDED_JOBS the oldest ended ones go, running ones stay."""
    from engine_server import jobs

    with MotifClient(engine.address) as c:
        for seed in (40, 41, 42):
            list(c.generate(prompt="many jobs", seed=seed, decoders=PROBE))
        newest = c.list_jobs(limit=2)
        monkeypatch.setattr(jobs, "KEEP_ENDED_JOBS", 2)
        engine.jobs._prune()
        assert [j["job_id"] for j in c.list_jobs()] == [j["job_id"] for j in newest]
    kept = {p.name for p in engine.store.jobs.iterdir()}
    assert kept == {j["job_id"] for j in newest}


def test_a_job_record_keeps_uploaded_input_files_for_resume() -> None:
    """An interrupted score job is made again from job.json: the edit's bytes must survive the round trip."""
    import json

    from engine_server.jobs import spec_from_record, spec_record
    from engine_server.pipeline import JobSpec

    spec = JobSpec(prompt=None, seed=4, decoders=("music", "score"),
                   inputs={"edit": {"file_name": "reel.mp4", "data": bytes(range(256)) * 3, "hits": "major"}})
    back = spec_from_record(json.loads(json.dumps(spec_record(spec))))
    assert back.inputs == spec.inputs and back.prompt is None and tuple(back.decoders) == ("music", "score")
