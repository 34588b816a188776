"""Text -> unit 384-d embedding with all-MiniLM-L6-v2 on onnxruntime (no torch at run time).

Tokenisation (HF `tokenizers`), the exported transformer (ONNX), then mean pooling over the
attention mask and L2 normalisation — the same arithmetic as sentence-transformers' Pooling +
Normalize modules, so embeddings match it (cosine > 0.9999; see tests/test_encoder.py).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from engine_server.errors import FailedPrecondition

EMBEDDER_VERSION = "all-MiniLM-L6-v2/onnx-fp32"
MAX_SEQ_LEN = 256
_BATCH = 64  # texts per ONNX call in `embed`: bounds memory for long lists


def session_threads() -> int:
    """Intra-op threads: MOTIF_ENCODER_THREADS, else 1 on a machine with <= 2 cores, else half the cores (<= 4).

    A prompt is a dozen tokens: a second thread saves little on an idle 2-core machine and costs a lot
    when decoders share it (measured on the 2-core dev box: 1 thread 6-9 ms, 2 threads 16-21 ms per
    encode while other work ran). Larger machines get a few threads for batch `embed` calls.
    """
    env = os.environ.get("MOTIF_ENCODER_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        cores = os.cpu_count() or 1
    return 1 if cores <= 2 else min(4, cores // 2)


def missing_models(paths: list[Path]) -> FailedPrecondition:
    names = ", ".join(str(p) for p in paths)
    return FailedPrecondition(
        f"The encoder's model files are missing ({names}). Run `make setup` to export them (it runs "
        "scripts/export_encoder.py and scripts/build_latent_model.py)."
    )


class Embedder:
    """Loads the tokenizer and ONNX session once; `embed` is thread-safe (onnxruntime sessions are)."""

    def __init__(self, model_dir: Path, threads: int | None = None) -> None:
        onnx_path, tok_path = model_dir / "model.onnx", model_dir / "tokenizer.json"
        missing = [p for p in (onnx_path, tok_path) if not p.is_file()]
        if missing:
            raise missing_models(missing)
        self.model_dir = model_dir
        self.version = EMBEDDER_VERSION
        manifest = model_dir / "export.json"
        if manifest.is_file():
            self.version = str(json.loads(manifest.read_text()).get("version", EMBEDDER_VERSION))
        self._tokenizer = Tokenizer.from_file(str(tok_path))
        self._tokenizer.enable_truncation(max_length=MAX_SEQ_LEN)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or session_threads()
        opts.inter_op_num_threads = 1
        if opts.intra_op_num_threads > 1:  # do not burn the cores decoders need between calls
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        optimised = model_dir / OPTIMISED_NAME
        if optimised.is_file() and optimised.stat().st_mtime >= onnx_path.stat().st_mtime:
            # Graph optimised once at set-up: loading it unoptimised saves ~0.5 s of engine start.
            onnx_path, opts.graph_optimization_level = optimised, ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        else:
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # a truncated or foreign file
            raise FailedPrecondition(
                f"The encoder model {onnx_path} could not be loaded ({exc}). Run `make setup` to export it again."
            ) from exc
        self._inputs = {i.name for i in self._session.get_inputs()}

    def embed(self, texts: list[str]) -> np.ndarray:
        """(len(texts), 384) float32, each row unit length."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        parts = [self._embed_batch(texts[i : i + _BATCH]) for i in range(0, len(texts), _BATCH)]
        return np.concatenate(parts, axis=0)

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        enc = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.array([e.type_ids for e in enc], dtype=np.int64)
        (tokens,) = self._session.run(None, feeds)
        m = mask[..., None].astype(np.float32)
        summed = (tokens * m).sum(axis=1)
        pooled = summed / np.clip(m.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        out: np.ndarray = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
        return out


OPTIMISED_NAME = "model.opt.onnx"


def write_optimised(model_dir: Path, force: bool = False) -> bool:
    """Save the graph after onnxruntime's portable (EXTENDED) optimisations; True if written."""
    target = model_dir / OPTIMISED_NAME
    source = model_dir / "model.onnx"
    if not force and target.is_file() and target.stat().st_mtime >= source.stat().st_mtime:
        return False
    tmp = model_dir / (OPTIMISED_NAME + ".tmp")
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    opts.optimized_model_filepath = str(tmp)
    opts.log_severity_level = 3
    ort.InferenceSession(str(source), opts, providers=["CPUExecutionProvider"])
    tmp.replace(target)
    return True
