"""Prompt -> latent -> decoders -> pack: the steps of one job, shared by the server and the CLI.

`prepare` validates everything and fixes the recipe (latent, decoders, pack id) before any work;
`run_decoders` does the heavy part (in a worker process under the server); `commit` publishes.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from engine_server import __version__
from engine_server.decoders import registry
from engine_server.decoders.base import QUALITIES, Asset, DecodeContext, DecodeRequest
from engine_server.errors import InvalidArgument, name_list, quote
from engine_server.inputs import check_prompt, check_seed
from engine_server.latent import FIELDS, Latent
from engine_server.readers import merge_options, read_inputs
from engine_server.store import PackStore, StagedFile, canonical_json

SCHEMA = "motif.pack/1"
MAX_OPTIONS_BYTES = 16 * 1024 * 1024  # options may carry a melody MIDI or a sketch
IPTC_ALGORITHMIC = "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia"


@dataclass(frozen=True)
class JobSpec:
    """A generate request, normalised: what the user asked for, nothing derived yet."""

    prompt: str | None = None
    latent: Mapping[str, Any] | None = None
    pins: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0
    decoders: Sequence[str] = ()
    quality: str = "draft"
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # Files given with the prompt, by reader name (engine_server/readers): e.g. {"edit": {...}}.
    inputs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PreparedJob:
    """A validated recipe: everything a worker needs, and the identity of the pack it makes."""

    pack_id: str
    latent: Latent
    seed: int
    quality: str
    decoders: tuple[str, ...]
    options: Mapping[str, Mapping[str, Any]]
    request_record: Mapping[str, Any]
    model_versions: Mapping[str, str]
    estimated_seconds: float


class LatentSource(Protocol):
    """What `prepare` needs from the encoder."""

    def encode(self, prompt: str, seed: int) -> Latent: ...

    @property
    def versions(self) -> Mapping[str, str]: ...


def encode(encoder: LatentSource, prompt: object, seed: object, pins: Mapping[str, Any] | None = None) -> Latent:
    """Prompt and seed to the latent, the user's pins applied: the one Encode of the server and the CLI."""
    latent = encoder.encode(check_prompt(prompt), check_seed(seed))
    return latent.with_fields(dict(pins)) if pins else latent


