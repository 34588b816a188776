"""Coherence benchmark: the Motif Coherence Index (docs/COHERENCE.md) of matched packs against the same
packs with one modality swapped in from another prompt's pack, and against a 'separate tools' baseline in
which the image, the clip and the music are each decoded from their own paraphrase of the prompt (own
encoding, own seed) and the kit from the prompt itself. Also: analysis time per pack, and how well each
analyser recovers the latent field it stands for (Pearson r over the matched packs).

    .venv/bin/python bench/coherence.py [--prompts 50 | --prompt TEXT ...] [--seed 7] [--store DIR] [--decoders ...]
    .venv/bin/python bench/coherence.py --calibrate      # prints coherence.SCALES from the calibration prompts

Every figure is printed with the command that made it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from coherence_prompts import BENCH, CALIBRATION  # noqa: E402

from engine_server import coherence  # noqa: E402

MODALITY_DECODER = {"image": "image", "clip": "video", "kit": "mesh", "music": "music"}


def _signing_keys() -> None:
    if not os.environ.get("MOTIF_KEYS_DIR"):
        from engine_server.provenance import keys

        os.environ["MOTIF_KEYS_DIR"] = str(keys.create(Path(tempfile.mkdtemp(prefix="motif-bench-keys-"))))


def _latent(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / "pack.json").read_text())["latent"])


def calibrate(store: Any, encoder: Any, decoders: Sequence[str], seed: int) -> None:
    values: dict[str, list[float]] = {}
    for prompt in CALIBRATION:
        folder = coherence.make_pack(store, encoder, prompt, seed, decoders)
        for k, v in coherence.cues(coherence.analyse_pack(folder)).items():
            values.setdefault(k, []).append(v)
        print(f"  calibrated on {prompt!r}", file=sys.stderr, flush=True)
    print(f"# {len(CALIBRATION)} calibration packs, seed {seed}, decoders {','.join(decoders)}:")
    print("SCALES: dict[str, tuple[float, ...]] = {")
    for k in sorted(values):
        q = np.quantile(np.array(values[k]), np.linspace(0, 1, 11))
        print(f'    "{k}": ({", ".join(f"{v:.5g}" for v in q)}),')
    print("}")


def _summary(xs: Sequence[float]) -> str:
    return f"mean {statistics.fmean(xs):.3f}  sd {statistics.pstdev(xs):.3f}  (n={len(xs)})"


def run(args: argparse.Namespace, store: Any, encoder: Any, cmd: str) -> None:
    decoders = [d.strip() for d in args.decoders.split(",") if d.strip()]
    items: Sequence[tuple[str, ...]] = tuple((q,) for q in args.prompt) if args.prompt else BENCH[: args.prompts]
    present = [m for m, d in MODALITY_DECODER.items() if d in decoders]
    opts = {k: v for k, v in coherence.CHEAP_OPTIONS.items() if k in decoders}  # the CI test's settings too
    analyses: list[dict[str, Any]] = []
    latents: list[dict[str, Any]] = []
    gen_s: list[float] = []
    for i, (prompt, *_rest) in enumerate(items):
        t0 = time.perf_counter()
        folder = coherence.make_pack(store, encoder, prompt, args.seed, decoders)
        gen_s.append(time.perf_counter() - t0)
        analyses.append(coherence.analyse_pack(folder))
        latents.append(_latent(folder))
        print(f"  [{i + 1}/{len(items)}] {prompt!r}: made in {gen_s[-1]:.1f} s, analysed in "
              f"{analyses[-1]['seconds']['total']:.1f} s", file=sys.stderr, flush=True)

    matched = [coherence.mci(a)[0] for a in analyses]
    wins: dict[str, list[bool]] = {m: [] for m in present}
    swapped: dict[str, list[float]] = {m: [] for m in present}
    for i, a in enumerate(analyses):
        for m in present:
            for j, b in enumerate(analyses):
                if i != j:
                    s = coherence.mci(coherence.swap(a, b, m))[0]
                    swapped[m].append(s)
                    wins[m].append(matched[i] > s)

    separate: list[float] = []
    separate_parts: list[dict[str, Any]] = []
    if not args.no_separate:
        for i, (prompt, *paraphrases) in enumerate(items):
            parts: dict[str, Any] = {}
            for k, m in enumerate(present):
                # the kit keeps the prompt's own wording; the others use one paraphrase each, own seed
                text = prompt if m == "kit" else paraphrases[[x for x in present if x != "kit"].index(m) % 3]
                own = [MODALITY_DECODER[m]]
                if m == "image":
                    own = ["mesh", "image"]  # a renderer stages its own tool's kit
                elif m == "clip":
                    own = ["mesh", "music", "video"]  # ... and a clip tool lays its own score under it
                folder = coherence.make_pack(store, encoder, text, args.seed + 101 * (k + 1), own)
                parts[m] = coherence.analyse_pack(folder)[m]
            parts["missing"] = [m for m in coherence.MODALITIES if m not in parts]
            separate.append(coherence.mci(parts)[0])
            separate_parts.append(parts)
            print(f"  separate tools [{i + 1}/{len(items)}]", file=sys.stderr, flush=True)

    # which groups catch which swaps: the same test with the index limited to one group
    by_group: dict[str, dict[str, float]] = {}
    for g in coherence.WEIGHTS:
        base = [coherence.mci(a, groups=(g,))[0] for a in analyses]
        for m in present:
            ws = [base[i] > coherence.mci(coherence.swap(a, b, m), groups=(g,))[0]
                  for i, a in enumerate(analyses) for j, b in enumerate(analyses)
                  if i != j and np.isfinite(base[i])]
            if ws:
                by_group.setdefault(g, {})[m] = float(np.mean(ws))

    all_wins = [w for ws in wins.values() for w in ws]
    all_swapped = [s for ss in swapped.values() for s in ss]
    print(f"Coherence benchmark: {len(items)} prompts, seed {args.seed}, decoders {','.join(decoders)}, "
          f"options {json.dumps(opts, sort_keys=True)}")
    print(f"  command: {cmd}")
    print(f"  MCI matched packs            {_summary(matched)}")
    print(f"  MCI one modality swapped     {_summary(all_swapped)}")
    for m in present:
        print(f"      {m:<6} swapped           {_summary(swapped[m])}   matched wins {np.mean(wins[m]):.1%}")
    print(f"  matched > swapped            {np.mean(all_wins):.1%} of {len(all_wins)} swaps (goal >= 95 %)")
    print("  matched > swapped with the index limited to one group (ties count as losses):")
    for g, rates in by_group.items():
        print(f"      {g:<10} " + "  ".join(f"{m} {r:.0%}" for m, r in rates.items()))
    if separate:
        print(f"  MCI separate tools           {_summary(separate)}")
        beat = np.mean([a > b for a, b in zip(matched, separate, strict=True)])
        print(f"  matched > separate tools     {beat:.1%} of {len(separate)} prompts")
        no_st = [g for g in coherence.WEIGHTS if g != "soundtrack"]
        m2 = [coherence.mci(a, groups=no_st)[0] for a in analyses]
        s2 = [coherence.mci(p, groups=no_st)[0] for p in separate_parts]
        print(f"  without the soundtrack term: matched {_summary(m2)}")
        print(f"                               separate tools {_summary(s2)}; matched higher for "
              f"{np.mean([a > b for a, b in zip(m2, s2, strict=True)]):.1%} of prompts")
    secs = [a["seconds"]["total"] for a in analyses]
    print(f"  analysis time per pack       mean {statistics.fmean(secs):.2f} s  median {statistics.median(secs):.2f} s"
          f"  max {max(secs):.2f} s (first pack includes imports and librosa's JIT warm-up)")
    for m in present:
        per = [a["seconds"][m] for a in analyses if m in a["seconds"]]
        print(f"      {m:<6} {statistics.fmean(per):.2f} s mean, {statistics.median(per):.2f} s median")
    print(f"  pack generation              mean {statistics.fmean(gen_s):.1f} s (cached packs count ~0)")
    _recovery(analyses, latents)
    _weak_spots(items, analyses, latents, matched)


# recovered cue -> latent field it should track (Pearson r over the matched packs)
RECOVERY = (
    ("image.brightness", "brightness"), ("image.warmth", "warmth"), ("image.contrast", "contrast"),
    ("image.saturation", "saturation"), ("clip.brightness", "brightness"), ("clip.warmth", "warmth"),
    ("clip.motion_energy", "arousal"), ("clip.camera_energy", "arousal"), ("kit.metalness", "metalness"),
    ("kit.roughness", "roughness"),
    ("music.tempo_bpm", "tempo_bpm"), ("music.mode_score", "valence"), ("music.velocity", "arousal"),
    ("music.note_density", "arousal"),
)


def _recovery(analyses: Sequence[dict[str, Any]], latents: Sequence[dict[str, Any]]) -> None:
    print("  analysers against the latent they should recover (Pearson r over matched packs):")
    rows = [coherence.cues(a) for a in analyses]
    for cue, field in RECOVERY:
        pairs = [(r[cue], lat[field]) for r, lat in zip(rows, latents, strict=True) if cue in r]
        if len(pairs) > 2 and np.std([p[0] for p in pairs]) > 0:
            r = float(np.corrcoef(np.array(pairs).T)[0, 1])
            print(f"      {cue:<24} ~ latent {field:<11} r = {r:+.2f}")
    if all("clip" in a for a in analyses):
        hits = [a["clip"]["camera_motion"] == lat["camera_motion"] for a, lat in zip(analyses, latents, strict=True)]
        print(f"      clip.camera_motion       = latent camera_motion in {np.mean(hits):.0%} of packs")
    if all("music" in a and "audio" in a["music"] for a in analyses):
        ok = [abs(a["music"]["audio"]["tempo_bpm"] / lat["tempo_bpm"] - 1) < 0.04
              for a, lat in zip(analyses, latents, strict=True)]
        print(f"      audio tempo within 4 % of the latent's in {np.mean(ok):.0%} of packs (octave errors count)")
        modes = [a["music"]["audio"]["mode"] == lat["mode"] for a, lat in zip(analyses, latents, strict=True)]
        print(f"      audio mode = latent mode in {np.mean(modes):.0%} of packs")


MAIN_COLOUR_WEIGHT = 0.12  # a latent palette colour this heavy should be visible in every picture
FOUND_DE00 = 15.0  # ... within this CIEDE2000 of some recovered palette colour
VIVID_CHROMA = 50.0  # CIELAB C* above which a colour counts as vivid (neon, saturated paint)


def _weak_spots(items: Sequence[tuple[str, ...]], analyses: Sequence[dict[str, Any]],
                latents: Sequence[dict[str, Any]], matched: Sequence[float]) -> None:
    """Where decoders drop what the latent asked for, and which packs' kits are least tied to their pictures."""
    import colour

    from engine_server.analysis.image import delta_e00
    from engine_server.oklab import hex_to_srgb

    print(f"  weak spots: latent palette colours of weight >= {MAIN_COLOUR_WEIGHT} found (dE00 <= {FOUND_DE00:g}) "
          "in each recovered palette:")
    for m in ("kit", "image", "clip"):
        found: list[tuple[bool, bool]] = []  # (found, vivid)
        for a, lat in zip(analyses, latents, strict=True):
            if m not in a:
                continue
            labs = np.array([c["lab"] for c in a[m]["palette"]])
            for c in lat["palette"]:
                if c["weight"] >= MAIN_COLOUR_WEIGHT:
                    lab = colour.XYZ_to_Lab(colour.sRGB_to_XYZ(np.array(hex_to_srgb(c["color"]))))
                    found.append((float(delta_e00(lab[None, :], labs).min()) <= FOUND_DE00,
                                  float(np.hypot(lab[1], lab[2])) > VIVID_CHROMA))
        if found:
            vivid = [f for f, v in found if v]
            muted = [f for f, v in found if not v]
            print(f"      {m:<6} {np.mean([f for f, _ in found]):.0%} of {len(found)}   vivid (C* > {VIVID_CHROMA:g}) "
                  f"{np.mean(vivid) if vivid else float('nan'):.0%} of {len(vivid)}, others "
                  f"{np.mean(muted) if muted else float('nan'):.0%} of {len(muted)}")
    if all("music" in a and "synth_share" in a["music"] for a in analyses):
        asked = [(lat["instruments"]["synth_pad"] + lat["instruments"]["synth_lead"], a["music"]["synth_share"])
                 for a, lat in zip(analyses, latents, strict=True)]
        want = [(w, s) for w, s in asked if w > 0.4]
        r = float(np.corrcoef(np.array(asked).T)[0, 1])
        print(f"      music  synth weight (pad + lead) ~ synth share of MIDI notes r = {r:+.2f}; latent asks for "
              f"synths (> 0.4) in {len(want)} packs, {sum(s == 0 for _, s in want)} of them have no synth note")
    if all("kit" in a for a in analyses) and len(analyses) > 2:
        accepts = []
        for i, a in enumerate(analyses):
            n = sum(coherence.mci(coherence.swap(a, b, "kit"))[0] >= matched[i]
                    for j, b in enumerate(analyses) if j != i)
            accepts.append((n, items[i][0]))
        accepts.sort(reverse=True)
        print("      kit    packs that score as high or higher with another prompt's kit, most such kits first: "
              + "; ".join(f"{p!r} {n}/{len(analyses) - 1}" for n, p in accepts[:4] if n))


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--prompts", type=int, default=50, help=f"how many bench prompts (1..{len(BENCH)})")
    p.add_argument("--prompt", action="append", default=[],
                   help="a prompt of your own instead of the bench's (repeatable; no separate-tools baseline); "
                        "tests/test_coherence.py's six with --seed 11 give the CI swap test's figures")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--store", type=Path, help="pack store to use and keep (default: a temporary one)")
    p.add_argument("--decoders", default="image,video,mesh,music")
    p.add_argument("--no-separate", action="store_true", help="skip the separate-tools baseline")
    p.add_argument("--calibrate", action="store_true", help="print SCALES from the calibration prompts")
    args = p.parse_args(argv)
    if not 1 <= args.prompts <= len(BENCH):
        p.error(f"--prompts must be 1..{len(BENCH)}")
    if args.prompt:  # own prompts have no paraphrases
        args.no_separate = True
    cmd = "python bench/coherence.py " + " ".join(sys.argv[1:] if argv is None else argv)
    _signing_keys()
    from engine_server.encoder import get_encoder
    from engine_server.store import PackStore

    with tempfile.TemporaryDirectory(prefix="motif-coherence-") as tmp:
        store = PackStore(args.store or Path(tmp) / "store")
        encoder = get_encoder()
        decoders = [d.strip() for d in args.decoders.split(",") if d.strip()]
        if args.calibrate:
            calibrate(store, encoder, decoders, args.seed)
        else:
            run(args, store, encoder, cmd.strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
