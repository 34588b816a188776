"""Soak: many hosts on one engine. 8 concurrent clients x 20 cheap packs (music + draft kit) each.

    .venv/bin/python bench/soak.py [--clients 8] [--packs 20] [--workers 2]

Every asset of every pack is downloaded and its sha256 recomputed from the file on disk against
pack.json. Prints: errors (goal 0), packs per minute, per-pack latency, and the engine's resident
memory (the `motif serve` process, and its workers) after pack 20 and after the last pack (goal:
growth under 10 %). The engine runs as its own process, as hosts use it.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine_server.store import sha256_file  # noqa: E402
from motif_client import EngineError, MotifClient  # noqa: E402

OPTIONS = {"mesh": {"texture_size": 512, "assets": 5}, "music": {"bars": 2}}
SUBJECTS = ["harbour", "forest", "desert", "market", "temple", "station", "garden", "canyon"]
MOODS = ["at dawn", "in the rain", "at night", "in fog", "at noon"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def children(pid: int) -> list[int]:
    """Child processes started by any thread of `pid` (the workers are spawned from slot threads)."""
    return [int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()]


def client_loop(address: str, index: int, packs: int, out: Path, results: list[dict[str, Any]],
                lock: threading.Lock, after_pack: Any) -> None:
    with MotifClient(address, client_name=f"soak{index}", timeout_s=60) as client:
        for n in range(packs):
            prompt = f"{SUBJECTS[index % len(SUBJECTS)]} {MOODS[n % len(MOODS)]}"
            t0 = time.perf_counter()
            row: dict[str, Any] = {"client": index, "n": n, "error": ""}
            try:
                done = list(client.generate(prompt, seed=1000 * index + n, decoders=["mesh", "music"],
                                            options=OPTIONS))[-1]
                pack_dir, manifest = client.download_pack(done.manifest["pack_id"], out / f"c{index}")
                bad = [a["path"] for a in manifest["assets"] if sha256_file(pack_dir / a["path"]) != a["sha256"]]
                if bad:
                    row["error"] = f"sha256 mismatch: {bad}"
                row["assets"] = len(manifest["assets"])
            except EngineError as exc:
                row["error"] = f"{exc.code}: {exc.message}"
            row["seconds"] = time.perf_counter() - t0
            with lock:
                results.append(row)
                after_pack(len(results))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--packs", type=int, default=20, help="packs per client")
    ap.add_argument("--workers", type=int, default=2, help="the engine's decoder workers")
    args = ap.parse_args()
    cmd = f"python bench/soak.py --clients {args.clients} --packs {args.packs} --workers {args.workers}"
    total = args.clients * args.packs
    with tempfile.TemporaryDirectory(prefix="motif-soak-") as tmp:
        address = f"127.0.0.1:{free_port()}"
        env = {**os.environ, "MOTIF_STORE": str(Path(tmp) / "store")}
        proc = subprocess.Popen([sys.executable, "-m", "engine_server.cli", "serve", "--address", address,
                                 "--workers", str(args.workers)], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            with MotifClient(address) as probe:
                probe.wait_ready(60)
            marks: dict[int, tuple[int, int]] = {}
            mark_at = {min(20, total), total}

            def after_pack(count: int) -> None:
                if count in mark_at:
                    workers = sum(rss_kib(c) for c in children(proc.pid))
                    marks[count] = (rss_kib(proc.pid), workers)

            results: list[dict[str, Any]] = []
            lock = threading.Lock()
            t0 = time.perf_counter()
            threads = [threading.Thread(target=client_loop, args=(address, i, args.packs, Path(tmp) / "out",
                                                                  results, lock, after_pack))
                       for i in range(args.clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
        finally:
            proc.terminate()
            proc.wait(30)
    errors = [r for r in results if r["error"]]
    latencies = sorted(r["seconds"] for r in results)
    first, last = marks[min(20, total)], marks[total]
    growth = (last[0] - first[0]) / first[0] * 100
    print(f"{cmd}")
    print(f"  packs made and verified: {len(results) - len(errors)}/{total} "
          f"({sum(r.get('assets', 0) for r in results)} assets, each sha256 checked on disk)")
    print(f"  errors: {len(errors)}" + "".join(f"\n    {e['client']}/{e['n']}: {e['error']}" for e in errors[:5]))
    print(f"  wall {wall:.1f} s, {len(results) / wall * 60:.1f} packs/min; per-pack latency median "
          f"{statistics.median(latencies):.2f} s, p95 {latencies[int(0.95 * (len(latencies) - 1))]:.2f} s")
    print(f"  engine RSS after pack {min(20, total)}: {first[0] / 1024:.1f} MiB (workers {first[1] / 1024:.1f} MiB); "
          f"after pack {total}: {last[0] / 1024:.1f} MiB (workers {last[1] / 1024:.1f} MiB)")
    print(f"  engine RSS growth pack {min(20, total)} -> {total}: {growth:+.1f} % (goal < 10 %)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
