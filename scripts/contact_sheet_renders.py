"""Contact sheets of concept images and clip frames for people (art directors) to look at.

    .venv/bin/python scripts/contact_sheet_renders.py --kind image --quality final --out out/sheet_image.png
    .venv/bin/python scripts/contact_sheet_renders.py --kind video --out out/sheet_video.png \
        --prompt "abandoned cyberpunk marketplace at dusk with rain" --prompt "quiet snowy village at dawn"

`--kind image`: one tile per prompt (the PNG the image decoder writes, scaled to the tile).
`--kind video`: one row per prompt, frames at 0 %, 50 % and 100 % of the clip.
Latents come from the encoder (prompt + seed), so the sheet shows what a user would get; each tile is
labelled with the prompt and the latent fields that drive the look. Timings are printed per render.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from engine_server.decoders.base import DecodeContext, DecodeRequest  # noqa: E402

PROMPTS = [
    "abandoned cyberpunk marketplace at dusk with rain",
    "sunlit medieval village square at noon",
    "quiet snowy mountain village at dawn",
    "foggy ancient forest shrine in the morning",
    "neon sci-fi spaceport at night, tense chase",
    "dusty desert trading post in the afternoon",
    "stormy industrial harbour at night",
    "calm zen garden courtyard, soft afternoon light",
]


def label(tile: Image.Image, lines: list[str]) -> Image.Image:
    draw = ImageDraw.Draw(tile)
    y = 4
    for text in lines:
        draw.rectangle([4, y, 8 + 6 * len(text), y + 12], fill=(0, 0, 0))
        draw.text((6, y), text, fill=(255, 255, 255))
        y += 14
    return tile


def describe(latent: Any) -> str:
    return (f"{latent.geometry_style} | {latent.time_of_day} | {latent.weather} {latent.weather_intensity:.1f} | "
            f"{latent.camera_motion} a={latent.arousal:.2f}")


def render_image(latent: Any, seed: int, quality: str, size: tuple[int, int], work: Path) -> tuple[np.ndarray, float]:
    from engine_server.decoders.image import ImageDecoder

    ctx = DecodeContext(work, lambda f, m: None, lambda: False)
    t0 = time.monotonic()
    [asset] = ImageDecoder().decode(
        DecodeRequest(latent, seed=seed, quality=quality, options={"width": size[0], "height": size[1]}), ctx)
    return np.asarray(Image.open(work / asset.path).convert("RGB")), time.monotonic() - t0


def render_frames(latent: Any, seed: int, quality: str, size: tuple[int, int], work: Path
                  ) -> tuple[list[np.ndarray], float]:
    import av

    from engine_server.decoders.video import VideoDecoder

    ctx = DecodeContext(work, lambda f, m: None, lambda: False)
    t0 = time.monotonic()
    assets = VideoDecoder().decode(
        DecodeRequest(latent, seed=seed, quality=quality,
                      options={"width": size[0], "height": size[1], "duration_s": 4}), ctx)
    took = time.monotonic() - t0
    with av.open(str(work / assets[0].path)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    return [frames[0], frames[len(frames) // 2], frames[-1]], took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", choices=("image", "video"), default="image")
    ap.add_argument("--prompt", action="append", help="prompt (repeatable); default: eight varied prompts")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--quality", choices=("draft", "final"), default="draft")
    ap.add_argument("--size", default="640x360", help="render size per tile, WxH")
    ap.add_argument("--out", type=Path, default=Path("out/contact_renders.png"))
    args = ap.parse_args()
    from engine_server.encoder import get_encoder

    enc = get_encoder()
    w, h = (int(v) for v in args.size.split("x"))
    rows: list[list[Image.Image]] = []
    for prompt in args.prompt or PROMPTS:
        latent = enc.encode(prompt, args.seed)
        work = Path(tempfile.mkdtemp(prefix="motif-sheet-"))
        try:
            if args.kind == "image":
                pic, took = render_image(latent, args.seed, args.quality, (w, h), work)
                tiles = [Image.fromarray(pic)]
            else:
                frames, took = render_frames(latent, args.seed, args.quality, (w, h), work)
                tiles = [Image.fromarray(f) for f in frames]
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(f"{took:6.1f} s  {args.kind} {args.quality} {w}x{h}  {prompt!r}  [{describe(latent)}]", flush=True)
        rows.append([label(t, [prompt, describe(latent)]) for t in tiles])
    cols = 2 if args.kind == "image" else 3
    if args.kind == "image":
        flat = [t for r in rows for t in r]
        rows = [flat[i : i + cols] for i in range(0, len(flat), cols)]
    sheet = Image.new("RGB", (w * cols, h * len(rows)), (20, 20, 20))
    for r, row in enumerate(rows):
        for c, tile in enumerate(row):
            sheet.paste(tile, (c * w, r * h))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out)
    print(f"wrote {args.out} ({len(rows)} rows)")


if __name__ == "__main__":
    main()
