"""Prompt text -> the shared creative latent.

`Encoder` = MiniLM embedder (onnxruntime + tokenizers) + latent_map-v1 (ONNX + numpy post-processing).
Nothing is loaded at import; `get_encoder()` builds one instance per models folder and caches it.
The engine never imports torch or sentence-transformers (tests check it).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from engine_server import config
from engine_server.encoder.embedder import EMBEDDER_VERSION, Embedder
from engine_server.encoder.mapper import LATENT_MAP_VERSION, LatentMapper
from engine_server.encoder.subjects import SUBJECT_MAP_VERSION, Match, SubjectMatcher
from engine_server.encoder.weather import weather_fields
from engine_server.errors import InvalidArgument
from engine_server.inputs import MAX_PROMPT_CHARS, check_prompt, check_seed
from engine_server.latent import Latent

__all__ = ["EMBEDDER_VERSION", "LATENT_MAP_VERSION", "MAX_PROMPT_CHARS", "SUBJECT_MAP_VERSION", "Encoder",
           "LegacyEncoder", "get_encoder"]

class Encoder:
    """Loads both models once (FailedPrecondition if `make setup` has not made them)."""

    def __init__(self, models_dir: Path | None = None, threads: int | None = None) -> None:
        root = models_dir if models_dir is not None else config.models_dir()
        self._embedder = Embedder(root / "minilm", threads=threads)
        self._mapper = LatentMapper(root)
        self._subjects = SubjectMatcher(self._embedder, root, self._embedder.version)

    @property
    def versions(self) -> Mapping[str, str]:
        """Model names and versions, recorded in every pack."""
        return {"embedder": self._embedder.version, "latent_map": self._mapper.version,
                "subject_map": self._subjects.version}

    @property
    def version(self) -> str:
        return f"{self._embedder.version}+{self._mapper.version}+{self._subjects.version}"

    @property
    def mapper(self) -> LatentMapper:
        return self._mapper

    def embed(self, texts: list[str]) -> np.ndarray:
        """(n, 384) float32 unit-length sentence embeddings."""
        if isinstance(texts, str):
            raise InvalidArgument("embed takes a list of texts, not a single string.")
        return self._embedder.embed(list(texts))

    def encode(self, prompt: str, seed: int) -> Latent:
        """The latent for `prompt`; the same prompt always gives the same latent (seed is carried)."""
        text = check_prompt(prompt)
        check_seed(seed)
        embedding = self._embedder.embed([text])[0]
        out = self._mapper.run(embedding)
        latent = self._mapper.to_latent(embedding, seed, out)
        found = self.subjects(text)
        weather = weather_fields(latent, self._mapper.choice_probs(out, "weather"), found.environment, text)
        return latent.with_fields({"subjects": found.subjects, "environment": found.environment, **weather})

    def subjects(self, prompt: str) -> Match:
        """What the prompt names (subject recipes, hero first) and where (the environment)."""
        return self._subjects.match(check_prompt(prompt))

    def encode_v1(self, prompt: str, seed: int) -> Latent:
        """The latent as engines before subjects and environments made it (replay of their packs)."""
        text = check_prompt(prompt)
        check_seed(seed)
        return self._mapper.to_latent(self._embedder.embed([text])[0], seed)


class LegacyEncoder:
    """An encoder as packs made before latent v2 recorded it: no subject map, v1 latents."""

    def __init__(self, encoder: Encoder) -> None:
        self._encoder = encoder

    @property
    def versions(self) -> Mapping[str, str]:
        return {k: v for k, v in self._encoder.versions.items() if k != "subject_map"}

    def encode(self, prompt: str, seed: int) -> Latent:
        return self._encoder.encode_v1(prompt, seed)


_lock = threading.Lock()
_cache: dict[Path, Encoder] = {}


def get_encoder(models_dir: Path | None = None) -> Encoder:
    """The process-wide encoder for a models folder (built on first use; failures are not cached)."""
    root = (models_dir if models_dir is not None else config.models_dir()).resolve()
    with _lock:
        enc = _cache.get(root)
        if enc is None:
            enc = Encoder(root)
            _cache[root] = enc
        return enc
