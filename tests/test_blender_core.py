"""The shared host kit (motif_client: runner, tasks, packinfo, engine_process) that the Blender
extension vendors, without any host: the job runner on both workers (a thread, and the host's tick)
against a real engine on loopback, re-attach after a detach, the pack feed, the task state machine,
pack reading and layout, the local-engine supervisor, and the client vendoring script."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Generator, Iterator, Mapping
from pathlib import Path
from typing import Any, cast

import pytest

from motif_client import MotifClient, engine_process, packinfo, rules, runner, tasks
from motif_client.errors import EngineError
from motif_client.runner import Busy, GenerateSpec, JobRunner, TickWorker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import vendor_client  # noqa: E402

PROBE = ["probe"]
SLOW = {"probe": {"sleep_s": 20, "steps": 200}}
WORKERS = ["thread", "tick"]


def factory(address: str, token: str | None, timeout_s: float) -> MotifClient:
    return MotifClient(address, token=token, timeout_s=timeout_s, client_name="blender")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_runner(address: str, cache: Path, worker: str) -> JobRunner:
    return JobRunner(factory, address, cache_dir=cache, worker=TickWorker(0.05) if worker == "tick" else None,
                     client_name="blender")


@pytest.fixture(params=WORKERS)
def runner_(request: pytest.FixtureRequest, engine: Any, tmp_path: Path) -> Iterator[JobRunner]:
    r = make_runner(engine.address, tmp_path / "packs", request.param)
    yield r
    r.stop_feed()
    if r.busy:
        r.cancel()
        r.wait_idle(10)


@pytest.fixture()
def thread_runner(engine: Any, tmp_path: Path) -> Iterator[JobRunner]:
    r = make_runner(engine.address, tmp_path / "packs", "thread")
    yield r
    if r.busy:
        r.cancel()
        r.wait_idle(10)


def _seed(r: JobRunner, base: int) -> int:
    """A seed per worker kind: the same request twice would come back from the engine's cache."""
    return base + (1000 if isinstance(r.worker, TickWorker) else 0)


def _kinds(events: list[runner.UIEvent]) -> list[str]:
    return [e.kind for e in events]


def _motif_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith(runner.THREAD_PREFIX)}


def _until(r: JobRunner, pred: Any, timeout_s: float = 30.0) -> list[runner.UIEvent]:
    seen: list[runner.UIEvent] = []
    deadline = time.monotonic() + timeout_s
    while not pred(seen) and time.monotonic() < deadline:
        seen += r.poll()
        time.sleep(0.02)
    assert pred(seen), f"timed out; saw {_kinds(seen)}"
    return seen


# ------------------------------------------------------------------ runner, on both workers


def test_generate_streams_progress_then_a_downloaded_pack(runner_: JobRunner) -> None:
    threads_before = _motif_threads()
    runner_.generate(GenerateSpec(prompt="lighthouse in a storm", seed=_seed(runner_, 11), decoders=PROBE,
                                  options={"probe": {"steps": 5, "sleep_s": 0.5}}), context={"scene": "Scene"})
    assert runner_.busy
    slowest = 0.0
    events: list[runner.UIEvent] = []
    deadline = time.monotonic() + 60
    while runner_.busy and time.monotonic() < deadline:
        started = time.monotonic()
        events += runner_.poll()
        slowest = max(slowest, time.monotonic() - started)
        time.sleep(0.02)
    kinds = _kinds(events)
    assert kinds[-1] == "pack", events[-1]
    assert {"status", "describe", "queued", "progress", "download"} <= set(kinds)
    fractions = [e.fraction for e in events if e.kind in ("progress", "download")]
    assert fractions == sorted(fractions) and fractions[-1] <= runner.DOWNLOAD_END
    seqs = [e.data["seq"] for e in events if e.kind in ("queued", "progress")]
    assert seqs == sorted(set(seqs)), "each engine event once, in order"
    pack = events[-1].data
    manifest = pack["manifest"]
    pack_dir = Path(pack["pack_dir"])
    assert manifest["request"]["prompt"] == "lighthouse in a storm" and manifest["seed"] == _seed(runner_, 11)
    assert packinfo.pack_is_complete(pack_dir, manifest)
    assert not runner_.busy and runner_.poll() == []
    if isinstance(runner_.worker, TickWorker):
        assert _motif_threads() == threads_before, "the tick worker starts no thread of its own"
        assert slowest < 1.0, f"a tick blocked the host for {slowest:.2f} s"
    jobs = MotifClient(runner_.address).list_jobs(limit=5)
    assert any(j["job_id"] == pack["job_id"] and j["client"] == "blender" for j in jobs)


