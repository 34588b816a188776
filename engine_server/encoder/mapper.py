"""latent_map-v1 at run time: the ONNX part gives numbers, this module turns them into a Latent.

The ONNX model (built by scripts/build_latent_model.py) returns scalar fields, class probabilities
for each choice field, similarities to scene and colour-name anchors, and a key jitter. Here we do
the light, readable post-processing: argmax, mode from valence, key on the circle of fifths,
instrument weights from ensemble probabilities, and the palette. Everything is deterministic.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from engine_server import latent as L
from engine_server.errors import FailedPrecondition
from engine_server.oklab import gamut_map, gamut_mapped_hex, hex_to_oklab

LATENT_MAP_VERSION = "latent_map-v1"
SIDECAR_SCHEMA = "motif.latent-map/1"
SCALAR_FIELDS = (
    "brightness",
    "contrast",
    "saturation",
    "warmth",
    "weather_intensity",
    "valence",
    "arousal",
    "tension",
    "tempo_bpm",
    "roughness",
    "metalness",
    "wear",
    "density",
)
CHOICE_FIELDS = ("time_of_day", "weather", "meter", "mode", "ensemble", "geometry_style", "camera_motion")

# Mode: anchor evidence (log-odds minor:major) plus valence; below the pivot leans minor.
MODE_VALENCE_GAIN = 5.0
MODE_VALENCE_PIVOT = 0.0
# Key: position on the circle of fifths (-5 = Db .. 0 = C .. +6 = F#) from light, warmth and mood.
KEY_SPREAD = 4.5
# Instruments: ensemble probabilities are sharpened (p^k) so the chosen ensemble leads the blend.
ENSEMBLE_SHARPEN = 3.0
CLEAR_WEATHER_MAX_INTENSITY = 0.2
NAMED_WEATHER_MIN_INTENSITY = 0.3
# Palette
SCENE_TAU = 0.04
SCENE_TOP = 3
COLOUR_TOP = 6
COLOUR_BAND = 0.15
COLOUR_SIM_FLOOR = 0.55  # colour-name similarity where named colours start to count
COLOUR_SIM_RANGE = 0.25
COLOUR_MAX_SHARE = 0.45
TONE_PULL = 0.75  # how far the palette's mean lightness moves toward the predicted brightness
VIBRANCE = 0.6  # at saturation 1, colours go 60% of the way to the gamut edge
EMPHASIS = 0.8  # how strongly saturation shifts weight toward vivid (or neutral) colours
MIN_DISTANCE = 0.04  # OKLab: closer colours count as one
DIVERSE_DISTANCE = 0.15
EXTRA_COLOUR_SCORE = 0.35  # a 6th/7th colour needs this share of the mean chosen weight


@dataclass(frozen=True)
class MapOutput:
    """Raw numbers from the ONNX model for one embedding (handy for inspection and tests)."""

    scalars: dict[str, float]
    probs: dict[str, np.ndarray]
    scene_sim: np.ndarray
    colour_sim: np.ndarray
    key_jitter: float


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class LatentMapper:
    """Loads latent_map-v1 (ONNX + JSON sidecar) once; `to_latent` is pure and thread-safe."""

    def __init__(self, models: Path) -> None:
        onnx_path = models / f"{LATENT_MAP_VERSION}.onnx"
        side_path = models / f"{LATENT_MAP_VERSION}.json"
        missing = [p for p in (onnx_path, side_path) if not p.is_file()]
        if missing:
            raise FailedPrecondition(
                f"The latent map files are missing ({', '.join(map(str, missing))}). Run `make setup` "
                "to build them (scripts/build_latent_model.py)."
            )
        meta: dict[str, Any] = json.loads(side_path.read_text())
        if meta.get("schema") != SIDECAR_SCHEMA or meta.get("version") != LATENT_MAP_VERSION:
            raise FailedPrecondition(f"{side_path} is not a {LATENT_MAP_VERSION} sidecar. Run `make setup` again.")
        if meta.get("onnx_sha256") != _sha256(onnx_path):
            raise FailedPrecondition(
                f"{onnx_path} does not match its sidecar {side_path.name} (a partial rebuild?). Run `make setup` again."
            )
        if tuple(meta["scalar_fields"]) != SCALAR_FIELDS or list(meta["choice_fields"]) != list(CHOICE_FIELDS):
            raise FailedPrecondition(f"{side_path} was built for other latent fields. Run `make setup` again.")
        self.meta = meta
        self.version = LATENT_MAP_VERSION
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self._session = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
        self._choices = {c: tuple(meta["choice_fields"][c]) for c in CHOICE_FIELDS}
        self._scene_lab = [np.array([hex_to_oklab(h) for h in s["palette"]]) for s in meta["scenes"]]
        self._colour_lab = np.array([hex_to_oklab(c["hex"]) for c in meta["colour_names"]])
        fams = tuple(meta["instrument_families"])
        if fams != L.INSTRUMENT_FAMILIES:
            raise FailedPrecondition(f"{side_path} was built for other instrument families. Run `make setup` again.")
        self._families = np.array([meta["ensemble_families"][e] for e in self._choices["ensemble"]])

    # -- numbers -------------------------------------------------------------------------------------
    def run(self, embedding: np.ndarray) -> MapOutput:
        x = np.asarray(embedding, dtype=np.float32).reshape(1, L.EMBEDDING_DIM)
        outs = self._session.run(None, {"embedding": x})
        scalars = {name: float(v) for name, v in zip(SCALAR_FIELDS, outs[0][0], strict=True)}
        probs = {name: np.asarray(outs[1 + i][0], dtype=np.float64) for i, name in enumerate(CHOICE_FIELDS)}
        k = 1 + len(CHOICE_FIELDS)
        return MapOutput(
            scalars=scalars,
            probs=probs,
            scene_sim=np.asarray(outs[k][0], dtype=np.float64),
            colour_sim=np.asarray(outs[k + 1][0], dtype=np.float64),
            key_jitter=float(outs[k + 2][0]),
        )

    def choice_probs(self, out: MapOutput, field: str) -> dict[str, float]:
        """The map's probability of each choice of a choice field, by name (the encoder settles guesses with it)."""
        return {c: float(p) for c, p in zip(self._choices[field], out.probs[field], strict=True)}

    # -- latent --------------------------------------------------------------------------------------
    def to_latent(self, embedding: np.ndarray, seed: int, out: MapOutput | None = None) -> L.Latent:
        """The latent for an embedding; `out` is the map's output for it when the caller has run it already."""
        out = out if out is not None else self.run(embedding)
        s = {k: round(v, 4) for k, v in out.scalars.items()}
        s["tempo_bpm"] = float(round(s["tempo_bpm"]))
        choice = {name: self._choices[name][int(np.argmax(p))] for name, p in out.probs.items()}
        if choice["weather"] == "clear":
            s["weather_intensity"] = min(s["weather_intensity"], CLEAR_WEATHER_MAX_INTENSITY)
        else:  # rain, snow... that is named should be visible
            s["weather_intensity"] = max(s["weather_intensity"], NAMED_WEATHER_MIN_INTENSITY)
        mode = self.mode(out.probs["mode"], s["valence"])
        key = self.key(mode, s["brightness"], s["warmth"], s["valence"], out.key_jitter)
        palette = self.palette(out.scene_sim, out.colour_sim, s["brightness"], s["saturation"])
        return L.Latent(
            palette=tuple(L.Swatch(c, w) for c, w in palette),
            brightness=s["brightness"],
            contrast=s["contrast"],
            saturation=s["saturation"],
            warmth=s["warmth"],
            time_of_day=choice["time_of_day"],
            weather=choice["weather"],
            weather_intensity=s["weather_intensity"],
            valence=s["valence"],
            arousal=s["arousal"],
            tension=s["tension"],
            tempo_bpm=s["tempo_bpm"],
            meter=choice["meter"],
            key=key,
            mode=mode,
            ensemble=choice["ensemble"],
            instruments=self.instruments(out.probs["ensemble"], s["arousal"]),
            roughness=s["roughness"],
            metalness=s["metalness"],
            wear=s["wear"],
            geometry_style=choice["geometry_style"],
            density=s["density"],
            camera_motion=choice["camera_motion"],
            embedding=tuple(float(v) for v in np.asarray(embedding, dtype=np.float32)),
            seed=seed,
        )

    def mode(self, p_mode: np.ndarray, valence: float) -> str:
        """Minor when anchor evidence plus (low) valence say so."""
        major, minor = (float(p_mode[self._choices["mode"].index(m)]) for m in ("major", "minor"))
        logit = np.log(max(minor, 1e-9) / max(major, 1e-9)) + MODE_VALENCE_GAIN * (MODE_VALENCE_PIVOT - valence)
        return "minor" if logit > 0 else "major"

    @staticmethod
    def key(mode: str, brightness: float, warmth: float, valence: float, jitter: float) -> str:
        """Brighter, warmer, happier -> more sharps; darker, cooler -> flats. Minor uses the relative minor."""
        k = 0.4 * (2.0 * brightness - 1.0) + 0.4 * warmth + 0.2 * valence
        pos = int(np.clip(np.round(KEY_SPREAD * k + jitter), -5, 6))
        tonic = (7 * pos + (9 if mode == "minor" else 0)) % 12
        return L.KEYS[tonic]

    def instruments(self, p_ens: np.ndarray, arousal: float) -> dict[str, float]:
        q = np.power(np.clip(p_ens, 0, 1), ENSEMBLE_SHARPEN)
        q = q / q.sum()
        w = q @ self._families
        for fam in ("drums", "percussion"):
            i = L.INSTRUMENT_FAMILIES.index(fam)
            w[i] *= 0.6 + 0.8 * arousal  # energetic prompts lean on the kit, calm ones pull it back
        w = np.clip(w, 0.0, 1.0)
        return {fam: round(float(v), 4) for fam, v in zip(L.INSTRUMENT_FAMILIES, w, strict=True)}

    # -- palette -------------------------------------------------------------------------------------
    def palette(
        self, scene_sim: np.ndarray, colour_sim: np.ndarray, brightness: float, saturation: float
    ) -> list[tuple[str, float]]:
        """5-7 diverse colours with weights: scene palettes + named colours, toned to the light."""
        labs, weights = self.palette_candidates(scene_sim, colour_sim)
        labs, weights = tone(labs, weights, brightness, saturation)
        chosen = select_diverse(labs, weights)
        if len(chosen) < L.PALETTE_MIN:
            labs, weights = add_shades(labs, weights, chosen)
            chosen = select_diverse(labs, weights)
        # every candidate gives its weight to the nearest chosen colour
        d = np.linalg.norm(labs[:, None, :] - labs[chosen][None, :, :], axis=2)
        share = np.bincount(np.argmin(d, axis=1), weights=weights, minlength=len(chosen))
        share = np.maximum(share / share.sum(), 0.03)
        share = share / share.sum()
        hexes = gamut_mapped_hex(labs[chosen])
        order = sorted(range(len(chosen)), key=lambda i: (-share[i], hexes[i]))
        return [(hexes[i], float(share[i])) for i in order]

    def palette_candidates(self, scene_sim: np.ndarray, colour_sim: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = (scene_sim - scene_sim.max()) / SCENE_TAU
        ws = np.exp(z) / np.exp(z).sum()
        top = np.argsort(-ws, kind="stable")[:SCENE_TOP]
        ws_top = ws[top] / ws[top].sum()
        labs: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        for idx, w in zip(top, ws_top, strict=True):
            pal = self._scene_lab[int(idx)]
            pos = 1.0 / (1.0 + 0.3 * np.arange(len(pal)))
            labs.append(pal)
            weights.append(w * pos / pos.sum())
        ctop = np.argsort(-colour_sim, kind="stable")[:COLOUR_TOP]
        cshare = float(np.clip((colour_sim[ctop[0]] - COLOUR_SIM_FLOOR) / COLOUR_SIM_RANGE, 0.0, 1.0))
        cshare *= COLOUR_MAX_SHARE
        wc = np.clip(colour_sim[ctop] - (colour_sim[ctop[0]] - COLOUR_BAND), 0.0, None) + 1e-9
        wc = wc / wc.sum()  # names within COLOUR_BAND of the best one share, linearly
        scene_w = np.concatenate(weights) * (1.0 - cshare)
        lab = np.vstack([*labs, self._colour_lab[ctop]])
        w = np.concatenate([scene_w, wc * cshare])
        keep = w > 1e-4
        return lab[keep], w[keep] / w[keep].sum()


def tone(
    labs: np.ndarray, weights: np.ndarray, brightness: float, saturation: float
) -> tuple[np.ndarray, np.ndarray]:
    """Make the palette agree with the predicted brightness and saturation.

    Lightness: the weighted mean moves toward 0.2 + 0.72 * brightness. Chroma: above saturation 0.5
    colours move toward the sRGB gamut edge ("vibrance"), below it toward grey. Weights: saturated
    prompts give their vivid colours more prominence, muted prompts their neutrals.
    """
    out = labs.copy()
    target_l = 0.2 + 0.72 * brightness
    mean_l = float(weights @ out[:, 0])
    out[:, 0] = np.clip(out[:, 0] + TONE_PULL * (target_l - mean_l), 0.06, 0.98)
    chroma = np.hypot(out[:, 1], out[:, 2])
    hue = np.arctan2(out[:, 2], out[:, 1])
    if saturation >= 0.5:
        cmax = max_chroma(out[:, 0], hue)
        t = VIBRANCE * (saturation - 0.5) / 0.5 * np.clip(chroma / 0.03, 0.0, 1.0)  # greys keep no hue
        new_c = chroma + t * np.clip(cmax - chroma, 0.0, None)
    else:
        new_c = chroma * (0.25 + 1.5 * saturation)
    out[:, 1], out[:, 2] = new_c * np.cos(hue), new_c * np.sin(hue)
    emphasis = np.clip(2.0 * saturation - 1.0, -1.0, 1.0)
    mean_c = float(weights @ new_c)
    w = weights * np.exp(EMPHASIS * emphasis * (new_c - mean_c) / 0.1)
    return gamut_map(out), w / w.sum()


def max_chroma(lightness: np.ndarray, hue: np.ndarray) -> np.ndarray:
    """Largest in-gamut OKLab chroma for each (lightness, hue)."""
    probe = np.stack([lightness, 0.5 * np.cos(hue), 0.5 * np.sin(hue)], axis=1)
    mapped = gamut_map(probe)
    return np.asarray(np.hypot(mapped[:, 1], mapped[:, 2]))


def select_diverse(labs: np.ndarray, weights: np.ndarray) -> list[int]:
    """Greedy max-min choice: heavy colours first, each next one far from those already chosen."""
    chosen = [int(np.argmax(weights))]
    mind = np.linalg.norm(labs - labs[chosen[0]], axis=1)
    while len(chosen) < L.PALETTE_MAX:
        score = weights * np.clip(mind / DIVERSE_DISTANCE, 0, 1) ** 2
        score[mind < MIN_DISTANCE] = -1.0
        best = int(np.argmax(score))
        if score[best] <= 0:
            break
        if len(chosen) >= L.PALETTE_MIN and score[best] < EXTRA_COLOUR_SCORE * float(np.mean(weights[chosen])):
            break
        chosen.append(best)
        mind = np.minimum(mind, np.linalg.norm(labs - labs[best], axis=1))
    return chosen


def add_shades(labs: np.ndarray, weights: np.ndarray, chosen: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Lighter and darker shades of the chosen colours, for prompts with too few distinct colours."""
    extra = []
    for i in chosen:
        for dl in (0.22, -0.22, 0.38, -0.38):
            shade = labs[i].copy()
            shade[0] = np.clip(shade[0] + dl, 0.06, 0.98)
            extra.append(shade)
    greys = np.array([[lv, 0.0, 0.0] for lv in (0.15, 0.35, 0.55, 0.75, 0.95)])
    new_labs = np.vstack([labs, gamut_map(np.array(extra)), greys])
    new_w = np.concatenate([weights, np.full(len(extra), 0.02), np.full(len(greys), 0.001)])
    return new_labs, new_w


def describe(mapper: LatentMapper, embedding: np.ndarray) -> Mapping[str, Any]:
    """Debug view: top classes and top scenes for an embedding."""
    out = mapper.run(embedding)
    scenes = [s["phrase"] for s in mapper.meta["scenes"]]
    top = np.argsort(-out.scene_sim)[:3]
    colours = [c["name"] for c in mapper.meta["colour_names"]]
    ctop = np.argsort(-out.colour_sim)[:5]
    return {
        "scalars": out.scalars,
        "choices": {
            k: dict(zip(mapper.meta["choice_fields"][k], np.round(v, 3).tolist(), strict=True))
            for k, v in out.probs.items()
        },
        "scenes": [(scenes[i], round(float(out.scene_sim[i]), 3)) for i in top],
        "colours": [(colours[i], round(float(out.colour_sim[i]), 3)) for i in ctop],
    }
