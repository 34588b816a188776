"""The prompt's nouns -> subject recipes and an environment, through the MiniLM embedding.

The latent map reads a prompt's mood and light from its whole sentence; what it *shows* is in its
nouns. Here the prompt is split into runs of content words (function words, times of day and
lighting words break or leave the runs); multi-word tags ("lamp post", "under the sea") are found
as phrases, and every other word and pair of words is embedded with the same MiniLM model and
compared with the vocabulary's tags (engine_server/vocabulary.py), so a word that is not a tag but
means one ("spruce", "reef", "yacht") still finds its recipe. In a run of nouns the last one is the
head ("pine forest cabin" is a cabin): subjects are ordered run by run, head first, and the first
is the hero. Environments come the same way, from their own tags; precedence decides between several.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from engine_server.vocabulary import (
    ENVIRONMENT_PRECEDENCE,
    ENVIRONMENTS,
    MAX_SUBJECTS,
    SUBJECTS,
    vocabulary_digest,
)

# v2: the environment found here also settles the weather (encoder/weather.py)
SUBJECT_MAP_VERSION = f"subject_map-v2.{vocabulary_digest()}"
WORD_THRESHOLD = 0.72  # cosine of an untagged word to its best tag (measured: spruce->pine 0.71, reef->coral 0.84)
PAIR_THRESHOLD = 0.80  # a two-word phrase must be closer still: pairs of unrelated nouns drift toward tags
MARGIN = 0.02  # a subject must beat the best environment tag by this much to claim a word (and vice versa)

# Words that never name a subject: function words, times of day, light and mood words. They end runs.
_STOP_WORDS = """
a an the and or but of in on at by with without from to into onto over under above below beneath near
beside behind through across along around between among for as is are was were be being been this that
these those its it their his her our my your some many few lots full filled covered lit glowing shining
dawn morning noon midday afternoon dusk evening sunset sunrise twilight night midnight day daytime
sunny bright dark dim gloomy quiet calm peaceful busy crowded empty lonely abandoned old ancient new
forgotten lost hidden mysterious beautiful tiny small little big large huge giant tall vast distant
very softly gently slowly heavy light rainy rain raining storm stormy foggy fog misty mist cloudy clouds
sun moon stars starlit moonlit sky scene view landscape place area world style mood atmosphere
wooden wood stone metal steel iron golden gold silver glass brick marble rusty rusted crooked broken ruined
overgrown cozy warm cold wet dry haunted sacred holy epic cinematic music song soundtrack lighting lights
"""
STOP = frozenset(_STOP_WORDS.split())
# subjects that only live in one place bring it when the prompt names no other ("a coral reef")
IMPLIED_ENVIRONMENT = {"coral": "underwater", "kelp": "underwater"}
_TOKEN = re.compile(r"[a-z][a-z']*")


class Embeds(Protocol):
    def embed(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class Match:
    subjects: tuple[tuple[str, str], ...]  # (recipe name, prompt words), hero first
    environment: str
    environment_words: str


class SubjectMatcher:
    """Tag embeddings: ~1 s for ~600 short phrases on one core, so they are computed once and kept in
    `cache_dir` (named by the tags' and embedder's hash; rebuilt whenever either changes)."""

    def __init__(self, embedder: Embeds, cache_dir: Path | None = None, embedder_version: str = "") -> None:
        self._embedder = embedder
        self._cache_dir = cache_dir
        self._embedder_version = embedder_version
        self._lock = threading.Lock()
        self._tags: list[tuple[str, str, str]] = []  # (kind, name, tag): kind "s" subject | "e" environment
        for s in SUBJECTS.values():
            self._tags += [("s", s.name, t) for t in s.tags]
        for env, tags in ENVIRONMENTS.items():
            self._tags += [("e", env, t) for t in tags]
        self._exact = {t: i for i, (_, _, t) in enumerate(self._tags)}
        self._matrix: np.ndarray | None = None
        self.version = SUBJECT_MAP_VERSION

    def _tag_matrix(self) -> np.ndarray:
        with self._lock:
            if self._matrix is None:
                texts = [t for _, _, t in self._tags]
                key = hashlib.sha256(repr((texts, self._embedder_version)).encode()).hexdigest()[:16]
                path = self._cache_dir / f"subject_tags-{key}.npy" if self._cache_dir is not None else None
                matrix = None
                if path is not None and path.is_file():
                    try:
                        matrix = np.load(path)
                    except (OSError, ValueError):
                        matrix = None
                if matrix is None or matrix.shape != (len(texts), 384):
                    matrix = np.asarray(self._embedder.embed(texts), dtype=np.float32)
                    if path is not None:
                        try:  # temp file + rename: a reader never sees half a file
                            tmp = path.with_suffix(f".{os.getpid()}.tmp")
                            with open(tmp, "wb") as fh:
                                np.save(fh, matrix)
                            os.replace(tmp, path)
                        except OSError:
                            pass  # a read-only models folder: compute per process
                self._matrix = matrix
            return self._matrix

    def match(self, prompt: str) -> Match:
        tokens = _TOKEN.findall(prompt.lower().replace("-", " "))
        runs: list[list[int]] = []  # token indices of consecutive content words
        for i, tok in enumerate(tokens):
            if tok in STOP:
                runs.append([])
            elif runs and runs[-1] and runs[-1][-1] == i - 1:
                runs[-1].append(i)
            else:
                runs.append([i])
        runs = [r for r in runs if r]
        used: set[int] = set()
        found: list[tuple[int, int, str, str, str]] = []  # (run, head position, kind, name, words)

        def claim(run: int, idx: list[int], kind: str, name: str) -> None:
            used.update(idx)
            found.append((run, idx[-1], kind, name, " ".join(tokens[j] for j in idx)))

        # 1. exact tags, longest first, including those that span function words ("under the sea")
        text_tokens = tokens
        for length in (3, 2, 1):
            for start in range(len(text_tokens) - length + 1):
                idx = list(range(start, start + length))
                if used.intersection(idx):
                    continue
                phrase = " ".join(text_tokens[j] for j in idx)
                hit = self._exact.get(phrase)
                if hit is None or (length == 1 and phrase in STOP):
                    continue
                kind, name, _ = self._tags[hit]
                run = next((r for r, ws in enumerate(runs) if idx[-1] in ws), len(runs))
                claim(run, idx, kind, name)
        # 2. the remaining content words and adjacent pairs, by embedding
        cands: list[tuple[int, list[int]]] = []
        for r, ws in enumerate(runs):
            free = [j for j in ws if j not in used]
            cands += [(r, [a, b]) for a, b in itertools.pairwise(free) if b == a + 1]
            cands += [(r, [j]) for j in free]
        if cands:
            vecs = np.asarray(self._embedder.embed([" ".join(tokens[j] for j in idx) for _, idx in cands]))
            sims = vecs @ self._tag_matrix().T
            kinds = np.array([k for k, _, _ in self._tags])
            order = sorted(range(len(cands)), key=lambda c: -float(sims[c].max()))
            for c in order:
                r, idx = cands[c]
                if used.intersection(idx):
                    continue
                row = sims[c]
                best_s = int(np.argmax(np.where(kinds == "s", row, -1.0)))
                best_e = int(np.argmax(np.where(kinds == "e", row, -1.0)))
                limit = PAIR_THRESHOLD if len(idx) > 1 else WORD_THRESHOLD
                if row[best_s] >= limit and row[best_s] >= row[best_e] + MARGIN:
                    claim(r, idx, "s", self._tags[best_s][1])
                elif row[best_e] >= limit and row[best_e] >= row[best_s] + MARGIN:
                    claim(r, idx, "e", self._tags[best_e][1])
        # 3. order: run by run, the head (last word) of each run first
        found.sort(key=lambda f: (f[0], -f[1]))
        subjects: dict[str, list[str]] = {}
        for _, _, kind, name, words in found:
            if kind == "s":
                subjects.setdefault(name, []).append(words)
        envs = {name: words for _, _, kind, name, words in found if kind == "e"}
        env = next((e for e in ENVIRONMENT_PRECEDENCE if e in envs), "open")
        picked = tuple((n, ", ".join(w)) for n, w in list(subjects.items())[:MAX_SUBJECTS])
        if env == "open":
            for name, words in picked:
                if name in IMPLIED_ENVIRONMENT:
                    return Match(picked, IMPLIED_ENVIRONMENT[name], words)
        return Match(picked, env, envs.get(env, ""))
