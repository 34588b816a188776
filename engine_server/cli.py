"""The `motif` command line: serve, generate, encode, packs, doctor, trust, verify, replay.

`generate` runs in-process unless --server names a running engine; either way it shows a progress
bar and ends with the pack copied to --out and a line per file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine_server.errors import InvalidArgument, MotifError
from motif_client.errors import EngineError

DEFAULT_PROMPT = "abandoned cyberpunk marketplace at dusk with rain"


def _seed(text: str) -> int:
    from motif_client.rules import parse_seed  # the one seed rule, shared with the engine and every client

    try:
        return parse_seed(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _pin(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"a pin looks like FIELD=VALUE (e.g. tempo_bpm=90); got {text!r}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw  # bare words such as mode=minor
    return name.strip(), value


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="motif", description="One prompt -> a coherent asset pack.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the gRPC engine")
    s.add_argument("--address", default=os.environ.get("MOTIF_ADDRESS"),
                   help="HOST:PORT to listen on (default 127.0.0.1:50051; beyond loopback needs tokens and --tls)")
    s.add_argument("--token-file", default=os.environ.get("MOTIF_TOKEN_FILE"), type=Path,
                   help="accept the tokens in this file (one per line, name:token, # comments); re-read when it "
                        "changes, so deleting a line revokes that client (also MOTIF_TOKEN_FILE)")
    s.add_argument("--token", default=os.environ.get("MOTIF_TOKEN"),
                   help="accept this one token (prefer --token-file: a --token shows in `ps`)")
    s.add_argument("--tls", action="store_true",
                   help="serve TLS with a certificate from this install's CA (remote hosts pin it: `motif trust`)")
    s.add_argument("--tls-san", action="append", default=[], metavar="NAME",
                   help="another host name or IP clients use to reach this machine (repeatable)")
    s.add_argument("--insecure", action="store_true",
                   help="allow serving beyond loopback without TLS (tokens cross the network in clear text)")
    s.add_argument("--workers", type=int, default=1,
                   help="jobs run at once (local: one warm decoder process each; ray: jobs in flight on the cluster)")
    s.add_argument("--executor", choices=("local", "inprocess", "ray"),
                   default=os.environ.get("MOTIF_EXECUTOR", "local"),
                   help="what runs the decoders: local worker processes (default), inprocess (in the server's "
                        "own process: tests, benchmarks), or ray (a Ray cluster; docs/SCALE.md)")
    s.add_argument("--ray-address", default=os.environ.get("RAY_ADDRESS", "auto"), metavar="auto|HOST:PORT|local",
                   help="the Ray cluster for --executor ray: auto (RAY_ADDRESS or the one `ray start` made here), a "
                        "head's HOST:PORT, or local (start a one-machine cluster on loopback)")
    s.add_argument("--ray-shared-dir", type=Path, metavar="DIR",
                   help="a folder every Ray node and this machine mount at the same path (NFS, a volume): decoders' "
                        "files travel through it instead of Ray's object store (large renders)")
    s.add_argument("--store", type=Path, help="pack store folder (default: user data dir)")

    g = sub.add_parser("generate", help="make a pack from a prompt")
    g.add_argument("prompt", nargs="?", help=f"text prompt (when none is given at all: {DEFAULT_PROMPT!r})")
    g.add_argument("--prompt-file", metavar="FILE", help="read the prompt from FILE (UTF-8; - for standard input)")
    g.add_argument("--sketch", type=Path, metavar="FILE",
                   help="a PNG or JPEG drawing that steers framing and palette (image and video decoders)")
    g.add_argument("--hum", type=Path, metavar="FILE",
                   help="a hummed or sung melody (WAV, FLAC, OGG, MP3, M4A) the music is built on")
    g.add_argument("--seed", type=_seed, default=0)
    g.add_argument("--only", default="", help="comma-separated decoders, e.g. mesh,music")
    g.add_argument("--quality", choices=("draft", "final"), default="draft")
    g.add_argument("--pin", type=_pin, action="append", default=[], help="FIELD=VALUE, used as given")
    g.add_argument("--options", type=_json_object, default={}, help='per-decoder options, e.g. {"music": {"bars": 16}}')
    g.add_argument("--latent-json", type=_json_object, help="a full latent instead of a prompt")
    g.add_argument("--out", type=Path, default=Path("out"), help="copy the pack here (default ./out)")
    g.add_argument("--server", help="HOST:PORT of a running engine (default: run in-process)")
    add_client_flags(g)
    g.add_argument("--store", type=Path)

    e = sub.add_parser("encode", help="show the latent for a prompt")
    e.add_argument("prompt", nargs="?")
    e.add_argument("--prompt-file", metavar="FILE", help="read the prompt from FILE (UTF-8; - for standard input)")
    e.add_argument("--seed", type=_seed, default=0)
    e.add_argument("--pin", type=_pin, action="append", default=[])
    e.add_argument("--json", action="store_true", help="print JSON (with the embedding)")

    k = sub.add_parser("packs", help="list packs in the store")
    k.add_argument("--server")
    add_client_flags(k)
    k.add_argument("--store", type=Path)
    k.add_argument("--limit", type=int, default=0)

    j = sub.add_parser("jobs", help="list the engine's jobs: queued, running and ended (interrupted ones can resume)")
    _engine_flags(j)
    j.add_argument("--state", action="append", default=[], help="only jobs in this state (repeatable)")
    j.add_argument("--limit", type=int, default=20, help="newest N jobs (0 = all; default 20)")

    w = sub.add_parser("watch", help="re-attach to a job: its progress so far, then live, then download the pack")
    w.add_argument("job", help="a job id from `motif jobs` or from a detached `motif generate --server`")
    w.add_argument("--from-seq", type=int, default=0, help="first journal event to show (default 0, all)")
    w.add_argument("--out", type=Path, default=Path("out"), help="download the pack here when done (default ./out)")
    _engine_flags(w)

    u = sub.add_parser("resume", help="run an interrupted, failed or cancelled job again (same request, same pack)")
    u.add_argument("job", help="a job id from `motif jobs`")
    u.add_argument("--out", type=Path, default=Path("out"), help="download the pack here when done (default ./out)")
    u.add_argument("--detach", action="store_true", help="only start it; follow it later with `motif watch`")
    _engine_flags(u)

    x = sub.add_parser("cancel", help="stop a queued or running job")
    x.add_argument("job", help="a job id from `motif jobs`")
    _engine_flags(x)

    sub.add_parser("doctor", help="check every dependency and say how to fix what is missing")

    t = sub.add_parser("trust", help="print what a remote host needs to pin this engine's TLS certificate")
    t.add_argument("--out", type=Path, help="write the CA certificate (PEM) to this file")
    t.add_argument("--address", help="HOST:PORT remote hosts use for this engine (for the printed example)")

    v = sub.add_parser("verify", help="check a pack's files against pack.json and their C2PA manifests")
    v.add_argument("pack", help="a pack id in the store, or a pack folder")
    v.add_argument("--store", type=Path)

    r = sub.add_parser("replay", help="regenerate a pack from its manifest and compare each asset")
    r.add_argument("pack", help="a pack id in the store, or a pack folder")
    r.add_argument("--store", type=Path)

    c = sub.add_parser("coherence", help="score how well a pack's image, clip, kit and music agree (MCI)")
    c.add_argument("pack", help="a pack id in the store, or a pack folder")
    c.add_argument("--store", type=Path)
    c.add_argument("--json", action="store_true", help="print the analysis and the breakdown as JSON")

    from engine_server.score_cli import add_score_parser

    add_score_parser(sub, add_client_flags)  # motif score EDIT (score to picture)

    from engine_server.live.commands import add_parser as add_live_parser

    add_live_parser(sub, _engine_flags, _seed)  # motif live push | generate | serve | packs (Ableton Live)

    from engine_server.install import add_parser as add_install_parser

    add_install_parser(sub)  # motif install resolve
    return p


def add_client_flags(p: argparse.ArgumentParser) -> None:
    """--token-file, --token, --ca, --insecure: every command with --server takes these (see open_client)."""
    p.add_argument("--token-file", default=os.environ.get("MOTIF_TOKEN_FILE"),
                   help="read the token from this file (also MOTIF_TOKEN_FILE); preferred over --token")
    p.add_argument("--token", default=os.environ.get("MOTIF_TOKEN"),
                   help="the token itself (shows in `ps`: prefer --token-file); also MOTIF_TOKEN")
    p.add_argument("--ca", default=os.environ.get("MOTIF_CA"),
                   help="the engine's CA certificate from `motif trust`: connect with TLS (also MOTIF_CA)")
    p.add_argument("--insecure", action="store_true",
                   help="allow a remote engine without TLS (the token crosses the network in clear text)")


def _engine_flags(p: argparse.ArgumentParser) -> None:
    """Commands that only make sense against a running engine (jobs live there)."""
    p.add_argument("--server", default=os.environ.get("MOTIF_ADDRESS"),
                   help="HOST:PORT of the engine (default 127.0.0.1:50051, or MOTIF_ADDRESS)")
    add_client_flags(p)


def open_client(args: argparse.Namespace) -> Any:
    """A MotifClient for --server with the client flags; a token file wins over --token."""
    from motif_client import DEFAULT_ADDRESS, MotifClient

    return MotifClient(args.server or DEFAULT_ADDRESS, token=None if args.token_file else args.token,
                       token_file=args.token_file, ca_file=args.ca, insecure=args.insecure, client_name="cli")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(_COMMANDS[args.command](args) or 0)
    except MotifError as exc:
        print(f"motif {args.command}: {exc.message}", file=sys.stderr)
        return 2
    except EngineError as exc:  # a call to a running engine failed: its sentence and code
        print(f"motif {args.command}: {exc.message} [{exc.code}]", file=sys.stderr)
        return 2
    except Detached as d:
        print(f"motif {args.command}: detached; job {d.job_id} goes on in the engine. "
              f"Follow it with `motif watch {d.job_id}` or stop it with `motif cancel {d.job_id}`.", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print(f"motif {args.command}: interrupted; nothing was written to the store.", file=sys.stderr)
        return 130


# ---------------------------------------------------------------- commands


def cmd_serve(args: argparse.Namespace) -> int:
    import logging

    from engine_server.server import DEFAULT_ADDRESS, Engine

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    engine = Engine(args.address or DEFAULT_ADDRESS, store_root=args.store, token=args.token, workers=args.workers,
                    token_file=args.token_file, tls=args.tls, tls_names=args.tls_san, insecure=args.insecure,
                    executor=args.executor, ray_address=args.ray_address,
                    ray_shared_dir=args.ray_shared_dir).start()
    scheme = f"TLS, names {', '.join(engine.tls.names)}; `motif trust` for clients" if engine.tls else "plain text"
    print(f"motif engine listening on {engine.address} ({scheme}; store: {engine.store.root}; "
          f"executor: {engine.jobs.executor.name})", flush=True)
    engine.wait()
    return 0


def cmd_generate(args: argparse.Namespace) -> int:

    from engine_server.inputs import check_prompt

    given = _prompt(args)
    if given is not None and args.latent_json is not None:
        raise InvalidArgument("Give either a prompt or --latent-json, not both.")
    # the default prompt only when none was given at all: an empty or blank one is an error, not a default
    prompt = None if args.latent_json is not None else check_prompt(DEFAULT_PROMPT if given is None else given)
    decoders = [d for d in args.only.split(",") if d.strip()]
    pins = dict(args.pin)
    if args.sketch is not None:
        args.options = _with_sketch(args.sketch, decoders, args.options)
    bar, show = _progress_bar()
    try:
        if args.server:
            manifest, pack_dir = _generate_remote(args, prompt, decoders, pins, show)
        else:
            manifest, pack_dir = _generate_local(args, prompt, decoders, pins, show)
        show(1.0, "done")
    finally:
        bar.close()  # ends the bar's line, so an error sentence prints on a line of its own
    _print_pack(manifest, pack_dir)
    return 0


MAX_PROMPT_FILE_BYTES = 1 << 20


def _prompt(args: argparse.Namespace) -> str | None:
    """The prompt as given (the argument, or --prompt-file), or None when none was given at all.

    File names are the user's own, typed here, so sentences show them whole (not through `quote`).
    """
    if args.prompt is not None and args.prompt_file is not None:
        raise InvalidArgument("Give the prompt either as an argument or with --prompt-file, not both.")
    if args.prompt_file is None:
        given: str | None = args.prompt
        return given
    name = args.prompt_file
    from engine_server.inputs import MAX_PROMPT_CHARS

    label = "on standard input" if name == "-" else f"in {name!r}"
    try:
        if name == "-":
            raw = sys.stdin.buffer.read(MAX_PROMPT_FILE_BYTES + 1)
        else:
            with open(name, "rb") as fh:
                raw = fh.read(MAX_PROMPT_FILE_BYTES + 1)
    except OSError as exc:
        raise InvalidArgument(f"Cannot read the prompt file {name!r}: {exc.strerror or exc}.") from None
    if len(raw) > MAX_PROMPT_FILE_BYTES:
        raise InvalidArgument(f"The prompt {label} is over {MAX_PROMPT_FILE_BYTES >> 20} MB; a prompt is at most "
                              f"{MAX_PROMPT_CHARS:,} characters.")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidArgument(f"The prompt {label} is not UTF-8 text.") from None


def _with_sketch(path: Path, decoders: list[str], options: dict[str, Any]) -> dict[str, Any]:
    """--sketch FILE as the `sketch` option of the image and video decoders in the job, checked here first
    so that a file that is not an image is named by its file, not by what it became on the way."""
    import base64

    from engine_server.decoders.registry import DEFAULT_DECODERS
    from engine_server.sketch import load_sketch

    source = f"The sketch {str(path)!r}"
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidArgument(f"Cannot read the sketch {str(path)!r}: {exc.strerror or exc}.") from None
    load_sketch(data, source)
    targets = [d for d in (decoders or DEFAULT_DECODERS) if d in ("image", "video")]
    if not targets:
        raise InvalidArgument("--sketch steers the image and video decoders; add image or video to --only.")
    if any("sketch" in options.get(t, {}) for t in targets):
        raise InvalidArgument("Give the sketch once: with --sketch or in --options, not both.")
    text = base64.b64encode(data).decode("ascii")
    return {**options, **{t: {**options.get(t, {}), "sketch": text} for t in targets}}


def _generate_local(args: argparse.Namespace, prompt: str | None, decoders: list[str], pins: dict[str, Any],
                    show: Any) -> tuple[dict[str, Any], Path]:
    from engine_server import config, pipeline
    from engine_server.encoder import get_encoder
    from engine_server.store import PackStore

    store = PackStore(args.store or config.store_dir())
    spec = pipeline.JobSpec(prompt=prompt, latent=args.latent_json, pins=pins, seed=args.seed, decoders=decoders,
                            quality=args.quality, options=args.options,
                            inputs={"hum": {"path": str(args.hum)}} if args.hum is not None else {})
    show(0.0, "encoding")
    job = pipeline.prepare(spec, get_encoder() if prompt is not None else None)
    manifest = pipeline.make_in_process(store, job, lambda stage, f, m: show(f, m))
    return manifest, store.export(job.pack_id, args.out)


def _generate_remote(args: argparse.Namespace, prompt: str | None, decoders: list[str], pins: dict[str, Any],
                     show: Any) -> tuple[dict[str, Any], Path]:
    with open_client(args) as client:
        hum = _read_hum_file(args.hum) if args.hum is not None else None
        events = client.generate(prompt, latent=args.latent_json, seed=args.seed, pins=pins, decoders=decoders,
                                 quality=args.quality, options=args.options, hum=hum,
                                 hum_name=args.hum.name if args.hum is not None else "hum.wav")
        return _follow(client, events, show, args.out)


def _read_hum_file(path: Path) -> bytes:
    """--hum FILE's bytes for a remote engine (the engine checks what they hold)."""
    from engine_server.readers.hum.audio import MAX_HUM_BYTES

    try:
        if path.stat().st_size > MAX_HUM_BYTES:
            raise InvalidArgument(f"The hum {str(path)!r} is {path.stat().st_size / 1e6:.1f} MB; the limit is "
                                  f"{MAX_HUM_BYTES >> 20} MB.")
        return path.read_bytes()
    except OSError as exc:
        raise InvalidArgument(f"Cannot read the hum {str(path)!r}: {exc.strerror or exc}.") from None


