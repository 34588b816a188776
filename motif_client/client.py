"""The Motif client: what every plugin (and the CLI) uses to talk to the engine.

Depends only on grpcio, protobuf and the generated stubs beside it, so host plugins can vendor
this folder as it is. Every failure surfaces as `EngineError` with a gRPC code name and a
sentence to show the user.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from .convert import latent_from_proto
from .convert import latent_to_proto as _latent_to_proto
from .convert import pins_to_proto as _pins_to_proto
from .motif_pb import engine_pb2 as pb
from .motif_pb import engine_pb2_grpc as pb_grpc

DEFAULT_ADDRESS = "127.0.0.1:50051"
_MAX_MESSAGE = 16 * 1024 * 1024


class EngineError(Exception):
    """A failed call: `code` is the gRPC status name, `message` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{message} [{code}]")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Event:
    """One event of a Generate stream (see proto JobEvent)."""

    kind: str  # queued | progress | asset | done
    job_id: str
    position: int = 0
    estimated_seconds: float = 0.0
    stage: str = ""
    fraction: float = 0.0
    message: str = ""
    asset: Mapping[str, Any] = field(default_factory=dict)
    manifest: Mapping[str, Any] = field(default_factory=dict)


class MotifClient:
    def __init__(self, address: str = DEFAULT_ADDRESS, token: str | None = None, timeout_s: float = 10.0) -> None:
        self.address = address
        self.timeout_s = timeout_s
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._channel = grpc.insecure_channel(
            address,
            options=[("grpc.max_receive_message_length", _MAX_MESSAGE), ("grpc.max_send_message_length", _MAX_MESSAGE)],
        )
        self._stub = pb_grpc.MotifEngineStub(self._channel)

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
            return EngineError(
                code,
                f"Cannot reach the Motif engine at {self.address}. Start it with `motif serve` "
                f"(or enable 'Start local engine'), check the address, then try again. ({details})",
            )
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
                "Start it with `motif serve`, check the address, then try again.",
            ) from None

    def describe(self) -> dict[str, Any]:
        r = self._call(self._stub.Describe, pb.DescribeRequest())
        return {
            "engine_version": r.engine_version,
            "model_versions": dict(r.model_versions),
            "decoders": [
                {"name": d.name, "summary": d.summary, "reads": list(d.reads), "writes": list(d.writes),
                 "after": list(d.after), "estimated_seconds": d.estimated_seconds, "placeholder": d.placeholder,
                 "default": d.default}
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
    ) -> Iterator[Event]:
        """Start a job and yield its events until `done`; raise EngineError on failure.

        Closing the iterator early (or dropping it) cancels the job on the engine.
        """
        req = pb.GenerateRequest(
            seed=_seed(seed),
            pins=pins_to_proto(pins or {}),
            decoders=list(decoders),
            quality=quality,
            options_json=json.dumps(options or {}),
        )
        if latent is not None:
            req.latent.CopyFrom(latent_to_proto(latent))
        else:
            req.prompt = prompt or ""
        stream = self._stub.Generate(req, timeout=timeout_s, metadata=self._metadata)
        try:
            for ev in stream:
                which = ev.WhichOneof("event")
                if which == "queued":
                    yield Event("queued", ev.job_id, position=ev.queued.position,
                                estimated_seconds=ev.queued.estimated_seconds)
                elif which == "progress":
                    yield Event("progress", ev.job_id, stage=ev.progress.stage, fraction=ev.progress.fraction,
                                message=ev.progress.message)
                elif which == "asset":
                    yield Event("asset", ev.job_id, asset=_asset_dict(ev.asset))
                elif which == "done":
                    yield Event("done", ev.job_id, manifest=json.loads(ev.done.manifest.json))
                    return
                elif which == "error":
                    raise EngineError(ev.error.code, ev.error.message)
        except grpc.RpcError as err:
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
        return [
            {"pack_id": p.pack_id, "prompt": p.prompt, "seed": p.seed, "created_unix": p.created_unix,
             "asset_count": p.asset_count}
            for p in r.packs
        ]

    def fetch_asset(
        self,
        pack_id: str,
        path: str,
        dest: Path,
        chunk_bytes: int = 0,
        progress: Callable[[int, int], None] | None = None,
    ) -> Path:
        """Download one asset to `dest`, resuming a `.part` file left by an interrupted download.

        The file appears under its final name only once complete and its sha256 matches.
        """
        dest = Path(dest)
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
        self, pack_id: str, dest_dir: Path, progress: Callable[[str, int, int], None] | None = None
    ) -> tuple[Path, dict[str, Any]]:
        """Fetch every asset of a pack (and its pack.json) into `dest_dir/<pack_id>/`."""
        manifest_text = self._call(self._stub.GetPack, pb.GetPackRequest(pack_id=pack_id)).json
        manifest = json.loads(manifest_text)
        root = Path(dest_dir) / pack_id
        for asset in manifest["assets"]:
            target = root / asset["path"]
            if target.exists() and target.stat().st_size == asset["bytes"] and _sha256(target) == asset["sha256"]:
                continue

            def report(done: int, total: int, _p: str = asset["path"]) -> None:
                if progress:
                    progress(_p, done, total)

            self.fetch_asset(pack_id, asset["path"], target, progress=report)
        (root / "pack.json").write_text(manifest_text)
        return root, manifest


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
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= 2**32 - 1:
        raise EngineError("INVALID_ARGUMENT", f"The seed must be a whole number from 0 to {2**32 - 1}; got {seed!r}.")
    return seed


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
