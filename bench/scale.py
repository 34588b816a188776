"""Scale: the same cheap packs on the local executor and on a 2-node Ray cluster, side by side.

    .venv/bin/python bench/scale.py [--packs 8] [--cpus-per-node 1] [--in-flight 4]

Each executor serves a real engine (gRPC on loopback, its own store) and gets the same requests
(music + a draft kit, as bench/soak.py) from one client thread per pack, after one warm-up pack that
is not timed. Prints, per executor: seconds for all packs, packs per minute, mean latency per pack;
then Ray's overhead per task: a no-op Ray task's round trip, and the same one-decoder job (the probe
decoder, which does nothing) on the local executor and on Ray. Both clusters are on this machine:
the Ray figures show the executor's cost, not a bigger machine's speed. Every Ray pack's content
sha256 is checked against the local executor's.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # nothing may call home
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # every Ray process on loopback
os.environ.setdefault("MOTIF_WORKER_WARM_UP", "0")  # these packs render nothing: no bpy in the local worker

from motif_client import MotifClient  # noqa: E402

OPTIONS = {"mesh": {"texture_size": 512, "assets": 5}, "music": {"bars": 2}}
SUBJECTS = ["harbour", "forest", "desert", "market", "temple", "station", "garden", "canyon"]
NODE: dict[str, Any] = {"object_store_memory": 200 << 20, "node_ip_address": "127.0.0.1"}


def requests(n: int) -> list[dict[str, Any]]:
    return [{"prompt": f"a {SUBJECTS[i % len(SUBJECTS)]} at dawn", "seed": 900 + i, "decoders": ["mesh", "music"],
             "options": OPTIONS} for i in range(n)]


def make_pack(address: str, request: dict[str, Any]) -> tuple[float, dict[str, str]]:
    """(seconds, content sha256 per asset) for one pack."""
    started = time.perf_counter()
    with MotifClient(address, timeout_s=600) as c:
        events = list(c.generate(**request))
    if events[-1].kind != "done":
        raise SystemExit(f"pack failed: {events[-1]}")
    contents = {a["path"]: a["meta"]["content_sha256"] for a in events[-1].manifest["assets"]
                if a["role"] != "provenance"}
    return time.perf_counter() - started, contents


def run_batch(address: str, batch: list[dict[str, Any]]) -> tuple[float, list[float], list[dict[str, str]]]:
    """All packs at once, one client thread each: (wall seconds, latency per pack, contents per pack)."""
    out: list[tuple[float, dict[str, str]] | None] = [None] * len(batch)

    def one(i: int) -> None:
        out[i] = make_pack(address, batch[i])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(batch))]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    done = [o for o in out if o is not None]
    if len(done) != len(batch):
        raise SystemExit("a pack never finished")
    return wall, [d[0] for d in done], [d[1] for d in done]


def probe_seconds(address: str, seeds: range) -> float:
    """Mean seconds of a one-decoder job whose decoder does nothing (queue, dispatch, commit included)."""
    times = []
    for seed in seeds:
        started = time.perf_counter()
        with MotifClient(address) as c:
            list(c.generate(prompt="overhead", seed=seed, decoders=["probe"]))
        times.append(time.perf_counter() - started)
    return statistics.mean(times)


def measure(label: str, engine: Any, packs: int, rows: list[tuple[str, float, float, float]]) -> list[dict[str, str]]:
    make_pack(engine.address, {**requests(1)[0], "seed": 899})  # warm-up: worker start and imports, not timed
    wall, latencies, contents = run_batch(engine.address, requests(packs))
    rows.append((label, wall, packs / wall * 60, statistics.mean(latencies)))
    print(f"  {label}: {wall:.1f} s", flush=True)
    return contents


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packs", type=int, default=8)
    parser.add_argument("--cpus-per-node", type=int, default=1, help="CPUs each of the 2 Ray worker nodes offers")
    parser.add_argument("--in-flight", type=int, default=4, help="jobs the engine keeps on the Ray cluster at once")
    args = parser.parse_args()
    command = shlex.join([".venv/bin/python", "bench/scale.py", *sys.argv[1:]])
    print(f"$ {command}\n  ({os.cpu_count()} cores here; mesh + music packs: {OPTIONS})", flush=True)

    import ray
    from ray.cluster_utils import Cluster

    from engine_server.server import Engine

    rows: list[tuple[str, float, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="motif-scale-") as tmp:
        engines = {}
        for workers in (1, 2):
            engine = Engine("127.0.0.1:0", store_root=Path(tmp) / f"local-{workers}", workers=workers).start()
            local = measure(f"local executor, {workers} worker process(es)", engine, args.packs, rows)
            engines[f"local-{workers}"] = engine
        local_probe = probe_seconds(engines["local-1"].address, range(10, 30))

        cluster = Cluster(initialize_head=True, head_node_args={**NODE, "num_cpus": 0, "include_dashboard": False})
        for _ in range(2):
            cluster.add_node(**NODE, num_cpus=args.cpus_per_node)
        cluster.wait_for_nodes()
        engine = Engine("127.0.0.1:0", store_root=Path(tmp) / "ray", executor="ray", ray_address=cluster.address,
                        workers=args.in_flight).start()
        on_ray = measure(f"ray executor, 2 nodes x {args.cpus_per_node} CPU, {args.in_flight} jobs in flight",
                         engine, args.packs, rows)
        ray_probe = probe_seconds(engine.address, range(10, 30))

        @ray.remote(num_cpus=0)
        def noop() -> None:
            return None

        ray.get(noop.remote())
        started = time.perf_counter()
        for _ in range(100):
            ray.get(noop.remote())
        task_ms = (time.perf_counter() - started) / 100 * 1000
        engine.stop()
        cluster.shutdown()
        for e in engines.values():
            e.stop()

    same = on_ray == local
    print(f"\n{'executor':<58} {'seconds':>8} {'packs/min':>10} {'latency s':>10}")
    for label, wall, per_min, latency in rows:
        print(f"{label:<58} {wall:>8.1f} {per_min:>10.1f} {latency:>10.2f}")
    print(f"\nRay overhead per task: a no-op task's round trip {task_ms:.1f} ms (mean of 100). A one-decoder job "
          f"whose decoder does nothing (probe; queue, dispatch, labelling and commit included), mean of 20: "
          f"{ray_probe * 1000:.0f} ms on Ray, {local_probe * 1000:.0f} ms on the local executor "
          f"(difference {(ray_probe - local_probe) * 1000:+.0f} ms: submit, progress actor, result through the "
          "object store, sha256 check, against the local pipe).")
    print(f"Same content on Ray as on the local executor, every asset of all {args.packs} packs: {same}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