def _follow(client: Any, events: Any, show: Any, out: Path) -> tuple[dict[str, Any], Path]:
    """Show a job's events, then download its pack. Ctrl-C only detaches: the job goes on in the engine."""

    job_id = ""
    try:
        manifest: dict[str, Any] = {}
        for ev in events:
            job_id = ev.job_id
            if ev.kind == "queued":
                show(0.0, f"queued (position {ev.position})")
            elif ev.kind == "progress":
                show(ev.fraction, ev.message)
            elif ev.kind == "done":
                manifest = dict(ev.manifest)
        show(1.0, "downloading")
        pack_dir, manifest = client.download_pack(manifest["pack_id"], out)
    except KeyboardInterrupt:
        if not job_id:
            raise
        raise Detached(job_id) from None
    return manifest, pack_dir


class Detached(Exception):
    """The user stopped watching; the job runs on in the engine."""

    def __init__(self, job_id: str) -> None:
        super().__init__(job_id)
        self.job_id = job_id


def cmd_encode(args: argparse.Namespace) -> int:
    from engine_server import pipeline
    from engine_server.encoder import get_encoder

    prompt = _prompt(args)
    if prompt is None:
        raise InvalidArgument("Give a prompt to encode, or --prompt-file FILE (- for standard input).")
    data = pipeline.encode(get_encoder(), prompt, args.seed, dict(args.pin or [])).to_dict()
    if args.json:
        print(json.dumps(data, indent=1))
        return 0
    data.pop("embedding")
    for name, value in data.items():
        if name == "palette":
            value = " ".join(f"{s['color']}:{s['weight']:.2f}" for s in value)
        elif name == "instruments":
            value = " ".join(f"{k}:{v:.2f}" for k, v in sorted(value.items(), key=lambda kv: -kv[1]) if v >= 0.05)
        print(f"{name:>18}  {value}")
    return 0


