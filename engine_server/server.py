"""`motif serve`: the gRPC engine. Thin handlers; errors mapped to status codes in one place.

Encoding runs here (it is fast and the model stays loaded); decoding runs in worker processes
(engine_server.jobs). Health (grpc.health.v1) and server reflection are served beside the API.
"""

from __future__ import annotations

import contextlib
import functools
import hmac
import ipaddress
import json
import logging
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from pathlib import Path
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from engine_server import __version__, pipeline
from engine_server.decoders import registry
from engine_server.decoders.base import DecodeRequest
from engine_server.errors import InvalidArgument, MotifError, OutOfRange, error_from_code
from engine_server.inputs import MAX_PROMPT_CHARS, check_prompt, check_seed
from engine_server.jobs import Job, JobManager
from engine_server.latent import FIELDS
from engine_server.pipeline import JobSpec, LatentSource
from engine_server.store import PackStore
from motif_client.convert import latent_from_proto, latent_to_proto, pins_from_proto
from motif_client.motif_pb import engine_pb2 as pb
from motif_client.motif_pb import engine_pb2_grpc as pb_grpc

log = logging.getLogger("motif.server")
DEFAULT_ADDRESS = "127.0.0.1:50051"
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
            context.abort(_status(exc.code), exc.message)
        except Exception as exc:
            if context.code() is not None:  # type: ignore[attr-defined]  # context.abort() already set the status
                raise
            log.exception("unhandled error in %s", fn.__name__)
            context.abort(grpc.StatusCode.INTERNAL, f"Engine error in {fn.__name__}: {exc}")
        raise AssertionError("unreachable")

    return wrapper


def mapped_stream_errors(fn: Callable[..., Iterator[T]]) -> Callable[..., Iterator[T]]:
    @functools.wraps(fn)
    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> Iterator[T]:
        try:
            yield from fn(self, request, context)
        except MotifError as exc:
            context.abort(_status(exc.code), exc.message)
        except Exception as exc:
            if context.code() is not None:  # type: ignore[attr-defined]
                raise
            log.exception("unhandled error in %s", fn.__name__)
            context.abort(grpc.StatusCode.INTERNAL, f"Engine error in {fn.__name__}: {exc}")

    return wrapper


class TokenInterceptor(grpc.ServerInterceptor):
    """Require `authorization: Bearer <token>` on every API call (health stays open for probes)."""

    def __init__(self, token: str) -> None:
        self._token = token.encode()

        def deny(request: Any, context: grpc.ServicerContext) -> Any:
            context.abort(grpc.StatusCode.UNAUTHENTICATED,
                          "A valid token is required: set it in the plugin preferences or pass --token.")

        self._deny = grpc.unary_unary_rpc_method_handler(deny)
        self._deny_stream = grpc.unary_stream_rpc_method_handler(deny)

    def intercept_service(self, continuation: Callable[[Any], Any], details: Any) -> Any:
        method = details.method or ""
        if not method.startswith(f"/{SERVICE_NAME}/"):
            return continuation(details)
        given = dict(details.invocation_metadata).get("authorization", "")
        if hmac.compare_digest(given.encode(), b"Bearer " + self._token):
            return continuation(details)
        return self._deny_stream if method.endswith(("/Generate", "/FetchAsset")) else self._deny


