"""`motif serve`: the gRPC engine. Thin handlers; errors mapped to status codes in one place.

Encoding runs here (it is fast and the model stays loaded); decoding runs in worker processes
(engine_server.jobs). Health (grpc.health.v1) and server reflection are served beside the API.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent import futures
from pathlib import Path
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from engine_server import __version__, pipeline, same_host
from engine_server import tls as tls_certs
from engine_server.auth import TokenInterceptor, TokenSet
from engine_server.decoders import registry
from engine_server.decoders.base import DecodeRequest, option_schema
from engine_server.errors import (
    InvalidArgument,
    MotifError,
    OutOfRange,
    clip,
    clip_message,
    error_from_code,
    name_list,
)
from engine_server.executors import Executor, make_executor
from engine_server.feed import PackFeed, pack_summary
from engine_server.inputs import MAX_PROMPT_CHARS
from engine_server.jobs import Job, JobManager
from engine_server.journal import JournalEvent
from engine_server.latent import FIELDS
from engine_server.pipeline import JobSpec, LatentSource
from engine_server.service import add_engine_service
from engine_server.store import PackStore
from motif_client.channel import DEFAULT_ADDRESS, is_local_address
from motif_client.convert import latent_from_proto, latent_to_proto, pins_from_proto
from motif_client.motif_pb import engine_pb2 as pb
from motif_client.motif_pb import engine_pb2_grpc as pb_grpc

log = logging.getLogger("motif.server")
FETCH_CHUNK = 1 << 20
MAX_CHUNK = 4 << 20
SERVICE_NAME = "motif.v1.MotifEngine"

T = TypeVar("T")


def _status(code: str) -> grpc.StatusCode:
    return getattr(grpc.StatusCode, code, grpc.StatusCode.INTERNAL)


def mapped_errors(fn: Callable[..., T]) -> Callable[..., T]:
    """Turn domain errors into gRPC statuses; anything else becomes INTERNAL with the bug logged."""

    @functools.wraps(fn)
    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> T:
        try:
            return fn(self, request, context)
        except MotifError as exc:
            context.abort(_status(exc.code), clip_message(exc.message))  # clipped: status metadata is small
        except Exception as exc:
            if context.code() is not None:  # type: ignore[attr-defined]  # context.abort() already set the status
                raise
            log.exception("unhandled error in %s", fn.__name__)
            context.abort(grpc.StatusCode.INTERNAL, clip_message(f"Engine error in {fn.__name__}: {exc}"))
        raise AssertionError("unreachable")

    return wrapper


def mapped_stream_errors(fn: Callable[..., Iterator[T]]) -> Callable[..., Iterator[T]]:
    @functools.wraps(fn)
    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> Iterator[T]:
        try:
            yield from fn(self, request, context)
        except MotifError as exc:
            context.abort(_status(exc.code), clip_message(exc.message))
        except Exception as exc:
            if context.code() is not None:  # type: ignore[attr-defined]
                raise
            log.exception("unhandled error in %s", fn.__name__)
            context.abort(grpc.StatusCode.INTERNAL, clip_message(f"Engine error in {fn.__name__}: {exc}"))

    return wrapper


class MotifServicer(pb_grpc.MotifEngineServicer):
    def __init__(self, store: PackStore, jobs: JobManager, encoder: LatentSource | None, feed: PackFeed) -> None:
        self.store = store
        self.jobs = jobs
        self.encoder = encoder
        self.feed = feed

    @mapped_errors
    def Describe(self, request: pb.DescribeRequest, context: grpc.ServicerContext) -> pb.DescribeResponse:
        resp = pb.DescribeResponse(
            engine_version=__version__,
            model_versions=dict(self.encoder.versions) if self.encoder else {},
            capabilities=["cancel", "queue-position", "resume-fetch", "pins", "full-latent", "replay", "detach",
                          "watch-job", "list-jobs", "resume-job", "watch-packs", "local-fetch", "hum"],
            max_prompt_chars=MAX_PROMPT_CHARS,
            fetch_chunk_bytes=FETCH_CHUNK,
        )
        for name in registry.names():
            d = registry.get(name)
            resp.decoders.add(
                name=d.name, summary=d.summary, reads=sorted(d.reads),
                writes=[f"{o.role} {o.media_type}" for o in d.writes], after=list(d.after),
                estimated_seconds=d.estimate_seconds(DecodeRequest(latent=_any_latent(), seed=0)),
                placeholder=d.placeholder, default=name in registry.DEFAULT_DECODERS,
                options=[_option_pb(o) for o in option_schema(d.option_spec)], diagnostic=d.diagnostic,
            )
        for spec in FIELDS.values():
            resp.latent_fields.add(name=spec.name, kind=spec.kind, doc=spec.doc, min=spec.lo, max=spec.hi,
                                   choices=list(spec.choices))
        return resp

    @mapped_errors
    def Encode(self, request: pb.EncodeRequest, context: grpc.ServicerContext) -> pb.EncodeResponse:
        if self.encoder is None:
            raise InvalidArgument("This engine has no encoder installed; run `make setup`.")
        latent = pipeline.encode(self.encoder, request.prompt, request.seed, _pins(request.pins))
        d = latent.to_dict()
        return pb.EncodeResponse(latent=latent_to_proto(d), latent_json=json.dumps(d, sort_keys=True))

    @mapped_stream_errors
    def Generate(self, request: pb.GenerateRequest, context: grpc.ServicerContext) -> Iterator[pb.JobEvent]:
        spec = _job_spec(request)
        prepared = pipeline.prepare(spec, self.encoder)
        job = self.jobs.submit(prepared, spec, client=_client_name(request.client))
        if request.cancel_on_disconnect and not context.add_callback(lambda: self._abandon(job)):
            self._abandon(job)  # the RPC had already ended (client killed at once): the callback would never run
        yield from self._stream(job, context, 0)

    def _abandon(self, job: Job) -> None:
        """A cancel_on_disconnect RPC ended (client gone, or deadline): a job still going is cancelled."""
        if not job.finished.is_set():
            log.info("client left job %s and asked for cancel on disconnect; cancelling it", job.id)
            with contextlib.suppress(MotifError):
                self.jobs.cancel(job.id)

    def _stream(self, job: Job, context: grpc.ServicerContext, from_seq: int) -> Iterator[pb.JobEvent]:
        """A job's journal from `from_seq`, then live events until it ends. Leaving only detaches."""
        seq = from_seq
        while True:
            events = job.wait_events(seq, timeout=0.25)
            if not events:
                if not context.is_active() or (job.finished.is_set() and seq >= job.journal.next_seq):
                    return  # the client left, or it asked to start just past the end of an ended job
                continue
            for ev in events:
                seq = ev.seq + 1
                yield self._event_pb(job, ev)
                if ev.kind == "error":
                    raise error_from_code(ev.data["code"], ev.data["message"])
                if ev.kind == "done":
                    return

    def _event_pb(self, job: Job, ev: JournalEvent) -> pb.JobEvent:
        out = pb.JobEvent(job_id=job.id, seq=ev.seq)
        if ev.kind == "queued":
            out.queued.CopyFrom(pb.Queued(**ev.data))
        elif ev.kind == "progress":
            out.progress.CopyFrom(pb.Progress(**ev.data))
        elif ev.kind == "asset":
            out.asset.CopyFrom(pb.AssetRef(**ev.data))
        elif ev.kind == "done":
            out.done.CopyFrom(pb.Done(manifest=_manifest_pb(job.manifest or self.store.get(ev.data["pack_id"]))))
        elif ev.kind == "error":
            out.error.CopyFrom(pb.JobError(code=ev.data["code"], message=ev.data["message"]))
        return out

    @mapped_stream_errors
    def WatchJob(self, request: pb.WatchJobRequest, context: grpc.ServicerContext) -> Iterator[pb.JobEvent]:
        job = self.jobs.get(request.job_id)
        if request.from_seq > job.journal.next_seq:
            raise OutOfRange(f"Job {job.id} has {job.journal.next_seq} events so far (seq 0 to "
                             f"{job.journal.next_seq - 1}); from_seq {request.from_seq} is past its end.")
        yield from self._stream(job, context, request.from_seq)

    @mapped_errors
    def ListJobs(self, request: pb.ListJobsRequest, context: grpc.ServicerContext) -> pb.ListJobsResponse:
        return pb.ListJobsResponse(jobs=[_job_info(j) for j in self.jobs.list(request.limit, list(request.states))])

    @mapped_errors
    def ResumeJob(self, request: pb.ResumeJobRequest, context: grpc.ServicerContext) -> pb.JobInfo:
        old = self.jobs.resumable(request.job_id)
        prepared = pipeline.prepare(old.spec, self.encoder)
        return _job_info(self.jobs.resume(old.id, prepared))

    @mapped_stream_errors
    def WatchPacks(self, request: pb.WatchPacksRequest, context: grpc.ServicerContext) -> Iterator[pb.PackSummary]:
        sub = self.feed.subscribe(request.last)
        try:
            while context.is_active():
                summary = sub.next(timeout=0.25)
                if summary is not None:
                    yield pb.PackSummary(**summary)
        finally:
            sub.close()

    @mapped_stream_errors
    def FetchAsset(self, request: pb.FetchAssetRequest, context: grpc.ServicerContext) -> Iterator[pb.AssetChunk]:
        path, entry = self.store.asset_path(request.pack_id, request.path)
        total = int(entry["bytes"])
        if request.offset > total:
            raise OutOfRange(f"Offset {request.offset} is past the end of {request.path} ({total} bytes).")
        chunk = request.chunk_bytes or FETCH_CHUNK
        if not 1024 <= chunk <= MAX_CHUNK:
            raise InvalidArgument(f"chunk_bytes must be between 1024 and {MAX_CHUNK}; got {chunk}.")
        digest = entry["sha256"]
        with path.open("rb") as fh:
            fh.seek(request.offset)
            offset = request.offset
            while True:
                data = fh.read(chunk)
                if not data and offset != request.offset:
                    return
                yield pb.AssetChunk(offset=offset, data=data, total_bytes=total, sha256=digest)
                offset += len(data)
                if not data or offset >= total:
                    return

    @mapped_errors
    def LocateAsset(self, request: pb.LocateAssetRequest, context: grpc.ServicerContext) -> pb.LocalAsset:
        """Same-host fast path (engine_server.same_host): loopback and unix-socket peers only."""
        path, size, digest = same_host.locate(self.store, request.pack_id, request.path, context.peer())
        return pb.LocalAsset(path=str(path), bytes=size, sha256=digest)

    @mapped_errors
    def GetPack(self, request: pb.GetPackRequest, context: grpc.ServicerContext) -> pb.PackManifest:
        return _manifest_pb(self.store.get(request.pack_id), self.store.manifest_text(request.pack_id))

    @mapped_errors
    def ListPacks(self, request: pb.ListPacksRequest, context: grpc.ServicerContext) -> pb.ListPacksResponse:
        packs = self.store.list()
        if request.limit:
            packs = packs[: request.limit]
        return pb.ListPacksResponse(packs=[pb.PackSummary(**pack_summary(self.store, m, t)) for m, t in packs])

    @mapped_errors
    def Cancel(self, request: pb.CancelRequest, context: grpc.ServicerContext) -> pb.CancelResponse:
        return pb.CancelResponse(was_running=self.jobs.cancel(request.job_id))