def cmd_packs(args: argparse.Namespace) -> int:
    import time

    if args.server:

        with open_client(args) as client:
            rows = client.list_packs(args.limit)
    else:
        from engine_server import config
        from engine_server.feed import pack_summary
        from engine_server.store import PackStore

        store = PackStore(args.store or config.store_dir())
        rows = [pack_summary(store, m, t) for m, t in store.list()]
        rows = rows[: args.limit] if args.limit else rows
    if not rows:
        print("no packs yet: try `motif generate`")
    for r in rows:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r["created_unix"]))
        made_by = f"[{r['client']}]" if r.get("client") else ""
        print(f"{r['pack_id']}  {when}  seed {r['seed']:<10} {r['asset_count']:>3} files {made_by:<9} "
              f"{r['prompt'] or '(latent)'}")
    return 0


def cmd_jobs(args: argparse.Namespace) -> int:
    import time


    with open_client(args) as client:
        rows = client.list_jobs(args.limit, args.state)
    if not rows:
        print("no jobs yet: try `motif generate --server ...`")
    for r in rows:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["created_unix"]))
        prompt = r["prompt"] if len(r["prompt"]) <= 40 else r["prompt"][:39] + "…"
        print(f"{r['job_id']}  {when}  {r['state']:<11} {r['fraction'] * 100:5.1f}%  {r['client'] or '-':<8} "
              f"{prompt or '(latent)'}")
        if r["state"] in ("failed", "interrupted", "cancelled") and r["message"]:
            print(f"    {r['message']}")
    return 0