class MotifServicer(pb_grpc.MotifEngineServicer):
    def __init__(self, store: PackStore, jobs: JobManager, encoder: LatentSource | None) -> None:
        self.store = store
        self.jobs = jobs
        self.encoder = encoder

    @mapped_errors
    def Describe(self, request: pb.DescribeRequest, context: grpc.ServicerContext) -> pb.DescribeResponse:
        resp = pb.DescribeResponse(
            engine_version=__version__,
            model_versions=dict(self.encoder.versions) if self.encoder else {},
            capabilities=["cancel", "queue-position", "resume-fetch", "pins", "full-latent", "replay"],
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
            )
        for spec in FIELDS.values():
            resp.latent_fields.add(name=spec.name, kind=spec.kind, doc=spec.doc, min=spec.lo, max=spec.hi,
                                   choices=list(spec.choices))
        return resp

    @mapped_errors
    def Encode(self, request: pb.EncodeRequest, context: grpc.ServicerContext) -> pb.EncodeResponse:
        if self.encoder is None:
            raise InvalidArgument("This engine has no encoder installed; run `make setup`.")
        prompt = check_prompt(request.prompt)
        seed = check_seed(request.seed)
        latent = self.encoder.encode(prompt, seed)
        pins = _pins(request.pins)
        if pins:
            latent = latent.with_fields(pins)
        d = latent.to_dict()
        return pb.EncodeResponse(latent=latent_to_proto(d), latent_json=json.dumps(d, sort_keys=True))

    @mapped_stream_errors
    def Generate(self, request: pb.GenerateRequest, context: grpc.ServicerContext) -> Iterator[pb.JobEvent]:
        spec = _job_spec(request)
        prepared = pipeline.prepare(spec, self.encoder)
        job = self.jobs.submit(prepared)
        context.add_callback(lambda: self._abandon(job))
        yield from self._stream(job, context)

    def _abandon(self, job: Job) -> None:
        """The RPC ended (finished, client gone, or deadline): a job still going is cancelled."""
        if not job.finished.is_set():
            log.info("client left job %s; cancelling it", job.id)
            with contextlib.suppress(MotifError):
                self.jobs.cancel(job.id)

    def _stream(self, job: Job, context: grpc.ServicerContext) -> Iterator[pb.JobEvent]:
        while True:
            try:
                ev = job.events.get(timeout=0.25)
            except queue.Empty:
                if not context.is_active():
                    return
                continue
            if ev.kind == "queued":
                yield pb.JobEvent(job_id=job.id, queued=pb.Queued(**ev.data))
            elif ev.kind == "progress":
                yield pb.JobEvent(job_id=job.id, progress=pb.Progress(**ev.data))
            elif ev.kind == "asset":
                yield pb.JobEvent(job_id=job.id, asset=pb.AssetRef(**ev.data))
            elif ev.kind == "done":
                yield pb.JobEvent(job_id=job.id, done=pb.Done(manifest=_manifest_pb(ev.data["manifest"])))
                return
            elif ev.kind == "error":
                yield pb.JobEvent(job_id=job.id, error=pb.JobError(code=ev.data["code"], message=ev.data["message"]))
                raise error_from_code(ev.data["code"], ev.data["message"])

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
    def GetPack(self, request: pb.GetPackRequest, context: grpc.ServicerContext) -> pb.PackManifest:
        return _manifest_pb(self.store.get(request.pack_id), self.store.manifest_text(request.pack_id))

    @mapped_errors
    def ListPacks(self, request: pb.ListPacksRequest, context: grpc.ServicerContext) -> pb.ListPacksResponse:
        packs = self.store.list()
        if request.limit:
            packs = packs[: request.limit]
        return pb.ListPacksResponse(
            packs=[
                pb.PackSummary(pack_id=m["pack_id"], prompt=m["request"].get("prompt", ""), seed=m["seed"],
                               created_unix=t, asset_count=len(m["assets"]))
                for m, t in packs
            ]
        )

    @mapped_errors
    def Cancel(self, request: pb.CancelRequest, context: grpc.ServicerContext) -> pb.CancelResponse:
        return pb.CancelResponse(was_running=self.jobs.cancel(request.job_id))


def _pins(msg: pb.LatentPins) -> dict[str, Any]:
    try:
        return pins_from_proto(msg)
    except ValueError as exc:
        raise InvalidArgument(f"{str(exc).capitalize()}. Known fields: {', '.join(FIELDS)}.") from None


def _job_spec(request: pb.GenerateRequest) -> JobSpec:
    try:
        options = json.loads(request.options_json) if request.options_json else {}
    except json.JSONDecodeError as exc:
        raise InvalidArgument(f"options_json is not valid JSON: {exc}.") from None
    if not isinstance(options, dict):
        raise InvalidArgument("options_json must be a JSON object keyed by decoder name.")
    source = request.WhichOneof("source")
    return JobSpec(
        prompt=request.prompt if source == "prompt" else (None if source == "latent" else ""),
        latent=latent_from_proto(request.latent) if source == "latent" else None,
        pins=_pins(request.pins),
        seed=request.seed,
        decoders=tuple(request.decoders),
        quality=request.quality or "draft",
        options=options,
    )


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


def check_bind(address: str, token: str | None) -> None:
    """Refuse to listen beyond this machine without a token."""
    host = address.rsplit(":", 1)[0].strip("[]")
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not token:
        raise InvalidArgument(
            f"Refusing to listen on {address}: that address is reachable from other machines. "
            "Set a token (--token or MOTIF_TOKEN) to serve beyond loopback, or bind 127.0.0.1."
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
    ) -> None:
        from engine_server import config

        check_bind(address, token)
        self.store = PackStore(store_root or config.store_dir())
        self.store.clean_stale()
        if encoder is None and load_encoder:
            from engine_server.encoder import get_encoder

            encoder = get_encoder()
        self.jobs = JobManager(self.store, workers=workers)
        interceptors: list[Any] = [TokenInterceptor(token)] if token else []
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="motif-rpc"),
            interceptors=interceptors,
            options=[("grpc.max_receive_message_length", 32 << 20), ("grpc.max_send_message_length", 32 << 20),
                     ("grpc.so_reuseport", 0)],
        )
        pb_grpc.add_MotifEngineServicer_to_server(MotifServicer(self.store, self.jobs, encoder), self.server)
        self.health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            (pb.DESCRIPTOR.services_by_name["MotifEngine"].full_name, health.SERVICE_NAME, reflection.SERVICE_NAME),
            self.server,
        )
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

    def wait(self) -> None:
        """Serve until SIGINT/SIGTERM, then shut down cleanly."""
        stopped = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stopped.set())
        while not stopped.is_set():
            time.sleep(0.2)
        self.stop()