def prepare(spec: JobSpec, encoder: LatentSource | None) -> PreparedJob:
    """Validate the request and fix its recipe. Raises InvalidArgument before any work."""
    seed = check_seed(spec.seed)
    if spec.quality not in QUALITIES:
        raise InvalidArgument(f"quality must be one of {', '.join(QUALITIES)}; got {quote(spec.quality)}.")
    if (spec.prompt is not None and spec.latent is not None) or (spec.prompt is None and spec.latent is None
                                                                and not spec.inputs):
        raise InvalidArgument("Give either a prompt or a full latent, not both and not neither.")
    prompt = check_prompt(spec.prompt) if spec.prompt is not None else None
    unknown_pins = set(spec.pins) - set(FIELDS)
    if unknown_pins:
        raise InvalidArgument(
            f"Cannot pin unknown latent field(s): {name_list(unknown_pins)}. Known: {', '.join(FIELDS)}."
        )
    unknown_opts = set(spec.options) - set(registry.names())
    if unknown_opts:
        raise InvalidArgument(
            f"Options given for unknown decoder(s): {name_list(unknown_opts)}. "
            f"Available: {', '.join(registry.names())}."
        )
    for name, opts in spec.options.items():
        if not isinstance(opts, Mapping):
            raise InvalidArgument(f"Options for decoder {quote(name)} must be a JSON object.")
    readings = read_inputs(spec.inputs) if spec.inputs else []  # each input's file read once, here
    based = next((b for r in readings if (b := r.base()) is not None), None)
    if prompt is None and spec.latent is None and based is None:
        raise InvalidArgument("Give either a prompt or a full latent, not both and not neither.")
    decoders = registry.resolve(spec.decoders or tuple(d for r in readings for d in r.decoders))
    names = tuple(d.name for d in decoders)

    versions: dict[str, str] = {}
    if prompt is not None:
        if encoder is None:
            raise InvalidArgument("This engine has no encoder; send a full latent instead of a prompt.")
        latent = encoder.encode(prompt, seed)
        versions.update(encoder.versions)
        source: dict[str, Any] = {"prompt": prompt}
    elif spec.latent is not None:
        latent = Latent.from_dict({**spec.latent, "seed": seed})
        source = {"latent": latent.to_dict()}
    else:  # an input that can stand alone (an edit) gives the start
        assert based is not None
        latent = based.with_fields({"seed": seed})
        source = {}
    for r in readings:  # before the pins, so the user's pins win
        latent = r.fold(latent, frozenset(spec.pins), prompted=bool(source))
    sketch_record = _fold_sketch(spec.options)
    if sketch_record is not None:
        latent, source["sketch"] = sketch_record[0](latent), sketch_record[1]
    if spec.pins:  # after the sketch, so the user's pins win
        latent = latent.with_fields(spec.pins)
    latent = latent.with_fields({"seed": seed})
    options: Mapping[str, Mapping[str, Any]] = spec.options
    for r in readings:  # what an input implies, under what the request sets explicitly
        options = merge_options(options, {k: v for k, v in r.options(latent).items() if k in names})
        source[r.name] = r.record()

    requests = {}
    estimate = 0.0
    for d in decoders:
        req = DecodeRequest(latent=latent, seed=seed, quality=spec.quality, options=dict(options.get(d.name, {})))
        d.validate(req)
        requests[d.name] = req
        estimate += d.estimate_seconds(req)

    final = latent.to_dict()
    record = {
        **source,
        "pins": {k: final[k] for k in sorted(spec.pins)},
        "decoders": list(names),
        "quality": spec.quality,
        "options": {k: dict(v) for k, v in sorted(options.items()) if k in names},
    }
    identity = {"schema": SCHEMA, "engine": __version__, "models": versions, "request": record, "seed": seed}
    pack_id = hashlib.sha256(canonical_json(identity).encode()).hexdigest()[:24]
    return PreparedJob(pack_id, latent, seed, spec.quality, names, record["options"], record, versions, estimate)


def _fold_sketch(options: Mapping[str, Mapping[str, Any]]) -> tuple[Callable[[Latent], Latent], dict] | None:
    """A sketch given to the image or video decoder also steers the shared palette (checked before any work)."""
    raw = (options.get("image") or {}).get("sketch") or (options.get("video") or {}).get("sketch")
    if not raw:
        return None
    from engine_server.sketch import decode_sketch_option, fold_sketch, load_sketch

    sketch = load_sketch(decode_sketch_option(raw))
    return (lambda latent: fold_sketch(latent, sketch)), sketch.contribution()


def replay_command(job: PreparedJob) -> str:
    """A shell command that makes the same pack again."""
    parts = ["motif", "generate"]
    rec = job.request_record
    if "edit" in rec:  # score to picture: the same edit file (by name; its sha256 is in request.edit)
        edit = rec["edit"]
        parts = ["motif", "score", edit["file"], "--seed", str(job.seed)]
        if "prompt" in rec:
            parts += ["--prompt", rec["prompt"]]
        hits = edit["hits_requested"]
        if hits != "all":
            parts += ["--hits", hits if isinstance(hits, str) else ",".join(map(str, hits))]
        return shlex.join(parts)
    if "prompt" in rec:
        parts.append(rec["prompt"])
    else:
        parts += ["--latent-json", json.dumps(rec["latent"], sort_keys=True)]
    if "hum" in rec:  # the same hummed file (by name; its sha256 is in request.hum)
        parts += ["--hum", rec["hum"]["file"]]
    parts += ["--seed", str(job.seed), "--only", ",".join(job.decoders), "--quality", job.quality]
    for name, value in rec["pins"].items():
        parts += ["--pin", f"{name}={json.dumps(value)}"]
    if rec["options"]:
        parts += ["--options", json.dumps(rec["options"], sort_keys=True)]
    return shlex.join(parts)