def _client_name(name: str) -> str:
    """The host that asks ("blender", "unreal", "resolve", "live", "cli", ...): a short label, never trusted."""
    name = name.strip()
    if len(name) > 32 or not all(c.isalnum() or c in "-_." for c in name):
        raise InvalidArgument("client must be a short name such as 'blender' or 'cli' (letters, digits, - _ .; "
                              "at most 32 characters).")
    return name


def _job_info(job: Job) -> pb.JobInfo:
    return pb.JobInfo(
        job_id=job.id, state=job.state, prompt=job.record.get("prompt", ""), client=job.client,
        fraction=job.fraction, stage=job.stage, message=job.message, pack_id=job.pack_id,
        seed=int(job.record.get("seed", 0)), decoders=list(job.record.get("decoders", [])),
        created_unix=float(job.record["created_unix"]), updated_unix=job.updated, next_seq=job.journal.next_seq,
    )


def _pins(msg: pb.LatentPins) -> dict[str, Any]:
    try:
        return pins_from_proto(msg)
    except ValueError:
        unknown = [n for n in msg.fields if n not in FIELDS]
        raise InvalidArgument(
            f"Cannot pin unknown latent field(s): {name_list(unknown)}. Known fields: {', '.join(FIELDS)}."
        ) from None


def _option_pb(o: dict[str, Any]) -> pb.OptionInfo:
    """One option of a decoder's schema (decoders/base.py option_schema) as Describe sends it."""
    return pb.OptionInfo(
        name=o["name"], kind=o["kind"], doc=o["doc"], has_min=o["min"] is not None, min=o["min"] or 0.0,
        has_max=o["max"] is not None, max=o["max"] or 0.0, choices=o["choices"], default_json=o["default_json"],
        max_bytes=o["max_bytes"],
    )