def _progress_bar() -> tuple[Any, Any]:
    """A tqdm bar on stderr and the `show(fraction, message)` that moves it."""
    from tqdm import tqdm

    bar = tqdm(total=1000, unit="‰", bar_format="{l_bar}{bar}| {elapsed} {postfix}", file=sys.stderr)

    def show(fraction: float, message: str) -> None:
        bar.n = int(fraction * 1000)
        bar.set_description_str(message[:48].ljust(48))
        bar.refresh()

    return bar, show


def _print_pack(manifest: dict[str, Any], pack_dir: Path) -> None:
    print(f"pack {manifest['pack_id']} -> {pack_dir}")
    for a in manifest["assets"]:
        print(f"  {a['role']:<7} {pack_dir / a['path']}  ({a['bytes']:,} bytes)")
    print(f"  manifest {pack_dir / 'pack.json'}")


def cmd_watch(args: argparse.Namespace) -> int:
    if args.from_seq < 0:
        raise InvalidArgument(f"--from-seq must be 0 or more; got {args.from_seq}.")
    with open_client(args) as client:
        bar, show = _progress_bar()
        try:
            manifest, pack_dir = _follow(client, client.watch_job(args.job, args.from_seq), show, args.out)
        finally:
            bar.close()
    _print_pack(manifest, pack_dir)
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:

    with open_client(args) as client:
        was_running = client.cancel(args.job)
    print(f"job {args.job} cancelled ({'it was running' if was_running else 'it had not started'})")
    return 0


