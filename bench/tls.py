"""What security beyond loopback costs: the token-file check per call, and TLS against plain text.

    .venv/bin/python bench/tls.py [--fetch-mib 256] [--rounds 2]

Two engines on 127.0.0.1 with the same 20-line token file, one plain text and one `--tls`, measured
in turn (`--rounds` times each): connect + first Describe, the median Describe round trip, and the
FetchAsset stream alone (to a file, no verification). The server runs in this process (it shares the
client's GIL), which is fine for comparing the two transports but not for absolute fetch rates: those
are bench/engine.py's. Each figure is printed with the command that made it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CMD = "python bench/tls.py"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fetch-mib", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    os.environ["MOTIF_WORKER_WARM_UP"] = "0"  # no job runs here
    tmp = Path(tempfile.mkdtemp(prefix="motif-bench-tls-"))
    from engine_server.provenance import keys

    os.environ["MOTIF_KEYS_DIR"] = str(keys.create(tmp / "keys"))  # a throw-away CA: leaves the install's alone
    from bench.engine import make_big_pack
    from engine_server.auth import TokenSet
    from engine_server.server import Engine
    from motif_client import MotifClient
    from motif_client.motif_pb import engine_pb2 as pb

    tokens = tmp / "tokens"
    tokens.write_text("".join(f"host{i}:tok-{i:04d}-{'x' * 24}\n" for i in range(20)))
    tokens.chmod(0o600)
    token_set = TokenSet([], tokens)
    time.sleep(2.1)  # past the window in which a just-written file is re-read on every call
    token_set.match("")
    n = 100_000
    t0 = time.perf_counter()
    for _ in range(n):
        token_set.match(f"tok-0019-{'x' * 24}")
    print(f"token check, 20-line token file, a stat per call: {(time.perf_counter() - t0) / n * 1e6:.1f} µs  [{CMD}]")
    from engine_server.decoders import registry

    for name in registry.names():  # import every decoder now, not inside the first Describe measured
        registry.get(name)
    mine = tmp / "client.token"
    mine.write_text(f"tok-0003-{'x' * 24}\n")

    for _ in range(args.rounds):
        for tls in (False, True):
            eng = Engine("127.0.0.1:0", store_root=tmp / "store", load_encoder=False, token_file=tokens,
                         tls=tls).start()
            try:
                pack_id, rel = make_big_pack(eng.store, args.fetch_mib << 20)
                ca = eng.tls.ca_path if eng.tls else None
                t0 = time.perf_counter()
                with MotifClient(eng.address, token_file=mine, ca_file=ca) as client:
                    client.describe()
                    first = time.perf_counter() - t0
                    trips = []
                    for _ in range(200):
                        t = time.perf_counter()
                        client.describe()
                        trips.append(time.perf_counter() - t)
                    rates = []
                    for _ in range(3):
                        t = time.perf_counter()
                        with (tmp / "fetched.bin").open("wb") as out:
                            req = pb.FetchAssetRequest(pack_id=pack_id, path=rel)
                            for chunk in client._stub.FetchAsset(req, metadata=client._metadata):
                                out.write(chunk.data)
                        rates.append(args.fetch_mib / (time.perf_counter() - t))
            finally:
                eng.stop()
            print(f"{'TLS  ' if tls else 'plain'}: connect + first Describe {first * 1e3:.1f} ms, Describe median "
                  f"{statistics.median(trips) * 1e3:.2f} ms, FetchAsset stream {args.fetch_mib} MiB "
                  f"{' / '.join(f'{r:.0f}' for r in rates)} MiB/s  [{CMD} --fetch-mib {args.fetch_mib}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