def _job_spec(request: pb.GenerateRequest) -> JobSpec:
    if len(request.options_json) > pipeline.MAX_OPTIONS_BYTES:
        raise InvalidArgument(f"options_json is {len(request.options_json):,} characters long; the limit is "
                              f"{pipeline.MAX_OPTIONS_BYTES:,}.")
    try:
        options = json.loads(request.options_json) if request.options_json else {}
    except RecursionError:
        raise InvalidArgument("options_json is nested too deeply to read.") from None
    except ValueError as exc:  # JSONDecodeError, or an integer of more than 4,300 digits
        raise InvalidArgument(f"options_json is not valid JSON: {clip(str(exc))}.") from None
    if not isinstance(options, dict):
        raise InvalidArgument("options_json must be a JSON object keyed by decoder name.")
    source = request.WhichOneof("source")
    return JobSpec(
        prompt=request.prompt if source == "prompt" else None,  # neither: prepare says to give one
        latent=latent_from_proto(request.latent) if source == "latent" else None,
        pins=_pins(request.pins),
        seed=request.seed,
        decoders=tuple(request.decoders),
        quality=request.quality or "draft",
        options=options,
        inputs=_inputs(request),
    )


def _inputs(request: pb.GenerateRequest) -> dict[str, Any]:
    """Files given with the request, for engine_server/readers (score to picture's edit, a hummed melody)."""
    out: dict[str, Any] = {}
    if request.HasField("edit"):
        e = request.edit
        out["edit"] = {"file_name": e.file_name, "data": bytes(e.data), "hits": e.hits or "all"}
    if request.HasField("hum"):
        out["hum"] = {"file_name": request.hum.file_name, "data": bytes(request.hum.data)}
    return out