def run_decoders(
    job: PreparedJob,
    staging: Path,
    progress: Callable[[str, float, str], None],
    is_cancelled: Callable[[], bool],
    only: Collection[str] | None = None,
    upstream: Mapping[str, Sequence[Asset]] | None = None,
) -> list[StagedFile]:
    """Run each decoder in order into `staging`. Progress is reported as a fraction of the job.

    An executor that places each decoder on its own machine passes `only` (the decoders to run here)
    and `upstream` (the assets, already in `staging`, of those they consume); progress stays a
    fraction of the whole job, as if the others had run before."""
    decoders = [registry.get(n) for n in job.decoders]
    weights = list(decoder_weights(job).values())
    total = sum(weights)
    done = 0.0
    consumed: dict[str, list[Asset]] = {name: list(assets) for name, assets in (upstream or {}).items()}
    staged: list[StagedFile] = []
    for d, w in zip(decoders, weights, strict=True):
        if only is not None and d.name not in only:
            done += w
            continue
        base = done

        def report(fraction: float, message: str, _base: float = base, _w: float = w, _name: str = d.name) -> None:
            progress(_name, (_base + fraction * _w) / total, message)

        ctx = DecodeContext(staging, report, is_cancelled, consumed)
        ctx.progress(0.0, f"{d.name}: starting")
        assets = d.decode(_request(job, d.name), ctx)
        consumed[d.name] = assets
        staged += [StagedFile(a.role, a.path, a.media_type, d.name, dict(a.meta)) for a in assets]
        done += w
        ctx.progress(1.0, f"{d.name}: done ({len(assets)} files)")
    return staged


def decoder_weights(job: PreparedJob) -> dict[str, float]:
    """Each decoder's share of the job's progress (its estimated seconds), in run order."""
    return {n: max(registry.get(n).estimate_seconds(_request(job, n)), 0.05) for n in job.decoders}


def _request(job: PreparedJob, name: str) -> DecodeRequest:
    return DecodeRequest(latent=job.latent, seed=job.seed, quality=job.quality, options=dict(job.options.get(name, {})))


def build_manifest(job: PreparedJob) -> dict[str, Any]:
    """Everything in pack.json except the asset list (the store adds it)."""
    return {
        "schema": SCHEMA,
        "engine": {"name": "motif", "version": __version__},
        "models": dict(job.model_versions),
        "request": dict(job.request_record),
        "seed": job.seed,
        "latent": job.latent.to_dict(),
        "provenance": {
            "machine_generated": True,
            "generator": f"Motif engine {__version__}",
            "digital_source_type": IPTC_ALGORITHMIC,
            "note": "Made by Motif's procedural decoders from the latent and seed recorded here; "
            "no sampled training data was used by the decoders.",
        },
        "replay": {"command": replay_command(job)},
    }


def make_in_process(store: PackStore, job: PreparedJob,
                    progress: Callable[[str, float, str], None] = lambda *_: None) -> dict[str, Any]:
    """A pack made here rather than on a worker (the CLI without --server, benchmarks): the stored
    manifest when the store already has this pack, else decode into staging and commit."""
    if store.exists(job.pack_id):
        return store.get(job.pack_id)
    with store.staging() as staging:
        files = run_decoders(job, staging, progress, lambda: False)
        progress("commit", 1.0, "saving the pack")
        return commit(store, job, staging, files)


def commit(store: PackStore, job: PreparedJob, staging: Path, files: Sequence[StagedFile],
           extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Label every file with its provenance, then publish the pack atomically. `extra` adds manifest fields
    that say how the pack was made (the executor) without touching its identity or its assets' bytes."""
    from engine_server.provenance.keys import SigningIdentity
    from engine_server.provenance.label import Recipe, label_files

    trained = frozenset(n for n in job.decoders if getattr(registry.get(n), "trained", False))
    recipe = Recipe(job.pack_id, job.seed, job.latent.to_dict(), dict(job.model_versions), trained)
    labelled = label_files(store, staging, files, recipe, SigningIdentity.load())
    return store.commit(job.pack_id, staging, labelled, {**build_manifest(job), **(extra or {})})
