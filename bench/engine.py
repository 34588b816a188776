"""Engine benchmarks: cold start, Generate overhead, fetch throughput (stream and same-host) vs a raw socket.

    .venv/bin/python bench/engine.py [--fetch-mib 256] [--rounds 20] [--fetch-only]

Also: the first and second image job on a freshly started engine, with and without the worker's
warm-up. Each figure is printed with the command that made it. Goals (issue 2): cold start <= 2 s,
FetchAsset >= 50 % of a raw loopback socket copy of the same bytes; (issue 11) a host on the same
machine gets a pack's bytes, sha256 verified, at >= 80 % of the raw socket (LocateAsset + a kernel
copy, docs/FETCH.md). Fetches are measured from a `motif serve` process, as hosts use it (an
in-process server shares the client's GIL). The sha256 of the same bytes is printed beside them: the
client verifies every download, and one sha256 stream is slower than the copy on this machine.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine_server.server import Engine  # noqa: E402
from engine_server.store import PackStore, StagedFile  # noqa: E402
from motif_client import MotifClient  # noqa: E402
from motif_client.local_fetch import workers_for  # noqa: E402
from tests.latent_factory import NEUTRAL  # noqa: E402

CMD = "python bench/engine.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_serve(store: Path) -> tuple[subprocess.Popen[bytes], str, float]:
    """Launch `motif serve` on `store` as hosts do (its own process); returns it, its address, and the
    seconds from launch to the health check answering SERVING."""
    port = free_port()
    env = {**os.environ, "MOTIF_STORE": str(store)}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "engine_server.cli", "serve", "--address", f"127.0.0.1:{port}"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            stub = health_pb2_grpc.HealthStub(ch)
            while True:
                try:
                    if stub.Check(health_pb2.HealthCheckRequest(), timeout=0.2).status == 1:
                        return proc, f"127.0.0.1:{port}", time.perf_counter() - t0
                except grpc.RpcError:
                    time.sleep(0.01)
                if proc.poll() is not None:
                    raise RuntimeError("motif serve exited during start-up")
    except BaseException:
        stop_serve(proc)
        raise


def stop_serve(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait()


def cold_start(store: Path) -> float:
    """Seconds from launching `motif serve` to the health check answering SERVING."""
    proc, _, seconds = start_serve(store)
    stop_serve(proc)
    return seconds


def generate_overhead(client: MotifClient, rounds: int) -> tuple[float, float]:
    """Median and p90 round trip of Generate with the probe decoder (new seed each time: no cache)."""
    times = []
    for i in range(rounds + 2):
        t0 = time.perf_counter()
        for _ in client.generate(latent=NEUTRAL, seed=10_000 + i, decoders=["probe"]):
            pass
        if i >= 2:  # first rounds warm the worker process
            times.append(time.perf_counter() - t0)
    times.sort()
    return statistics.median(times), times[int(0.9 * (len(times) - 1))]


IDLE_S = 10.0  # how long a freshly started engine sits idle before its first job


def first_jobs(store: Path, warm_up: bool) -> tuple[float, float]:
    """Seconds of the first and second mesh+image job on an engine that was idle for IDLE_S after start,
    with or without the worker's warm-up (MOTIF_WORKER_WARM_UP, read by the worker when it is spawned,
    which happens on a thread of its own: the variable stays set until the engine stops)."""
    saved = os.environ.get("MOTIF_WORKER_WARM_UP")
    os.environ["MOTIF_WORKER_WARM_UP"] = "1" if warm_up else "0"
    eng = Engine("127.0.0.1:0", store_root=store).start()
    try:
        time.sleep(IDLE_S)
        times = []
        with MotifClient(eng.address) as client:
            for seed in (1, 2):
                t0 = time.perf_counter()
                for _ in client.generate(prompt="rainy neon market at dusk", seed=seed, decoders=["mesh", "image"]):
                    pass
                times.append(time.perf_counter() - t0)
        return times[0], times[1]
    finally:
        eng.stop()
        if saved is None:
            os.environ.pop("MOTIF_WORKER_WARM_UP")
        else:
            os.environ["MOTIF_WORKER_WARM_UP"] = saved


def make_big_pack(store: PackStore, size: int) -> tuple[str, str]:
    pack_id, rels = make_pack(store, [size])
    return pack_id, rels[0]


def make_pack(store: PackStore, sizes: list[int]) -> tuple[str, list[str]]:
    """A pack of random assets of these sizes (each its own content); returns its id and asset paths."""
    pack_id = hashlib.sha256(f"bench-{sizes}".encode()).hexdigest()[:24]
    rels = ["bench/blob.bin"] if len(sizes) == 1 else [f"bench/asset-{i:02d}.bin" for i in range(len(sizes))]
    if store.exists(pack_id):
        return pack_id, rels
    with store.staging() as staging:
        (staging / "bench").mkdir(parents=True)
        for rel, size in zip(rels, sizes, strict=True):
            with (staging / rel).open("wb") as fh:
                block = os.urandom(1 << 20)
                for _ in range(size >> 20):
                    fh.write(block)
        store.commit(pack_id, staging,
                     [StagedFile("probe", rel, "application/octet-stream", "bench", {}) for rel in rels],
                     {"schema": "bench"})
    return pack_id, rels


def stream_to_file(client: MotifClient, pack_id: str, rel: str, dest: Path) -> float:
    """Seconds for the FetchAsset stream alone, written to a file (what the transport costs)."""
    from motif_client.motif_pb import engine_pb2 as pb

    t0 = time.perf_counter()
    with dest.open("wb") as out:
        for chunk in client._stub.FetchAsset(pb.FetchAssetRequest(pack_id=pack_id, path=rel)):
            out.write(chunk.data)
    return time.perf_counter() - t0


def raw_socket_copy(src: Path, dest: Path) -> float:
    """Seconds to send the file over a plain loopback TCP socket into a file (the reference)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def serve() -> None:
        conn, _ = server.accept()
        with conn, src.open("rb") as fh:
            conn.sendfile(fh)

    t = threading.Thread(target=serve)
    t.start()
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as s, dest.open("wb") as out:
        while data := s.recv(1 << 20):
            out.write(data)
    elapsed = time.perf_counter() - t0
    t.join()
    server.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fetch-mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--fetch-runs", type=int, default=5)
    parser.add_argument("--fetch-only", action="store_true", help="only the fetch figures (under a minute)")
    args = parser.parse_args()
    cmd = (f"{CMD} --fetch-mib {args.fetch_mib} --rounds {args.rounds} --fetch-runs {args.fetch_runs}"
           + (" --fetch-only" if args.fetch_only else ""))

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        if not args.fetch_only:
            engine_figures(tmpdir, args.rounds, cmd)
        fetch_figures(tmpdir, args.fetch_mib, args.fetch_runs, cmd)


