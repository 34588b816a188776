"""The Motif client: what every plugin (and the CLI) uses to talk to the engine.

Depends only on grpcio, protobuf and the generated stubs beside it, so host plugins can vendor
this folder as it is. Every failure surfaces as `EngineError` with a gRPC code name and a
sentence to show the user.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from .channel import DEFAULT_ADDRESS, auth_metadata, load_ca, open_channel, unavailable_message
from .convert import latent_from_proto
from .convert import latent_to_proto as _latent_to_proto
from .convert import pins_to_proto as _pins_to_proto
from .errors import EngineError
from .local_fetch import ROUTES, LocalRoute, run_all, workers_for
from .motif_pb import engine_pb2 as pb
from .motif_pb import engine_pb2_grpc as pb_grpc
from .rules import seed_problem

_MAX_MESSAGE = 16 * 1024 * 1024
MAX_EDIT_BYTES = 15 * 1024 * 1024  # an edit sent with `score` (one message, under _MAX_MESSAGE)
MAX_HUM_BYTES = 15 * 1024 * 1024  # a hummed melody sent with `generate` (the engine's own limit)


@dataclass(frozen=True)
class Event:
    """One event of a Generate stream (see proto JobEvent)."""

    kind: str  # queued | progress | asset | done
    job_id: str
    seq: int = 0  # position in the job's journal: re-attach with watch_job(job_id, seq + 1)
    position: int = 0
    estimated_seconds: float = 0.0
    stage: str = ""
    fraction: float = 0.0
    message: str = ""
    asset: Mapping[str, Any] = field(default_factory=dict)
    manifest: Mapping[str, Any] = field(default_factory=dict)


class MotifClient:
    def __init__(self, address: str = DEFAULT_ADDRESS, token: str | None = None, timeout_s: float = 10.0, *,
                 client_name: str = "", token_file: str | Path | None = None, ca_file: str | Path | None = None,
                 ca_pem: bytes | str | None = None, insecure: bool = False) -> None:
        """`ca_file`/`ca_pem`: the engine's CA (`motif trust`) for TLS. Another machine without TLS is
        refused (EngineError FAILED_PRECONDITION) unless `insecure`; see motif_client/channel.py."""
        self.address = address
        self.timeout_s = timeout_s
        self.client_name = client_name  # "blender", "unreal", "resolve", "live", "cli": shown in jobs and the feed
        self._metadata = auth_metadata(token, token_file)
        ca = load_ca(ca_file, ca_pem)
        self.tls = ca is not None
        self._channel = open_channel(
            address, ca_pem=ca, insecure=insecure,
            options=[("grpc.max_receive_message_length", _MAX_MESSAGE), ("grpc.max_send_message_length", _MAX_MESSAGE)],
        )
        self._stub = pb_grpc.MotifEngineStub(self._channel)
        self._local = LocalRoute(address, self._locate)  # same-host fast fetch (docs/FETCH.md)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> MotifClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ errors

    def _error(self, err: grpc.RpcError) -> EngineError:
        code = err.code().name if err.code() is not None else "UNKNOWN"  # type: ignore[attr-defined]
        details = err.details() or ""  # type: ignore[attr-defined]
        if code == "UNAVAILABLE":
            return EngineError(code, unavailable_message(self.address, details, self.tls))
        if code == "DEADLINE_EXCEEDED":
            return EngineError(code, f"The engine at {self.address} did not answer in time. ({details})")
        if code == "UNAUTHENTICATED":
            return EngineError(code, f"The engine refused the token: {details}")
        return EngineError(code, details or f"The engine call failed ({code}).")

    def _call(self, fn: Callable[..., Any], request: Any, timeout: float | None = None) -> Any:
        try:
            return fn(request, timeout=timeout or self.timeout_s, metadata=self._metadata)
        except grpc.RpcError as err:
            raise self._error(err) from None

    # ------------------------------------------------------------ calls

    def wait_ready(self, timeout_s: float = 10.0) -> None:
        """Block until the channel connects, or raise EngineError(UNAVAILABLE)."""
        try:
            grpc.channel_ready_future(self._channel).result(timeout=timeout_s)
        except grpc.FutureTimeoutError:
            raise EngineError(
                "UNAVAILABLE",
                f"Cannot reach the Motif engine at {self.address} within {timeout_s:g} s. "
                "Start it with `motif serve`, check the address, then try again."
                + (" With TLS, also check that the CA you pinned is the one `motif trust` prints." if self.tls else ""),
            ) from None

    def describe(self) -> dict[str, Any]:
        r = self._call(self._stub.Describe, pb.DescribeRequest())
        return {
            "engine_version": r.engine_version,
            "model_versions": dict(r.model_versions),
            "decoders": [
                {"name": d.name, "summary": d.summary, "reads": list(d.reads), "writes": list(d.writes),
                 "after": list(d.after), "estimated_seconds": d.estimated_seconds, "placeholder": d.placeholder,
                 "default": d.default, "diagnostic": d.diagnostic, "options": [_option_dict(o) for o in d.options]}
                for d in r.decoders
            ],
            "latent_fields": [
                {"name": f.name, "kind": f.kind, "doc": f.doc, "min": f.min, "max": f.max, "choices": list(f.choices)}
                for f in r.latent_fields
            ],
            "capabilities": list(r.capabilities),
            "max_prompt_chars": r.max_prompt_chars,
        }

    def encode(self, prompt: str, seed: int = 0, pins: Mapping[str, Any] | None = None) -> dict[str, Any]:
        req = pb.EncodeRequest(prompt=prompt, seed=_seed(seed), pins=pins_to_proto(pins or {}))
        return latent_from_proto(self._call(self._stub.Encode, req).latent)

    def generate(
        self,
        prompt: str | None = None,
        *,
        latent: Mapping[str, Any] | None = None,
        seed: int = 0,
        pins: Mapping[str, Any] | None = None,
        decoders: Sequence[str] = (),
        quality: str = "draft",
        options: Mapping[str, Mapping[str, Any]] | None = None,
        timeout_s: float | None = None,
        client: str | None = None,
        cancel_on_disconnect: bool = False,
        hum: bytes | None = None,
        hum_name: str = "hum.wav",
    ) -> Iterator[Event]:
        """Start a job and yield its events until `done`; raise EngineError on failure.

        `hum` is a hummed melody's audio file (WAV, FLAC, OGG, MP3, M4A; `hum_name` its file name): the
        music is built on its tune, and its tempo and key set the latent's unless pinned.

        Closing the iterator early (or dropping it) only detaches: the job runs on in the engine and
        `watch_job(job_id, last_seq + 1)` picks it up again. With `cancel_on_disconnect` the engine
        cancels the job instead when this stream ends first.
        """
        req = pb.GenerateRequest(
            seed=_seed(seed),
            pins=pins_to_proto(pins or {}),
            decoders=list(decoders),
            quality=quality,
            options_json=json.dumps(options or {}),
            client=self.client_name if client is None else client,
            cancel_on_disconnect=cancel_on_disconnect,
        )
        if hum is not None:
            if len(hum) > MAX_HUM_BYTES:
                raise EngineError("INVALID_ARGUMENT", f"The hum {hum_name!r} is {len(hum) / 2**20:.0f} MiB; an "
                                  f"engine takes at most {MAX_HUM_BYTES >> 20} MiB: trim it to the idea.")
            req.hum.CopyFrom(pb.HumInput(file_name=hum_name, data=bytes(hum)))
        if latent is not None:
            req.latent.CopyFrom(latent_to_proto(latent))
        elif prompt is not None:  # neither: the engine says to give one (an empty prompt is refused, never defaulted)
            req.prompt = prompt
        yield from self._events(self._stub.Generate(req, timeout=timeout_s, metadata=self._metadata))

    def score(
        self,
        file_name: str,
        data: bytes,
        *,
        prompt: str | None = None,
        seed: int = 0,
        hits: str = "all",
        pins: Mapping[str, Any] | None = None,
        decoders: Sequence[str] = (),
        options: Mapping[str, Mapping[str, Any]] | None = None,
        timeout_s: float | None = None,
        client: str | None = None,
        cancel_on_disconnect: bool = False,
    ) -> Iterator[Event]:
        """Score to picture: a cue for an edit (a video, .otio, .edl or .fcpxml file's bytes), its hits on the
        cuts (`hits`: all, major, none or "F1,F2,..."); the prompt is optional. Events as for `generate`."""
        if len(data) > MAX_EDIT_BYTES:
            raise EngineError("INVALID_ARGUMENT", f"The edit {file_name!r} is {len(data) / 2**20:.0f} MiB; an engine "
                              f"takes at most {MAX_EDIT_BYTES >> 20} MiB over the wire. Send the timeline (OTIO, "
                              "EDL, FCPXML) or a proxy, or run `motif score` on the engine's machine.")
        req = pb.GenerateRequest(
            seed=_seed(seed), pins=pins_to_proto(pins or {}), decoders=list(decoders),
            options_json=json.dumps(options or {}), client=self.client_name if client is None else client,
            cancel_on_disconnect=cancel_on_disconnect, edit=pb.EditInput(file_name=file_name, data=data, hits=hits),
        )
        if prompt is not None:
            req.prompt = prompt
        yield from self._events(self._stub.Generate(req, timeout=timeout_s, metadata=self._metadata))

    def watch_job(self, job_id: str, from_seq: int = 0, timeout_s: float | None = None) -> Iterator[Event]:
        """Re-attach to a job: its journal from `from_seq` (each event once), then live events until it ends."""
        req = pb.WatchJobRequest(job_id=job_id, from_seq=from_seq)
        yield from self._events(self._stub.WatchJob(req, timeout=timeout_s, metadata=self._metadata))

    def _events(self, stream: Any) -> Iterator[Event]:
        try:
            for ev in stream:
                which = ev.WhichOneof("event")
                if which == "queued":
                    yield Event("queued", ev.job_id, ev.seq, position=ev.queued.position,
                                estimated_seconds=ev.queued.estimated_seconds)
                elif which == "progress":
                    yield Event("progress", ev.job_id, ev.seq, stage=ev.progress.stage,
                                fraction=ev.progress.fraction, message=ev.progress.message)
                elif which == "asset":
                    yield Event("asset", ev.job_id, ev.seq, asset=_asset_dict(ev.asset))
                elif which == "done":
                    yield Event("done", ev.job_id, ev.seq, manifest=json.loads(ev.done.manifest.json))
                    return
                elif which == "error":
                    raise EngineError(ev.error.code, ev.error.message)
        except grpc.RpcError as err:
            raise self._error(err) from None
        finally:
            stream.cancel()

    def list_jobs(self, limit: int = 0, states: Sequence[str] = ()) -> list[dict[str, Any]]:
        """Jobs the engine knows, newest first: queued, running, done, failed, cancelled, interrupted."""
        r = self._call(self._stub.ListJobs, pb.ListJobsRequest(limit=limit, states=list(states)))
        return [_job_dict(j) for j in r.jobs]

    def resume_job(self, job_id: str) -> dict[str, Any]:
        """Run an interrupted, failed or cancelled job again; returns the new job (watch it with watch_job)."""
        return _job_dict(self._call(self._stub.ResumeJob, pb.ResumeJobRequest(job_id=job_id)))

    def watch_packs(self, last: int = 0) -> Iterator[dict[str, Any]]:
        """Every pack committed to the engine's store from now on, by any host (first the newest `last`).

        Runs until the iterator is closed (or the engine goes away, which raises EngineError).
        """
        stream = self._stub.WatchPacks(pb.WatchPacksRequest(last=last), timeout=None, metadata=self._metadata)
        try:
            for p in stream:
                yield _pack_dict(p)
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.CANCELLED:  # type: ignore[attr-defined]
                raise self._error(err) from None
        finally:
            stream.cancel()

    def cancel(self, job_id: str) -> bool:
        """Cancel a job; True if it was running, False if it was still queued."""
        return bool(self._call(self._stub.Cancel, pb.CancelRequest(job_id=job_id)).was_running)

    def get_pack(self, pack_id: str) -> dict[str, Any]:
        return json.loads(self._call(self._stub.GetPack, pb.GetPackRequest(pack_id=pack_id)).json)

    def list_packs(self, limit: int = 0) -> list[dict[str, Any]]:
        r = self._call(self._stub.ListPacks, pb.ListPacksRequest(limit=limit))
        return [_pack_dict(p) for p in r.packs]

    def fetch_asset(
        self,
        pack_id: str,
        path: str,
        dest: Path,
        chunk_bytes: int = 0,
        progress: Callable[[int, int], None] | None = None,
        *,
        via: str = "auto",
    ) -> Path:
        """Download one asset to `dest`, resuming a `.part` file left by an interrupted download.

        The file appears under its final name only once complete and its sha256 matches. `via`:
        "auto" copies the engine's store file when the engine is on this machine (LocateAsset; several
        times faster) and streams otherwise or when that copy cannot be made; "local" or "stream" force one.
        """
        if via not in ROUTES:
            raise EngineError("INVALID_ARGUMENT", f"via must be one of {', '.join(ROUTES)}; got {via!r}.")
        dest = Path(dest)
        if via != "stream" and self._local.fetch(pack_id, path, dest, progress, required=via == "local"):
            return dest
        part = dest.with_name(dest.name + ".part")
        dest.parent.mkdir(parents=True, exist_ok=True)
        offset = part.stat().st_size if part.exists() else 0
        digest = _sha256_of(part) if offset else hashlib.sha256()  # hashed as it arrives: no second pass
        expected = ""
        req = pb.FetchAssetRequest(pack_id=pack_id, path=path, offset=offset, chunk_bytes=chunk_bytes)
        try:
            with part.open("ab") as fh:
                for chunk in self._stub.FetchAsset(req, timeout=None, metadata=self._metadata):
                    if chunk.offset != fh.tell():
                        raise EngineError("DATA_LOSS", f"{path}: chunk at {chunk.offset}, expected {fh.tell()}.")
                    fh.write(chunk.data)
                    digest.update(chunk.data)
                    expected = chunk.sha256
                    if progress:
                        progress(fh.tell(), chunk.total_bytes)
        except grpc.RpcError as err:
            error = self._error(err)
            if error.code == "OUT_OF_RANGE":
                part.unlink(missing_ok=True)  # a stale partial file larger than the asset
            raise error from None
        if not expected:
            raise EngineError("DATA_LOSS", f"{path}: the engine sent no data for this asset; try again.")
        if digest.hexdigest() != expected:
            part.unlink(missing_ok=True)
            raise EngineError("DATA_LOSS", f"{path}: the downloaded bytes do not match the pack's sha256; try again.")
        os.replace(part, dest)
        return dest

    def download_pack(
        self, pack_id: str, dest_dir: Path, progress: Callable[[str, int, int], None] | None = None, *,
        via: str = "auto",
    ) -> tuple[Path, dict[str, Any]]:
        """Fetch every asset of a pack (and its pack.json) into `dest_dir/<pack_id>/`.

        Same-host copies run a few assets at once (`progress` then comes from those threads, one call
        at a time); the first error, or an exception raised by `progress`, stops the others.
        """
        manifest_text = self._call(self._stub.GetPack, pb.GetPackRequest(pack_id=pack_id)).json
        manifest = json.loads(manifest_text)
        root = Path(dest_dir) / pack_id
        lock = threading.Lock()

        def fetch(asset: dict[str, Any], check: Callable[[], None]) -> None:
            target = root / asset["path"]
            if target.exists() and target.stat().st_size == asset["bytes"] and _sha256(target) == asset["sha256"]:
                return

            def report(done: int, total: int) -> None:
                check()
                if progress:
                    with lock:
                        progress(asset["path"], done, total)

            self.fetch_asset(pack_id, asset["path"], target, progress=report, via=via)

        assets = sorted(manifest["assets"], key=lambda a: -int(a["bytes"]))  # the longest copy starts first
        run_all(assets, fetch, workers_for(len(assets), via != "stream" and self._local.possible))
        (root / "pack.json").write_text(manifest_text)
        return root, manifest

    def _locate(self, pack_id: str, path: str) -> pb.LocalAsset:
        return self._call(self._stub.LocateAsset, pb.LocateAssetRequest(pack_id=pack_id, path=path))


def latent_to_proto(latent: Mapping[str, Any]) -> pb.Latent:
    try:
        return _latent_to_proto(latent)
    except ValueError as exc:
        raise EngineError("INVALID_ARGUMENT", f"Bad latent: {exc}.") from None


def pins_to_proto(pins: Mapping[str, Any]) -> pb.LatentPins:
    try:
        return _pins_to_proto(pins)
    except ValueError as exc:
        raise EngineError("INVALID_ARGUMENT", f"Cannot pin that: {exc}.") from None


def _seed(seed: Any) -> int:
    problem = seed_problem(seed)  # the one seed rule (motif_client/rules.py), shared with the engine
    if problem:
        raise EngineError("INVALID_ARGUMENT", problem)
    return int(seed)


def _pack_dict(p: pb.PackSummary) -> dict[str, Any]:
    return {"pack_id": p.pack_id, "prompt": p.prompt, "seed": p.seed, "created_unix": p.created_unix,
            "asset_count": p.asset_count, "client": p.client, "decoders": list(p.decoders), "quality": p.quality}


def _job_dict(j: pb.JobInfo) -> dict[str, Any]:
    return {"job_id": j.job_id, "state": j.state, "prompt": j.prompt, "client": j.client, "fraction": j.fraction,
            "stage": j.stage, "message": j.message, "pack_id": j.pack_id, "seed": j.seed,
            "decoders": list(j.decoders), "created_unix": j.created_unix, "updated_unix": j.updated_unix,
            "next_seq": j.next_seq}


def _option_dict(o: pb.OptionInfo) -> dict[str, Any]:
    """One decoder option as Describe publishes it; `kind` says how to send it (e.g. "image": base64 text)."""
    return {"name": o.name, "kind": o.kind, "doc": o.doc, "min": o.min if o.has_min else None,
            "max": o.max if o.has_max else None, "choices": list(o.choices),
            "default": json.loads(o.default_json or "null"), "max_bytes": o.max_bytes}


def _asset_dict(a: pb.AssetRef) -> dict[str, Any]:
    return {"role": a.role, "path": a.path, "media_type": a.media_type, "bytes": a.bytes, "sha256": a.sha256}


def _sha256_of(path: Path) -> Any:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest


def _sha256(path: Path) -> str:
    return str(_sha256_of(path).hexdigest())
