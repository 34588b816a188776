"""kill -9 the engine at ten different moments of a real job, restart it on the same store each time.

After every restart: `motif verify` passes on every pack in the store, nothing stray is left
(staging, half-made packs, commit intents, temp files, objects no pack references), the killed job is
listed as `interrupted` with a sentence, and `motif resume` makes a pack whose every asset has the same
content sha256 as an undisturbed run of the same request.

Kills land two ways: from outside after a delay (queued, mid-decode), and exactly inside the commit's
narrow windows through engine_server.failpoints (the process SIGKILLs itself there).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine_server import pipeline
from engine_server.provenance.verify import verify_pack
from engine_server.store import PackStore
from motif_client import EngineError, MotifClient

pytestmark = pytest.mark.slow
DECODERS = ("mesh", "music")
OPTIONS = {"mesh": {"texture_size": 512, "assets": 5}, "music": {"bars": 2}}
# (how, when): "after" = SIGKILL from outside that many seconds after the job was queued;
# "failpoint" = the engine kills itself at that point (NAME:N = the N-th time it passes there).
MOMENTS = [
    ("after", "0"),
    ("after", "0.6"),
    ("after", "1.2"),
    ("failpoint", "label.signed:1"),
    ("failpoint", "label.signed:3"),
    ("failpoint", "commit.object_placed:1"),
    ("failpoint", "commit.object_placed:5"),
    ("failpoint", "commit.manifest_written"),
    ("failpoint", "commit.published"),
    ("failpoint", "jobs.committed"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(store: Path, failpoint: str = "") -> tuple[subprocess.Popen[bytes], str]:
    address = f"127.0.0.1:{_free_port()}"
    env = {**os.environ, "MOTIF_WORKER_WARM_UP": "0", "MOTIF_FAILPOINT": failpoint}
    proc = subprocess.Popen([sys.executable, "-m", "engine_server.cli", "serve", "--address", address,
                             "--store", str(store)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    with MotifClient(address, timeout_s=2) as c:
        while True:
            try:
                c.describe()
                return proc, address
            except EngineError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"engine did not start: {proc.stderr.read().decode()[-2000:]}") from None
                time.sleep(0.1)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _content(manifest: dict[str, Any]) -> dict[str, str]:
    """Each asset's bytes before the per-install C2PA label (labels carry a fresh random id per signing)."""
    return {a["path"]: a.get("meta", {}).get("content_sha256", a["sha256"])
            for a in manifest["assets"] if a["role"] != "provenance"}


def _stray(store: PackStore) -> list[str]:
    """Everything a killed writer could have left behind."""
    found = [str(p) for p in store.staging_root.iterdir()]
    found += [str(p) for p in store.packs.iterdir() if p.name.startswith(".")]
    found += [str(p) for p in store.commits.iterdir()]
    found += [str(p) for p in store.root.rglob("*.tmp")]
    referenced = {a["sha256"] for m, _ in store.list() for a in m["assets"]}
    found += [str(p) for p in store.objects.rglob("*") if p.is_file() and p.name not in referenced]
    found += [str(p) for p in store.origins.iterdir() if not (store.packs / p.stem).is_dir()]
    return found


@pytest.fixture(scope="module")
def references(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[int, dict[str, str]]]:
    """Undisturbed runs, in-process on a store of their own: seed -> content sha256 per asset."""
    from engine_server.encoder import get_encoder

    store = PackStore(tmp_path_factory.mktemp("undisturbed"))
    out = {}
    for seed in range(len(MOMENTS)):
        spec = pipeline.JobSpec(prompt="a harbour that survives crashes", seed=seed, decoders=DECODERS,
                                options=OPTIONS)
        out[seed] = _content(pipeline.make_in_process(store, pipeline.prepare(spec, get_encoder())))
    yield out


def test_kill_9_at_ten_moments_leaves_a_clean_store_and_resume_makes_the_same_pack(
        tmp_path: Path, references: dict[int, dict[str, str]]) -> None:
    store_dir = tmp_path / "store"
    for seed, (how, when) in enumerate(MOMENTS):
        proc, address = _start(store_dir, when if how == "failpoint" else "")
        with MotifClient(address, client_name="crash-test") as c:
            events = c.generate(prompt="a harbour that survives crashes", seed=seed, decoders=DECODERS,
                                options=OPTIONS)
            job_id = next(events).job_id
            if how == "after":
                time.sleep(float(when))
                proc.kill()
            assert proc.wait(120) == -signal.SIGKILL, f"{how} {when}: the engine was not killed"
            with pytest.raises(EngineError):
                list(events)

        proc, address = _start(store_dir)
        try:
            store = PackStore(store_dir)
            assert _stray(store) == [], f"{how} {when}: stray files after restart"
            for manifest, _ in store.list():
                bad = [f for f in verify_pack(store.pack_dir(manifest["pack_id"])) if not f.ok]
                assert not bad, f"{how} {when}: {bad}"
            with MotifClient(address) as c:
                killed = next(j for j in c.list_jobs() if j["job_id"] == job_id)
                assert killed["state"] == "interrupted", f"{how} {when}: {killed}"
                assert "engine stopped" in killed["message"] and f"motif resume {job_id}" in killed["message"]
                resumed = c.resume_job(job_id)
                done = list(c.watch_job(resumed["job_id"]))[-1]
            assert done.kind == "done" and done.manifest["pack_id"] == killed["pack_id"]
            assert _content(done.manifest) == references[seed], f"{how} {when}: resumed pack differs"
            assert all(f.ok for f in verify_pack(store.pack_dir(killed["pack_id"])))
        finally:
            _stop(proc)
    assert _stray(PackStore(store_dir)) == []


def test_motif_resume_command_follows_the_job_and_downloads(tmp_path: Path) -> None:
    """The CLI side: `motif jobs` shows the interrupted job with its sentence; `motif resume` finishes it."""
    store_dir = tmp_path / "store"
    proc, address = _start(store_dir)
    with MotifClient(address) as c:
        events = c.generate(prompt="resume from the terminal", seed=3, decoders=["probe"],
                            options={"probe": {"sleep_s": 3, "steps": 30}})
        job_id = next(events).job_id
        while next(events).kind != "progress":
            pass
    proc.kill()
    proc.wait()
    proc, address = _start(store_dir)
    try:
        cli = [sys.executable, "-m", "engine_server.cli"]
        listed = subprocess.run([*cli, "jobs", "--server", address], capture_output=True, text=True, timeout=60)
        assert listed.returncode == 0 and job_id in listed.stdout and "interrupted" in listed.stdout
        assert f"motif resume {job_id}" in listed.stdout
        resumed = subprocess.run([*cli, "resume", job_id, "--server", address, "--out", str(tmp_path / "out")],
                                 capture_output=True, text=True, timeout=120)
        assert resumed.returncode == 0, resumed.stderr
        pack_id = resumed.stdout.split()[1]
        assert (tmp_path / "out" / pack_id / "pack.json").is_file()
        again = subprocess.run([*cli, "resume", job_id, "--server", address], capture_output=True, text=True,
                               timeout=60)
        assert again.returncode == 2 and "already resumed as" in again.stderr
    finally:
        _stop(proc)
