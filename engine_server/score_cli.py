"""`motif score EDIT`: score to picture from the command line (in-process, or through --server).

In-process the edit is read from its path on this machine (any size a cue allows); through an engine
its bytes travel in the request (at most 15 MiB: send the timeline as OTIO, EDL or FCPXML, or a proxy).
Everything is checked before any work, so a bad edit writes nothing.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine_server.errors import InvalidArgument


def add_score_parser(sub: Any, client_flags: Callable[[argparse.ArgumentParser], None]) -> None:
    s = sub.add_parser("score", help="score to picture: a cue for an edit (video, .otio, .edl, .fcpxml), hits on cuts")
    s.add_argument("edit", type=Path, help="a video file, or an OpenTimelineIO / CMX 3600 EDL / FCPXML timeline")
    s.add_argument("--prompt", help="optional words for the mood; the edit alone gives a score")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--hits", default="all",
                   help="all (a hit on every cut, default), major (the cuts where the picture changes most), none, "
                        "or frame numbers from the edit's first frame, e.g. 48,120,300")
    s.add_argument("--rate", help="frame rate of an EDL (EDLs do not say it): 24, 25, 24000/1001, 30000/1001 ...")
    s.add_argument("--out", type=Path, default=Path("out"), help="copy the pack here (default ./out)")
    s.add_argument("--server", help="HOST:PORT of a running engine (default: run in-process)")
    client_flags(s)
    s.add_argument("--store", type=Path)


def cmd_score(args: argparse.Namespace) -> int:
    from engine_server import cli
    from engine_server.readers.edit.cue import parse_hits

    if not args.edit.is_file():
        raise InvalidArgument(f"No edit file at {str(args.edit)!r}.")
    parse_hits(args.hits)  # a typo is refused before anything is read
    bar, show = cli._progress_bar()
    try:
        if args.server:
            manifest, pack_dir = _remote(args, show)
        else:
            manifest, pack_dir = _local(args, show)
        show(1.0, "done")
    finally:
        bar.close()
    cli._print_pack(manifest, pack_dir)
    edit = manifest["request"]["edit"]
    hits = edit["hits"]
    listed = ", ".join(f"{h['kind']}@{h['frame']}" for h in hits[:8]) + (" ..." if len(hits) > 8 else "")
    print(f"  edit: {edit['file']} at {edit['fps']} fps from {edit['start_timecode']}, {edit['frames']} frames, "
          f"{len(edit['cuts'])} cuts; {len(hits)} hits ({listed})")
    return 0


def _local(args: argparse.Namespace, show: Any) -> tuple[dict[str, Any], Path]:
    from engine_server import config, pipeline
    from engine_server.store import PackStore

    encoder = None
    if args.prompt is not None:
        from engine_server.encoder import get_encoder

        encoder = get_encoder()
    show(0.0, "reading the edit")
    edit: dict[str, Any] = {"path": str(args.edit), "hits": args.hits}
    if args.rate:
        edit["rate"] = args.rate
    spec = pipeline.JobSpec(prompt=args.prompt, seed=args.seed, inputs={"edit": edit})
    job = pipeline.prepare(spec, encoder)
    store = PackStore(args.store or config.store_dir())
    manifest = pipeline.make_in_process(store, job, lambda stage, f, m: show(f, m))
    return manifest, store.export(job.pack_id, args.out)


def _remote(args: argparse.Namespace, show: Any) -> tuple[dict[str, Any], Path]:
    from engine_server import cli

    if args.rate:
        raise InvalidArgument("--rate is read in-process only; an engine reads EDLs at 24 fps: convert the EDL to "
                              "OTIO, or run `motif score` without --server.")
    data = args.edit.read_bytes()
    with cli.open_client(args) as client:
        events = client.score(args.edit.name, data, prompt=args.prompt, seed=args.seed, hits=args.hits)
        return cli._follow(client, events, show, args.out)  # type: ignore[no-any-return]