def test_cancel_mid_job_stops_the_engine_job_and_downloads_nothing(runner_: JobRunner, engine: Any) -> None:
    runner_.generate(GenerateSpec(prompt="cancel me", seed=_seed(runner_, 2), decoders=PROBE, options=SLOW))
    seen = _until(runner_, lambda s: any(e.kind == "progress" for e in s))
    job_id = next(e.data["job_id"] for e in seen if e.kind == "queued")
    started = time.monotonic()
    assert runner_.cancel() is True
    events = runner_.wait_idle(15)
    assert _kinds(events)[-1] == "cancelled" and "nothing was imported" in events[-1].message
    assert time.monotonic() - started < 4.0
    job = engine.jobs.get(job_id)
    assert job.finished.wait(5) and job.state == "cancelled"
    assert not any((runner_.cache_dir or Path()).glob("*/pack.json"))


def test_reattach_after_a_detach_gets_every_later_event_once_and_the_pack(runner_: JobRunner) -> None:
    """Another client starts a job and detaches after its first progress event (it closes its stream);
    the job runs on, and the runner re-attaches from the next seq and downloads the pack."""
    with MotifClient(runner_.address, client_name="cli") as c:
        slow = {"probe": {"steps": 8, "sleep_s": 1.6}}
        stream = cast(Generator[Any, None, None],
                      c.generate("tide pools at noon", seed=_seed(runner_, 5), decoders=PROBE, options=slow))
        first = [next(stream)]
        while first[-1].kind != "progress":
            first.append(next(stream))
        stream.close()  # detach: the job runs on
    job_id, last = first[-1].job_id, first[-1].seq
    runner_.reattach(job_id, last + 1, context={"prompt": "tide pools at noon"})
    assert runner_.job_id == job_id
    events = runner_.wait_idle(60)
    assert _kinds(events)[-1] == "pack", events[-1]
    seqs = [e.data["seq"] for e in events if e.kind in ("queued", "progress")]
    assert seqs and seqs[0] == last + 1 and seqs == list(range(last + 1, last + 1 + len(seqs))), seqs
    assert {e.data["job_id"] for e in events if "job_id" in e.data} == {job_id}
    pack = events[-1].data
    assert pack["manifest"]["request"]["prompt"] == "tide pools at noon"
    assert packinfo.pack_is_complete(Path(pack["pack_dir"]), pack["manifest"])


def test_detach_leaves_the_job_running_and_reattach_picks_it_up(thread_runner: JobRunner, engine: Any) -> None:
    thread_runner.generate(GenerateSpec(prompt="a quiet mill", seed=3, decoders=PROBE,
                                        options={"probe": {"steps": 6, "sleep_s": 1.2}}))
    _until(thread_runner, lambda s: any(e.kind == "progress" for e in s))
    job_id, next_seq = thread_runner.job_id, thread_runner.next_seq
    assert job_id and thread_runner.detach() == job_id and not thread_runner.busy
    assert thread_runner.poll() == [], "a detached task's events are dropped"
    assert engine.jobs.get(job_id).state in ("queued", "running"), "detaching never cancels"
    thread_runner.reattach(job_id, next_seq)
    events = thread_runner.wait_idle(60)
    assert _kinds(events)[-1] == "pack" and events[-1].data["manifest"]["request"]["prompt"] == "a quiet mill"


def test_reattach_to_an_unknown_job_says_so(runner_: JobRunner) -> None:
    runner_.reattach("0123456789abcdef", 0)
    events = runner_.wait_idle(20)
    assert events[-1].kind == "error" and events[-1].code == "NOT_FOUND", events[-1]


