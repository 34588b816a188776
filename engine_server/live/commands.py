"""`motif live push | generate | serve | packs`: the command line of the Live bridge.

engine_server/cli.py only adds this subcommand (`add_parser`) and calls `run`; everything the
bridge does lives in this package (link.py, plan.py, bridge.py, serve.py). It uses the engine
only through motif_client (gRPC), like any host: no engine module is imported here.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine_server.errors import InvalidArgument, MotifError

CLIENT_NAME = "live"


def _osc_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"give Live's OSC address as HOST:PORT, e.g. 127.0.0.1:11000; got {text!r}")
    return host, int(port)


def add_parser(sub: Any, engine_flags: Callable[[argparse.ArgumentParser], None], seed: Callable[[str], int]) -> None:
    """`motif live …` under the CLI's subcommands; `engine_flags` adds --server and the client flags."""
    live = sub.add_parser("live", help="Ableton Live: push packs into the open set (AbletonOSC / the Motif script)")
    verbs = live.add_subparsers(dest="live_command", required=True)

    def osc_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("--osc", type=_osc_address, default=("127.0.0.1", 11000), metavar="HOST:PORT",
                       help="where Live listens for OSC (default 127.0.0.1:11000: the Motif script or AbletonOSC)")
        p.add_argument("--reply-port", type=int, default=11001,
                       help="UDP port for Live's replies (default 11001, where AbletonOSC answers; 0: any free port, "
                            "Motif script only)")

    def place_flags(p: argparse.ArgumentParser) -> None:
        where = p.add_mutually_exclusive_group()
        where.add_argument("--session", dest="mode", action="store_const", const="session",
                           help="clips in a new scene named after the pack (default)")
        where.add_argument("--arrangement", dest="mode", action="store_const", const="arrangement",
                           help="clips in the arrangement at --at, a locator and the loop brace (Motif script)")
        p.set_defaults(mode="session")
        p.add_argument("--at", type=float, default=0.0, metavar="BEATS", help="arrangement position (default 0)")

    def out_flag(p: argparse.ArgumentParser) -> None:
        p.add_argument("--out", type=Path, default=None,
                       help="where packs from the engine are saved; Live plays the stems from there "
                            "(default: your Music folder/Motif, or MOTIF_LIVE_DIR)")

    def music_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("--seed", type=seed, default=0)
        p.add_argument("--bars", type=int, default=None, help="loop length in bars (the music decoder's default: 8)")
        p.add_argument("--only", default="music", help="decoders (default music; a pack for Live needs music)")
        p.add_argument("--quality", choices=("draft", "final"), default="draft")

    pu = verbs.add_parser("push", help="push a pack (a folder, its pack.json, or a pack id in the engine)")
    pu.add_argument("pack", help="a pack folder or pack.json, or a pack id from `motif live packs`")
    osc_flags(pu)
    place_flags(pu)
    out_flag(pu)
    engine_flags(pu)

    ge = verbs.add_parser("generate", help="generate through the engine, then push the pack into Live")
    ge.add_argument("prompt")
    music_flags(ge)
    osc_flags(ge)
    place_flags(ge)
    out_flag(ge)
    engine_flags(ge)

    se = verbs.add_parser("serve", help="keep running beside Live: clips and scenes named `motif: <prompt>` "
                                        "generate and land in the set")
    music_flags(se)
    se.add_argument("--push-feed", action="store_true",
                    help="also push every music pack other hosts make (the engine's pack feed)")
    osc_flags(se)
    place_flags(se)
    out_flag(se)
    engine_flags(se)

    pk = verbs.add_parser("packs", help="the engine's packs (from every host) that have music, to push")
    pk.add_argument("--limit", type=int, default=20)
    pk.add_argument("--watch", action="store_true", help="then show each new pack as the engine makes it")
    engine_flags(pk)


def run(args: argparse.Namespace) -> int:
    return {"push": _push, "generate": _generate, "serve": _serve, "packs": _packs}[args.live_command](args)


def _say(text: str) -> None:
    print(f"motif live: {text}", file=sys.stderr, flush=True)


def _client_factory(args: argparse.Namespace) -> Callable[[str, str | None, float], Any]:
    from motif_client import MotifClient

    def make(address: str, token: str | None, timeout: float) -> Any:
        return MotifClient(address, token=None if args.token_file else args.token, timeout_s=timeout,
                           token_file=args.token_file, ca_file=args.ca, insecure=args.insecure,
                           client_name=CLIENT_NAME)

    return make