def _manifest_pb(manifest: dict[str, Any], text: str | None = None) -> pb.PackManifest:
    return pb.PackManifest(
        pack_id=manifest["pack_id"],
        json=text if text is not None else json.dumps(manifest, sort_keys=True),
        assets=[pb.AssetRef(**{k: a[k] for k in ("role", "path", "media_type", "bytes", "sha256")})
                for a in manifest["assets"]],
    )


@functools.cache
def _any_latent() -> Any:
    """A neutral latent for cost estimates in Describe."""
    from engine_server.latent import EMBEDDING_DIM, Latent

    return Latent.from_dict({
        "palette": ["#202020", "#404040", "#808080", "#b0b0b0", "#e0e0e0"], "brightness": 0.5, "contrast": 0.5,
        "saturation": 0.5, "warmth": 0.0, "time_of_day": "noon", "weather": "clear", "weather_intensity": 0.0,
        "valence": 0.0, "arousal": 0.5, "tension": 0.5, "tempo_bpm": 100.0, "meter": "4/4", "key": "C",
        "mode": "major", "ensemble": "piano", "instruments": {"piano": 1.0}, "roughness": 0.5, "metalness": 0.0,
        "wear": 0.0, "geometry_style": "architectural", "density": 0.5, "camera_motion": "static",
        "embedding": [0.0] * EMBEDDING_DIM, "seed": 0,
    })


