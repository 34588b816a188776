"""Engine benchmarks: cold start, Generate overhead, FetchAsset throughput vs a raw socket.

    .venv/bin/python bench/engine.py [--fetch-mib 256] [--rounds 20]

Also: the first and second image job on a freshly started engine, with and without the worker's
warm-up. Each figure is printed with the command that made it. Goals (issue 2): cold start <= 2 s,
FetchAsset >= 50 % of a raw loopback socket copy of the same bytes. FetchAsset is measured from a
`motif serve` process, as hosts use it (an in-process server shares the client's GIL). The sha256 of
the same bytes is printed beside it: the client verifies every download, so it cannot go faster.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine_server.server import Engine  # noqa: E402
from engine_server.store import PackStore, StagedFile  # noqa: E402
from motif_client import MotifClient  # noqa: E402
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
    pack_id = hashlib.sha256(f"bench-{size}".encode()).hexdigest()[:24]
    if store.exists(pack_id):
        return pack_id, "bench/blob.bin"
    with store.staging() as staging:
        blob = staging / "bench" / "blob.bin"
        blob.parent.mkdir(parents=True)
        with blob.open("wb") as fh:
            block = os.urandom(1 << 20)
            for _ in range(size >> 20):
                fh.write(block)
        store.commit(pack_id, staging, [StagedFile("probe", "bench/blob.bin", "application/octet-stream", "bench", {})],
                     {"schema": "bench"})
    return pack_id, "bench/blob.bin"


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
    args = parser.parse_args()
    cmd = f"{CMD} --fetch-mib {args.fetch_mib} --rounds {args.rounds}"

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        starts = [cold_start(tmpdir / "cold") for _ in range(3)]
        print(f"server cold start to healthy: median {statistics.median(starts):.2f} s "
              f"(runs {', '.join(f'{s:.2f}' for s in starts)})   [{cmd}]")

        eng = Engine("127.0.0.1:0", store_root=tmpdir / "store").start()
        try:
            with MotifClient(eng.address) as client:
                med, p90 = generate_overhead(client, args.rounds)
                print(f"Generate round trip, probe (no-op) decoder: median {med * 1000:.1f} ms, "
                      f"p90 {p90 * 1000:.1f} ms over {args.rounds}   [{cmd}]")
        finally:
            eng.stop()

        for warm in (False, True):
            first, second = first_jobs(tmpdir / f"first-{warm}", warm)
            print(f"mesh+image draft job on an engine idle {IDLE_S:.0f} s after start, worker warm-up "
                  f"{'on ' if warm else 'off'}: first {first:.2f} s, second {second:.2f} s   [{cmd}]")

        # FetchAsset from a `motif serve` process, as every host plugin uses it
        size = args.fetch_mib << 20
        store = PackStore(tmpdir / "fetch-store")
        pack_id, rel = make_big_pack(store, size)
        src, _ = store.asset_path(pack_id, rel)
        data = src.read_bytes()
        hash_s = []
        for _ in range(3):
            t0 = time.perf_counter()
            hashlib.sha256(data)
            hash_s.append(time.perf_counter() - t0)
        del data
        hash_rate = size / statistics.median(hash_s) / (1 << 20)
        proc, address, _ = start_serve(tmpdir / "fetch-store")
        try:
            with MotifClient(address) as client:
                fetch_s, raw_s, stream_s = [], [], []
                for i in range(3):
                    stream_s.append(stream_to_file(client, pack_id, rel, tmpdir / f"stream-{i}.bin"))
                    (tmpdir / f"stream-{i}.bin").unlink()
                    dest = tmpdir / f"fetched-{i}.bin"
                    t0 = time.perf_counter()
                    client.fetch_asset(pack_id, rel, dest)
                    fetch_s.append(time.perf_counter() - t0)
                    dest.unlink()
                    raw_s.append(raw_socket_copy(src, tmpdir / f"raw-{i}.bin"))
                    (tmpdir / f"raw-{i}.bin").unlink()
        finally:
            stop_serve(proc)
        f_rate = size / statistics.median(fetch_s) / (1 << 20)
        r_rate = size / statistics.median(raw_s) / (1 << 20)
        s_rate = size / statistics.median(stream_s) / (1 << 20)
        print(f"raw loopback socket (sendfile) to a file: {r_rate:.0f} MiB/s; sha256 of the same bytes in memory "
              f"(median of 3): {hash_rate:.0f} MiB/s   [{cmd}]")
        print(f"FetchAsset {args.fetch_mib} MiB from `motif serve`, stream to a file (no verification): "
              f"{s_rate:.0f} MiB/s; ratio to the raw socket {s_rate / r_rate:.0%}   [{cmd}]")
        print(f"FetchAsset {args.fetch_mib} MiB from `motif serve`, to a file, sha256 verified: {f_rate:.0f} MiB/s; "
              f"ratio to the raw socket {f_rate / r_rate:.0%}   [{cmd}]")


if __name__ == "__main__":
    main()