def cmd_resume(args: argparse.Namespace) -> int:

    with open_client(args) as client:
        job = client.resume_job(args.job)
        print(f"job {args.job} resumes as job {job['job_id']} (pack {job['pack_id']})", file=sys.stderr)
        if args.detach:
            print(job["job_id"])
            return 0
        bar, show = _progress_bar()
        try:
            manifest, pack_dir = _follow(client, client.watch_job(job["job_id"]), show, args.out)
        finally:
            bar.close()
    _print_pack(manifest, pack_dir)
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from engine_server.doctor import run_checks

    ok = True
    for check in run_checks():
        mark = "ok " if check.ok else ("-- " if check.optional else "ERR")
        print(f"[{mark}] {check.name}: {check.detail}")
        if not check.ok and check.fix:
            print(f"      fix: {check.fix}")
        ok &= check.ok or check.optional
    print("all required checks passed" if ok else "some required checks failed (see 'fix' lines)")
    return 0 if ok else 1


def cmd_trust(args: argparse.Namespace) -> int:
    import socket

    from engine_server import tls

    ca_path, _ = tls.ca_paths()
    pem = ca_path.read_bytes()
    address = args.address or f"{socket.gethostname()}:50051"
    if args.out:
        args.out.write_bytes(pem)
    cert_file = str(args.out) if args.out else "motif-ca.pem"
    identity = tls.tls_dir() / "server.pem"
    names = (", ".join(tls.cert_names(identity.read_bytes())) if identity.exists()
             else "(the certificate is made at the first `motif serve --tls`)")
    print(f"CA certificate: {ca_path}")
    print(f"SHA-256 fingerprint: {tls.fingerprint(pem)}")
    print(f"Names in the engine's TLS certificate: {names}")
    print(f"""
On the engine's machine: `motif serve --address 0.0.0.0:50051 --tls --token-file TOKENS` (TOKENS holds one
`name:token` line per remote host; delete a line to revoke it; add names with --tls-san NAME).
On the remote host: save the CA as {cert_file} (its fingerprint must match the one above:
`openssl x509 -in {cert_file} -noout -fingerprint -sha256`), put that host's token alone in a file, then
  motif generate --server {address} --ca {cert_file} --token-file motif.token "a prompt"
  or: export MOTIF_CA={cert_file} MOTIF_TOKEN_FILE=motif.token
  or, in Python: MotifClient("{address}", ca_file="{cert_file}", token_file="motif.token")""")
    if args.out:
        print(f"\nwrote the CA certificate to {args.out}")
    else:
        print()
        print(pem.decode(), end="")
    return 0