def check_bind(address: str, token: object, *, tls: bool = False, insecure: bool = False) -> None:
    """Refuse to listen beyond this machine without a token, and without TLS unless told `insecure`.

    `token` is anything truthy when clients must present one (a token or a token file).
    """
    try:
        if is_local_address(address, allow_port_zero=True):
            return
    except ValueError as exc:
        raise InvalidArgument(str(exc)) from None
    if not token:
        raise InvalidArgument(
            f"Refusing to listen on {address}: that address is reachable from other machines. "
            "Give each client a token in a token file (--token-file FILE or MOTIF_TOKEN_FILE) to serve beyond "
            "loopback, or bind 127.0.0.1."
        )
    if not tls and not insecure:
        raise InvalidArgument(
            f"Refusing to listen on {address} without TLS: tokens and prompts would cross the network in clear "
            "text. Add --tls (remote hosts pin the CA that `motif trust` prints), or --insecure on a network you "
            "trust completely."
        )


class Engine:
    """A running server: gRPC + health + reflection + job manager. Used by `motif serve` and tests."""

    def __init__(
        self,
        address: str = DEFAULT_ADDRESS,
        store_root: Path | None = None,
        token: str | None = None,
        workers: int = 1,
        encoder: LatentSource | None = None,
        load_encoder: bool = True,
        *,
        token_file: Path | str | None = None,
        tls: bool = False,
        tls_names: Sequence[str] = (),
        insecure: bool = False,
        executor: str | Executor = "local",
        ray_address: str = "auto",
        ray_shared_dir: Path | None = None,
    ) -> None:
        from engine_server import config

        check_bind(address, token or token_file, tls=tls, insecure=insecure)
        # What runs the decoders (engine_server/executors): started first, so `motif serve --executor ray`
        # with no cluster fails at once with a sentence, before the encoder loads.
        runner = (make_executor(executor, ray_address=ray_address, ray_shared_dir=ray_shared_dir)
                  if isinstance(executor, str) else executor)
        runner.start()
        tokens = TokenSet([token] if token else [], token_file)  # auth.py: re-reads the file when it changes
        self.store = PackStore(store_root or config.store_dir())
        self.store.clean_stale()
        if encoder is None and load_encoder:
            from engine_server.encoder import get_encoder

            encoder = get_encoder()
        self.feed = PackFeed(self.store)
        self.jobs = JobManager(self.store, workers=workers, on_commit=self.feed.poke, executor=runner)
        interceptors: list[Any] = [TokenInterceptor(tokens)] if tokens else []
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="motif-rpc"),
            interceptors=interceptors,
            options=[("grpc.max_receive_message_length", 32 << 20), ("grpc.max_send_message_length", 32 << 20),
                     ("grpc.so_reuseport", 0)],
        )
        add_engine_service(MotifServicer(self.store, self.jobs, encoder, self.feed), self.server)
        self.health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            (pb.DESCRIPTOR.services_by_name["MotifEngine"].full_name, health.SERVICE_NAME, reflection.SERVICE_NAME),
            self.server,
        )
        self.tls: tls_certs.ServerIdentity | None = None
        if tls:  # engine_server/tls.py: a certificate from the per-install CA, made once, kept
            self.tls = tls_certs.server_identity(address.rpartition(":")[0], tls_names)
            credentials = grpc.ssl_server_credentials([(self.tls.key_pem, self.tls.cert_pem)])
            self.port = self.server.add_secure_port(address, credentials)
        else:
            self.port = self.server.add_insecure_port(address)
        if self.port == 0:
            raise InvalidArgument(f"Cannot listen on {address}: the address is in use or not available.")
        self.address = f"{address.rsplit(':', 1)[0]}:{self.port}"

    def start(self) -> Engine:
        self.server.start()
        for name in ("", SERVICE_NAME):
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        return self

    def stop(self, grace_s: float = 2.0) -> None:
        self.health.enter_graceful_shutdown()
        self.server.stop(grace_s).wait()
        self.jobs.close()
        self.feed.close()

    def wait(self) -> None:
        """Serve until SIGINT/SIGTERM, then shut down cleanly."""
        stopped = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stopped.set())
        while not stopped.is_set():
            time.sleep(0.2)
        self.stop()