def _runner(args: argparse.Namespace) -> Any:
    from engine_server.live.serve import default_out_dir
    from motif_client import DEFAULT_ADDRESS
    from motif_client.runner import JobRunner

    out = args.out or default_out_dir()
    return JobRunner(_client_factory(args), args.server or DEFAULT_ADDRESS, cache_dir=out, client_name=CLIENT_NAME)


def _link(args: argparse.Namespace) -> Any:
    from engine_server.live.link import OscLink

    return OscLink(args.osc, reply_port=args.reply_port)


def _spec(args: argparse.Namespace, prompt: str) -> Any:
    from motif_client.runner import GenerateSpec

    decoders = [d.strip() for d in args.only.split(",") if d.strip()]
    if "music" not in decoders:
        raise InvalidArgument("A pack for Live needs music: keep music in --only.")
    options = {"music": {"bars": args.bars}} if args.bars is not None else {}
    return GenerateSpec(prompt or None, args.seed, {}, decoders, args.quality, options)


def _wait(runner: Any, link: Any) -> tuple[Path, dict[str, Any]]:
    from engine_server.live.serve import wait_for_pack

    try:
        return wait_for_pack(runner, _say, lambda text: link.send("/live/api/show_message", text[:200]))
    except KeyboardInterrupt:
        job_id = runner.detach()
        if job_id:
            from engine_server.cli import Detached

            raise Detached(job_id) from None
        raise


def _report(result: Any) -> int:
    print(f"pushed {result.summary()}")
    for name in result.plan.track_names:
        print(f"  {name}")
    return 0


def _push(args: argparse.Namespace) -> int:
    from engine_server.live.bridge import connect, load_pack, push

    pack = Path(args.pack)
    with _link(args) as link:
        info = connect(link)
        if pack.exists():
            pack_dir, manifest = load_pack(pack)
        else:
            if os.sep in args.pack or args.pack.endswith(".json"):
                raise InvalidArgument(f"{args.pack} does not exist: give a pack folder, its pack.json or a pack id.")
            runner = _runner(args)
            runner.fetch(args.pack)
            pack_dir, manifest = _wait(runner, link)
            pack_dir, manifest = load_pack(pack_dir)
        return _report(push(link, pack_dir, manifest, mode=args.mode, at=args.at, info=info, say=_say))


def _generate(args: argparse.Namespace) -> int:
    from engine_server.live.bridge import connect, load_pack, push

    spec = _spec(args, args.prompt)
    with _link(args) as link:
        info = connect(link)  # before spending time on a pack: is Live there?
        _say(f"{info.describe()} is listening; generating “{args.prompt}”")
        runner = _runner(args)
        runner.generate(spec)
        pack_dir, _ = _wait(runner, link)
        pack_dir, manifest = load_pack(pack_dir)
        return _report(push(link, pack_dir, manifest, mode=args.mode, at=args.at, info=info, say=_say))


def _serve(args: argparse.Namespace) -> int:
    from engine_server.live.serve import LiveServer

    spec = _spec(args, "")
    runner = _runner(args)
    with _link(args) as link:
        server = LiveServer(link, runner, engine_address=runner.address, spec=spec, mode=args.mode,
                            push_feed=args.push_feed, say=_say)
        stop = threading.Event()
        try:
            server.run(stop)
        except KeyboardInterrupt:
            stop.set()
            job_id = runner.detach()
            _say("stopped" + (f"; job {job_id} goes on in the engine (`motif watch {job_id}`)" if job_id else ""))
    return 0


def _packs(args: argparse.Namespace) -> int:
    import time

    from motif_client import EngineError

    client = _client_factory(args)(args.server or _default_address(), None, 10.0)

    def row(r: dict[str, Any]) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r["created_unix"]))
        return (f"{r['pack_id']}  {when}  [{r['client'] or '-'}]  {r['prompt'] or '(latent)'}\n"
                f"    motif live push {r['pack_id']}")

    try:
        with client:
            rows = [r for r in client.list_packs(args.limit) if "music" in r["decoders"]]
            if not rows:
                print("no packs with music yet: try `motif live generate \"<prompt>\"`")
            for r in rows:
                print(row(r))
            if args.watch:
                print("watching the engine's pack feed (Ctrl-C stops)…", file=sys.stderr)
                try:
                    for r in client.watch_packs(0):
                        if "music" in r["decoders"]:
                            print(row(r), flush=True)
                except KeyboardInterrupt:
                    return 0
    except EngineError as exc:
        raise MotifError(f"{exc.message} [{exc.code}]") from None
    return 0


def _default_address() -> str:
    from motif_client import DEFAULT_ADDRESS

    return str(DEFAULT_ADDRESS)