def _pack_folder(ref: str, store_arg: Path | None) -> Path:
    """A pack folder from a path or a pack id in the store."""
    from engine_server import config
    from engine_server.store import PackStore

    if Path(ref).is_dir():
        return Path(ref)
    return PackStore(store_arg or config.store_dir()).pack_dir(ref)


def cmd_verify(args: argparse.Namespace) -> int:
    from engine_server.provenance.verify import verify_pack

    folder = _pack_folder(args.pack, args.store)
    findings = verify_pack(folder)
    for f in findings:
        print(f"[{'ok ' if f.ok else 'BAD'}] {f.path}: {f.message}")
    bad = [f for f in findings if not f.ok]
    print(f"{folder}: {'all assets verified' if not bad else f'{len(bad)} problem(s) found'}")
    return 1 if bad else 0


def cmd_replay(args: argparse.Namespace) -> int:
    import json as _json

    from engine_server import config
    from engine_server.encoder import get_encoder
    from engine_server.replay import replay
    from engine_server.store import PackStore

    manifest = _json.loads((_pack_folder(args.pack, args.store) / "pack.json").read_text())
    store = PackStore(args.store or config.store_dir())
    rows = replay(store, manifest, get_encoder() if "prompt" in manifest["request"] else None)
    for row in rows:
        print(f"[{'same' if row.equal else 'DIFF'}] {row.path}" + ("" if row.equal else
              f": expected {row.expected[:16]}, got {row.got[:16]}"))
    same = sum(r.equal for r in rows)
    print(f"replay of {manifest['pack_id']}: {same}/{len(rows)} identical")
    return 0 if same == len(rows) else 1