def test_feed_sees_a_pack_made_by_another_client(runner_: JobRunner) -> None:
    assert runner_.watch_feed(last=0, poll_s=0.2) and runner_.feeding
    assert not runner_.watch_feed(last=0), "one feed at a time"
    time.sleep(0.5)  # the feed is listening
    runner_.poll()
    with MotifClient(runner_.address, client_name="cli") as c:
        events = list(c.generate("salt flats under stars", seed=_seed(runner_, 21), decoders=PROBE))
    done = [e for e in events if e.kind == "done"]
    pack_id = done[0].manifest["pack_id"]
    seen = _until(runner_, lambda s: any(e.kind == "feed" and e.data["pack"]["pack_id"] == pack_id for e in s))
    row = next(e.data["pack"] for e in seen if e.kind == "feed" and e.data["pack"]["pack_id"] == pack_id)
    assert row["prompt"] == "salt flats under stars" and row["client"] == "cli" and row["seed"] == _seed(runner_, 21)
    runner_.stop_feed()
    deadline = time.monotonic() + 5
    while runner_.feeding and time.monotonic() < deadline:
        runner_.poll()
        time.sleep(0.05)
    assert not runner_.feeding
    assert not [e for e in runner_.poll() if e.kind == "feed_error"], "stopping is not an error"


def test_only_one_task_at_a_time(thread_runner: JobRunner) -> None:
    thread_runner.generate(GenerateSpec(prompt="slow", seed=1, decoders=PROBE, options=SLOW))
    with pytest.raises(Busy, match="still working"):
        thread_runner.describe()
    thread_runner.cancel()
    assert _kinds(thread_runner.wait_idle(15))[-1] == "cancelled"


@pytest.mark.parametrize("worker", WORKERS)
def test_engine_down_gives_a_clear_error(tmp_path: Path, worker: str) -> None:
    port = free_port()
    r = make_runner(f"127.0.0.1:{port}", tmp_path / "packs", worker)
    r.generate(GenerateSpec(prompt="nobody home", decoders=PROBE))
    events = r.wait_idle(20)
    assert events[-1].kind == "error" and events[-1].code == "UNAVAILABLE"
    assert f"Cannot reach the Motif engine at 127.0.0.1:{port}" in events[-1].message
    assert not (tmp_path / "packs").exists() or not any((tmp_path / "packs").iterdir())


def test_unknown_modality_is_refused_before_any_work(thread_runner: JobRunner) -> None:
    thread_runner.generate(GenerateSpec(prompt="a forest", decoders=["hologram"]))
    events = thread_runner.wait_idle(20)
    assert events[-1].kind == "error"
    assert "has no 'hologram' decoder" in events[-1].message and "probe" in events[-1].message


def test_server_error_reaches_the_ui_as_a_sentence(thread_runner: JobRunner) -> None:
    thread_runner.generate(GenerateSpec(prompt="crash", decoders=PROBE,
                                        options={"probe": {"crash": True, "steps": 2}}))
    events = thread_runner.wait_idle(60)
    assert events[-1].kind == "error" and events[-1].code == "INTERNAL"
    assert "engine is still running" in events[-1].message


def test_describe_and_encode(thread_runner: JobRunner) -> None:
    thread_runner.describe()
    events = thread_runner.wait_idle(20)
    assert events[-1].kind == "described" and "Connected: Motif engine" in events[-1].message
    thread_runner.encode("quiet snowy village at dawn", 7, pins={"tempo_bpm": 91.0})
    events = thread_runner.wait_idle(20)
    latent = events[-1].data["latent"]
    assert events[-1].kind == "encoded" and latent["tempo_bpm"] == 91.0 and 5 <= len(latent["palette"]) <= 7