def engine_figures(tmpdir: Path, rounds: int, cmd: str) -> None:
    """Cold start, Generate round trip, first jobs with and without the worker's warm-up."""
    starts = [cold_start(tmpdir / "cold") for _ in range(3)]
    print(f"server cold start to healthy: median {statistics.median(starts):.2f} s "
          f"(runs {', '.join(f'{s:.2f}' for s in starts)})   [{cmd}]")

    eng = Engine("127.0.0.1:0", store_root=tmpdir / "store").start()
    try:
        with MotifClient(eng.address) as client:
            med, p90 = generate_overhead(client, rounds)
            print(f"Generate round trip, probe (no-op) decoder: median {med * 1000:.1f} ms, "
                  f"p90 {p90 * 1000:.1f} ms over {rounds}   [{cmd}]")
    finally:
        eng.stop()

    for warm in (False, True):
        first, second = first_jobs(tmpdir / f"first-{warm}", warm)
        print(f"mesh+image draft job on an engine idle {IDLE_S:.0f} s after start, worker warm-up "
              f"{'on ' if warm else 'off'}: first {first:.2f} s, second {second:.2f} s   [{cmd}]")


def pack_sizes(size: int) -> list[int]:
    """A pack shaped like a real one (one large asset, many middling ones): a quarter, then 12 sixteenths."""
    return [size // 4] + [size // 16] * 12


def fetch_figures(tmpdir: Path, fetch_mib: int, runs: int, cmd: str) -> None:
    """Stream and same-host fetch from a `motif serve` process, as every host plugin uses it, each beside
    a raw loopback socket moving the same number of bytes (medians of `runs` interleaved rounds: on a
    shared 2-core machine single runs swing by a factor of two)."""
    size = fetch_mib << 20
    store = PackStore(tmpdir / "fetch-store")
    pack_id, rel = make_big_pack(store, size)
    multi_id, multi_rels = make_pack(store, pack_sizes(size))
    src, _ = store.asset_path(pack_id, rel)
    data = src.read_bytes()
    hash_s = []
    for _ in range(3):
        t0 = time.perf_counter()
        hashlib.sha256(data)
        hash_s.append(time.perf_counter() - t0)
    del data
    times: dict[str, list[float]] = {}

    def run(name: str, fn: Callable[[Path], object]) -> None:
        out = tmpdir / "fetched"
        t0 = time.perf_counter()
        fn(out)
        times.setdefault(name, []).append(time.perf_counter() - t0)
        shutil.rmtree(out) if out.is_dir() else out.unlink()

    proc, address, _ = start_serve(tmpdir / "fetch-store")
    try:
        with MotifClient(address) as client:
            for _ in range(runs):
                run("raw", lambda out: raw_socket_copy(src, out))
                run("stream", lambda out: stream_to_file(client, pack_id, rel, out))
                run("fetch stream", lambda out: client.fetch_asset(pack_id, rel, out, via="stream"))
                run("fetch local", lambda out: client.fetch_asset(pack_id, rel, out, via="local"))
                run("pack local", lambda out: client.download_pack(multi_id, out, via="local"))
                run("pack stream", lambda out: client.download_pack(multi_id, out, via="stream"))
    finally:
        stop_serve(proc)

    def rate(name: str) -> float:
        return size / statistics.median(times[name]) / (1 << 20)

    raw = rate("raw")
    best = size / min(times["raw"]) / (1 << 20)  # the raw socket swings between runs: also compare with its best

    def each(name: str) -> str:
        return ", ".join(f"{size / t / (1 << 20):.0f}" for t in times[name])

    def show(what: str, name: str) -> None:
        print(f"{what}: {rate(name):.0f} MiB/s (runs {each(name)}); ratio to the raw socket "
              f"{rate(name) / raw:.0%} of its median, {rate(name) / best:.0%} of its best run   [{cmd}]")

    hash_rate = size / statistics.median(hash_s) / (1 << 20)
    print(f"raw loopback socket (sendfile) to a file, {fetch_mib} MiB: median {raw:.0f} MiB/s, best {best:.0f} "
          f"(runs {each('raw')}); "
          f"sha256 of the same bytes in memory (median of 3): {hash_rate:.0f} MiB/s   [{cmd}]")
    show(f"FetchAsset {fetch_mib} MiB from `motif serve`, stream to a file (no verification)", "stream")
    show(f"FetchAsset {fetch_mib} MiB from `motif serve`, to a file, sha256 verified (fetch_asset via='stream')",
         "fetch stream")
    show(f"same-host LocateAsset + kernel copy, one {fetch_mib} MiB asset, sha256 verified "
         "(fetch_asset via='local'; one sha256 stream is its limit)", "fetch local")
    n = len(multi_rels)
    show(f"same-host pack of {n} assets ({size // 4 >> 20} + 12 x {size // 16 >> 20} MiB), sha256 verified "
         f"(download_pack via='local', {workers_for(n, True)} threads)", "pack local")
    show(f"streamed pack of the same {n} assets, sha256 verified (download_pack via='stream')", "pack stream")


if __name__ == "__main__":
    main()