def cmd_coherence(args: argparse.Namespace) -> int:
    from engine_server import coherence

    folder = _pack_folder(args.pack, args.store)
    analysis = coherence.analyse_pack(folder)
    if len(analysis["missing"]) == len(coherence.MODALITIES):
        raise InvalidArgument(f"{folder} holds no image, clip, kit or music to score.")
    _, breakdown = coherence.mci(analysis)
    if args.json:
        print(json.dumps({"analysis": coherence.readable(analysis), "mci": breakdown}, indent=1, default=str))
    else:
        print("\n".join(coherence.report(analysis, breakdown, analysis.get("pack_id") or folder.name)))
    return 0 if breakdown["score"] is not None else 1


def cmd_score(args: argparse.Namespace) -> int:
    from engine_server.score_cli import cmd_score as score

    return score(args)


def cmd_live(args: argparse.Namespace) -> int:
    from engine_server.live.commands import run

    return run(args)


def cmd_install(args: argparse.Namespace) -> int:
    from engine_server.install import run

    return run(args)


_COMMANDS = {
    "serve": cmd_serve,
    "generate": cmd_generate,
    "encode": cmd_encode,
    "packs": cmd_packs,
    "jobs": cmd_jobs,
    "watch": cmd_watch,
    "resume": cmd_resume,
    "cancel": cmd_cancel,
    "doctor": cmd_doctor,
    "trust": cmd_trust,
    "verify": cmd_verify,
    "replay": cmd_replay,
    "coherence": cmd_coherence,
    "score": cmd_score,
    "live": cmd_live,
    "install": cmd_install,
}

if __name__ == "__main__":
    sys.exit(main())