def test_cancel_when_the_engine_never_answers_still_frees_the_ui(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A hung engine: the UI gives up waiting after the grace period; late events are ignored."""
    release = threading.Event()

    class Hung:
        def describe(self) -> dict[str, Any]:
            release.wait(30)
            return {"decoders": [{"name": "probe"}]}

        def close(self) -> None:
            pass

    monkeypatch.setattr(runner, "CANCEL_GRACE_S", 0.3)
    r = JobRunner(lambda *a: Hung(), "127.0.0.1:9", cache_dir=tmp_path)  # type: ignore[arg-type,return-value]
    r.generate(GenerateSpec(prompt="x", decoders=PROBE))
    time.sleep(0.1)
    r.cancel()
    events = r.wait_idle(5)
    assert events[-1].kind == "cancelled" and not r.busy
    release.set()
    time.sleep(0.2)
    assert r.poll() == []  # the stuck worker's late events are dropped


# ------------------------------------------------------------------ the task state machine


class RecordingHost:
    """A host with no UI: its "importer" checks every downloaded file against pack.json's sha256."""

    def __init__(self) -> None:
        self.reports: list[tuple[str, str]] = []
        self.remembered: list[Mapping[str, Any] | None] = []
        self.imported_packs: list[str] = []

    def notify(self, level: str, message: str) -> None:
        self.reports.append((level, message))

    def refresh(self, progress_text: str | None) -> None:
        pass

    def on_event(self, ev: runner.UIEvent, context: Mapping[str, Any]) -> None:
        pass

    def begin_import(self, pack_dir: Path, manifest: Mapping[str, Any], context: Mapping[str, Any]) -> Any:
        host = self

        class Verify:
            def steps(self) -> Iterator[tuple[float, str]]:
                assets = manifest["assets"]
                for i, a in enumerate(assets):
                    digest = hashlib.sha256((Path(pack_dir) / a["path"]).read_bytes()).hexdigest()
                    assert digest == a["sha256"]
                    yield (i + 1) / len(assets), f"checked {a['path']}"

            def abort(self) -> None:
                host.imported_packs.append("aborted")

        return Verify()

    def imported(self, job: Any, manifest: Mapping[str, Any], pack_dir: Path, context: Mapping[str, Any]) -> str:
        self.imported_packs.append(str(manifest["pack_id"]))
        return f"Imported {manifest['pack_id'][:8]}."

    def remember_job(self, context: Mapping[str, Any], job: Mapping[str, Any] | None) -> None:
        self.remembered.append(job)


def _tick_until_idle(session: tasks.TaskSession, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if session.tick() is None:
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out; status {session.status}")


@pytest.mark.parametrize("worker", WORKERS)
def test_session_generates_imports_and_remembers_the_job_until_imported(engine: Any, tmp_path: Path,
                                                                         worker: str) -> None:
    host = RecordingHost()
    session = tasks.TaskSession(host, make_runner(engine.address, tmp_path / "packs", worker))
    session.start("generate", {"scene": "S"}, spec=GenerateSpec(prompt="harbour cranes", seed=_seed(session.runner, 4),
                                                                 decoders=PROBE,
                                                                 options={"probe": {"steps": 3}}))
    assert session.busy() and session.status.text == "Starting…"
    with pytest.raises(Busy):
        session.start("describe", {})
    _tick_until_idle(session)
    assert session.status.level == "INFO" and session.status.text.startswith("Imported "), session.status
    assert session.status.fraction == 1.0 and not session.busy()
    jobs = [j for j in host.remembered if j is not None]
    assert jobs and len({j["job_id"] for j in jobs}) == 1 and host.remembered[-1] is None, host.remembered
    assert [j["seq"] for j in jobs] == sorted(j["seq"] for j in jobs)
    assert host.imported_packs and host.reports[-1][0] == "INFO"


def test_session_detach_keeps_the_job_remembered_and_cancel_forgets_it(engine: Any, tmp_path: Path) -> None:
    host = RecordingHost()
    session = tasks.TaskSession(host, make_runner(engine.address, tmp_path / "packs", "thread"))
    session.start("generate", {}, spec=GenerateSpec(prompt="dune sea", seed=8, decoders=PROBE, options=SLOW))
    deadline = time.monotonic() + 30
    while not any(host.remembered) and time.monotonic() < deadline:
        session.tick()
        time.sleep(0.02)
    job_id = session.detach()
    assert job_id and host.remembered[-1] is not None and host.remembered[-1]["job_id"] == job_id
    assert not session.busy() and session.tick() is None
    session.start("reattach", {}, job_id=job_id, from_seq=int(host.remembered[-1]["seq"]) + 1)
    while session.runner.next_seq <= int(host.remembered[-1]["seq"]) + 1 and time.monotonic() < deadline:
        session.tick()
        time.sleep(0.02)
    assert session.cancel()
    _tick_until_idle(session, 20)
    assert session.status.level == "WARNING" and "Cancelled" in session.status.text
    assert host.remembered[-1] is None
    assert engine.jobs.get(job_id).state == "cancelled"


# ------------------------------------------------------------------ Describe, as the engine publishes it


def test_modalities_and_sketch_targets_come_from_the_real_describe(client: MotifClient) -> None:
    info = client.describe()
    offered = [d["name"] for d in packinfo.offered_decoders(info)]
    assert "probe" not in offered and {"mesh", "music", "image", "video"} <= set(offered)
    targets = packinfo.sketch_targets(info, ["mesh", "music", "image", "probe"])
    assert targets == {"image": "sketch"}, targets  # the image decoder's image-kind option
    assert packinfo.sketch_targets(info, ["mesh", "music"]) == {}


def test_subjects_text_round_trips_through_the_real_describe_and_encode(client: MotifClient) -> None:
    """A panel's "Lighthouse, well" is a subjects pin the engine obeys; Describe lists the names to offer."""
    info = client.describe()
    field = next(f for f in info["latent_fields"] if f["name"] == "subjects")
    assert field["kind"] == "subjects" and len(field["choices"]) == 64 and "lighthouse" in field["choices"]
    environment = next(f for f in info["latent_fields"] if f["name"] == "environment")
    assert environment["kind"] == "choice" and "open" in environment["choices"]
    latent = client.encode("a quiet evening", seed=3, pins={"subjects": packinfo.subjects_value("Lighthouse, well")})
    assert [s["name"] for s in latent["subjects"]] == ["lighthouse", "well"]
    assert packinfo.subjects_text(latent["subjects"]) == "lighthouse, well"
    held = [{"name": "cabin", "words": "log cabin"}]
    assert packinfo.subjects_value("cabin, lamp post", held) == [{"name": "cabin", "words": "log cabin"}, "lamp_post"]
    assert packinfo.subjects_value(" , ") == [] and packinfo.subjects_text(None) == ""
    assert packinfo.field_value(latent, "environment") == "open", "proto3's empty environment is open"
    assert packinfo.field_value({}, "subjects") == [] and packinfo.field_value({}, "tempo_bpm") is None
    offered = packinfo.complete_subjects("lighthouse, we", field["choices"])
    assert offered[0] == "lighthouse, well" and "lighthouse, tower" in offered
    rest = packinfo.complete_subjects("Lighthouse, ", field["choices"])
    assert len(rest) == 63 and "Lighthouse, lighthouse" not in rest
    with pytest.raises(EngineError, match="Unknown subject") as refused:
        client.encode("a quiet evening", seed=3, pins={"subjects": packinfo.subjects_value("lighthouse, dragon")})
    assert refused.value.code == "INVALID_ARGUMENT"


# ------------------------------------------------------------------ packinfo and rules


def test_address_policy() -> None:
    def problem(address: str, online: bool) -> str | None:
        return packinfo.address_problem(address, online, "Blender", "allow it")

    assert problem("127.0.0.1:50051", False) is None
    assert problem("localhost:50051", False) is None
    assert problem("[::1]:50051", False) is None
    remote = problem("10.0.0.5:50051", False)
    assert remote and "Blender's online access is off" in remote and remote.endswith("allow it.")
    assert problem("10.0.0.5:50051", True) is None
    bad = problem("localhost", True)
    assert bad and "HOST:PORT" in bad


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


@pytest.mark.parametrize("n", [1, 2, 5, 9])
def test_kit_layout_is_on_grid_and_never_overlaps(n: int) -> None:
    items = [packinfo.KitItem(f"m{i}.glb", 0.5 + (i % 3) * 1.3, 0.4 + (i % 2) * 2.1) for i in range(n)]
    spots = packinfo.layout_kit(items, grid=2.0)
    assert set(spots) == {it.path for it in items}
    boxes = []
    for it in items:
        x, y, z = spots[it.path]
        assert z == 0.0
        boxes.append((x - it.width / 2, x + it.width / 2, y - it.depth / 2, y + it.depth / 2))
    for i in range(n):
        for j in range(i + 1, n):
            assert not _overlaps(boxes[i], boxes[j])
    xs = [b for box in boxes for b in box[:2]]
    assert abs(max(xs) + min(xs)) < max(it.width for it in items) + 2.0  # roughly centred


def test_kit_footprints_come_from_metadata_before_measurement() -> None:
    manifest = {"assets": [
        {"role": "mesh", "path": "mesh/a.glb", "meta": {"footprint": [2.0, 1.0], "grid": 0.5}},
        {"role": "mesh", "path": "mesh/b.glb", "meta": {}},
        {"role": "mesh", "path": "mesh/c.glb"},
    ]}
    kit = {"assets": [{"path": "mesh/c.glb", "position": [1.0, 0.0, 2.0]}]}
    grid, meta = packinfo.kit_info(manifest, kit)
    items = {it.path: it for it in packinfo.kit_items(meta, {"mesh/b.glb": (3.0, 4.0)})}
    assert grid == 0.5
    assert (items["mesh/a.glb"].width, items["mesh/a.glb"].depth) == (2.0, 1.0)
    assert (items["mesh/b.glb"].width, items["mesh/b.glb"].depth) == (3.0, 4.0)
    assert items["mesh/c.glb"].position == (1.0, -2.0, 0.0)  # glTF (x, y up, z) -> +Z up (x, -z, y)
    spots = packinfo.layout_kit(list(items.values()), grid)
    assert spots["mesh/c.glb"] == (1.0, -2.0, 0.0)


def test_world_light_follows_time_of_day_brightness_and_palette() -> None:
    base = {"palette": [{"color": "#ff8800", "weight": 0.5}, {"color": "#ffffff", "weight": 0.5},
                        {"color": "#000000", "weight": 0.0}], "brightness": 0.8, "warmth": 0.5}
    noon = packinfo.world_light({**base, "time_of_day": "noon"})
    night = packinfo.world_light({**base, "time_of_day": "night"})
    dim = packinfo.world_light({**base, "time_of_day": "noon", "brightness": 0.1})
    assert noon.strength > dim.strength > 0 and noon.strength > night.strength
    assert night.sun_elevation_deg < 0 < noon.sun_elevation_deg
    r, _g, b = noon.sky
    assert r > b  # an orange-and-white, warm palette gives a warm sky
    assert all(0.0 <= c <= 1.0 for c in (*noon.sky, *noon.sun_color))


def test_srgb_curve_is_the_engines() -> None:
    """Hosts use the numpy-free curve; the engine its numpy one: the same numbers."""
    import numpy as np

    from engine_server.oklab import srgb_to_linear

    xs = [i / 255 for i in range(256)]
    ours = [rules.srgb_to_linear(x) for x in xs]
    assert np.allclose(ours, srgb_to_linear(np.array(xs, dtype=np.float64)), rtol=0, atol=1e-12)
    assert rules.hex_to_linear("#ffffff") == (1.0, 1.0, 1.0)


def test_seed_rule() -> None:
    assert rules.seed_problem(0) is None and rules.seed_problem(rules.SEED_MAX) is None
    for bad in (-1, rules.SEED_MAX + 1, 1.5, True, "3"):
        assert "seed must be" in str(rules.seed_problem(bad))
    assert rules.parse_seed(" 42 ") == 42
    with pytest.raises(ValueError, match="whole number"):
        rules.parse_seed("forty")


def test_regenerate_only_pins_every_field_and_keeps_the_seed() -> None:
    manifest = {"request": {"prompt": "harbour", "quality": "final", "options": {"music": {"bars": 8}}},
                "seed": 4_000_000_000, "latent": {"tempo_bpm": 90.0, "mode": "minor", "seed": 4_000_000_000}}
    spec = packinfo.regenerate_spec(manifest, ["music"])
    assert spec.prompt == "harbour" and spec.seed == 4_000_000_000 and spec.quality == "final"
    assert spec.pins == {"tempo_bpm": 90.0, "mode": "minor"} and list(spec.decoders) == ["music"]
    assert spec.options == {"music": {"bars": 8}}
    from_latent = packinfo.regenerate_spec({"request": {}, "seed": 3, "latent": {"mode": "major"}}, ["image"])
    assert from_latent.prompt is None and from_latent.latent == {"mode": "major"}


def test_pack_titles_fit_a_name_limit() -> None:
    name = packinfo.pack_title({"pack_id": "abcdef0123456789", "request": {"prompt": "ü" * 300}}, 63)
    assert len(name.encode()) <= 63 and name.endswith("[abcdef01]")


def test_read_pack_takes_a_pack_json_or_its_folder_and_refuses_what_is_not_one(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    (pack / "music").mkdir(parents=True)
    (pack / "music" / "a.wav").write_bytes(b"RIFF1234")
    manifest = {"pack_id": "feedbeef", "assets": [{"role": "music", "path": "music/a.wav", "bytes": 8}]}
    (pack / "pack.json").write_text(json.dumps(manifest))
    assert packinfo.read_pack(pack) == (pack, manifest)
    assert packinfo.read_pack(pack / "pack.json") == (pack, manifest)
    with pytest.raises(ValueError, match="not a Motif pack: pick its pack.json"):
        packinfo.read_pack(tmp_path / "nowhere")
    (tmp_path / "other.json").write_text('{"hello": 1}')
    with pytest.raises(ValueError, match="no pack_id or assets"):
        packinfo.read_pack(tmp_path / "other.json")
    (pack / "music" / "a.wav").write_bytes(b"RIFF")
    with pytest.raises(ValueError, match="incomplete: music/a.wav"):
        packinfo.read_pack(pack)


# ------------------------------------------------------------------ local engine


def test_local_engine_serves_and_stops(tmp_path: Path) -> None:
    """'Start local engine': a real `motif serve` child, reachable, stopped on request; a second start
    on the same address finds it listening and starts nothing."""
    port = free_port()
    address = f"127.0.0.1:{port}"
    eng = engine_process.LocalEngine(engine_process.split_command(f"{sys.executable} -m engine_server.cli"),
                                     address, tmp_path / "engine.log",
                                     extra_env={"MOTIF_STORE": str(tmp_path / "store"), "PYTHONPATH": str(ROOT)})
    eng.start()
    try:
        with MotifClient(address) as c:
            c.wait_ready(60)
            assert c.describe()["engine_version"]
        assert engine_process.start_local("motif-does-not-exist-anywhere", address, tmp_path / "x.log") is None
    finally:
        eng.stop()
    assert not eng.running()
    assert "listening on 127.0.0.1" in (tmp_path / "engine.log").read_text()


def test_local_engine_refusals_are_explained(tmp_path: Path) -> None:
    with pytest.raises(engine_process.EngineStartError, match="Cannot find the engine command"):
        engine_process.split_command("motif-does-not-exist-anywhere")
    with pytest.raises(engine_process.EngineStartError, match="this computer only"):
        engine_process.start_local("motif", "10.0.0.5:50051", tmp_path / "log")
    with pytest.raises(engine_process.EngineStartError, match="HOST:PORT"):
        engine_process.start_local("motif", "nonsense", tmp_path / "log")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_local_engine_dies_with_its_host(tmp_path: Path) -> None:
    """The host process is killed outright (no atexit): the kernel still takes the engine down."""
    host = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from motif_client.engine_process import LocalEngine;"
        "e = LocalEngine([sys.executable, '-c', 'import time; time.sleep(120)'], '127.0.0.1:1', sys.argv[2]);"
        "e.start(); print(e.pid, flush=True);"
        "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    )
    out = subprocess.run([sys.executable, "-c", host, str(ROOT), str(tmp_path / "log")],
                         capture_output=True, text=True, timeout=60)
    child = int(out.stdout.split()[0])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail("the engine outlived its host")


# ------------------------------------------------------------------ vendoring


def test_vendor_client_copies_the_one_source_and_detects_drift(tmp_path: Path) -> None:
    target = vendor_client.vendor(tmp_path)
    assert vendor_client.is_current(tmp_path)
    for src in vendor_client.source_files():
        rel = src.relative_to(vendor_client.SOURCE)
        assert (target / rel).read_bytes() == src.read_bytes()
    assert {"runner.py", "tasks.py", "packinfo.py", "engine_process.py"} <= {p.name for p in target.iterdir()}
    stamp = json.loads((target / vendor_client.STAMP).read_text())
    assert stamp["source"] == "motif_client"
    (target / "client.py").write_text("# edited by hand\n")
    assert not vendor_client.is_current(tmp_path)
    assert vendor_client.main(["--dest", str(tmp_path), "--check"]) == 1
    assert vendor_client.main(["--dest", str(tmp_path)]) == 0 and vendor_client.is_current(tmp_path)
    # the copy (client and host kit) imports as a nested package with no engine and no host on the path
    code = ("import sys; sys.path.insert(0, sys.argv[1]);"
            "from vendor.motif_client import MotifClient, runner, tasks, packinfo, engine_process;"
            "bad = [m for m in sys.modules if m.startswith(('engine_server', 'bpy', 'numpy'))];"
            "assert not bad, bad; print('ok')")
    nested = tmp_path / "pkg" / "vendor"
    vendor_client.vendor(nested)
    res = subprocess.run([sys.executable, "-c", code, str(tmp_path / "pkg")], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0 and "ok" in res.stdout, res.stderr


def test_vendor_client_refuses_a_kit_that_imports_a_host(tmp_path: Path) -> None:
    src = tmp_path / "motif_client"
    src.mkdir()
    (src / "__init__.py").write_text("")
    (src / "panel.py").write_text("import bpy\n")
    with pytest.raises(SystemExit, match="no host module"):
        vendor_client.vendor(tmp_path / "out", source=src)
