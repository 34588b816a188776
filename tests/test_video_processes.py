"""The clip repeats across processes: two fresh interpreters, same request, same bytes.

One process decoding twice cannot catch state that differs between processes (x264's
macroblock-tree pass read the heap left by Cycles, so fresh processes disagreed)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import av
import pytest

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import sys
from pathlib import Path
from tests.test_video import CALM_SNOW, decode

out = Path(sys.argv[1])
[clip] = [a for a in decode(out, CALM_SNOW, {"width": 320, "height": 180, "duration_s": 4.0}, seed=5)
          if a.role == "video"]
print(clip.path)
"""


def clip_in_fresh_process(out: Path) -> Path:
    done = subprocess.run([sys.executable, "-c", CHILD, str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=True)
    return out / done.stdout.strip().splitlines()[-1]


def frames_sha(path: Path) -> str:
    h = hashlib.sha256()
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            h.update(f.to_ndarray(format="rgb24").tobytes())
    return h.hexdigest()


def test_two_fresh_processes_write_the_same_clip(tmp_path: Path) -> None:
    """What a user checks: decode the request twice, from scratch each time, and compare."""
    a = clip_in_fresh_process(tmp_path / "a")
    b = clip_in_fresh_process(tmp_path / "b")
    assert frames_sha(a) == frames_sha(b)
    assert a.read_bytes() == b.read_bytes()


ENCODE = """
import ctypes, sys
from pathlib import Path
import numpy as np
from engine_server.decoders.video.encode import Writer

rng = np.random.default_rng(7)
y, x = np.mgrid[0:180, 0:320]
audio = (0.3 * np.sin(np.arange(2 * 96_000) / 40.0)).reshape(2, -1).astype(np.float32)
w = Writer(Path(sys.argv[1]), 320, 180, 24, sys.argv[3], audio)
if sys.argv[2] == "used":  # leave the heap as a long job would: blocks written and freed
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    blocks = [libc.malloc(1000 + i * 7919 % 120000) for i in range(2000)]
    for i, p in enumerate(blocks):
        ctypes.memset(p, i * 37 % 256, 1000 + i * 7919 % 120000)
        libc.free(ctypes.c_void_p(p))
for t in range(48):
    base = 128 + 90 * np.sin((x + 3 * t) / 23.0) * np.cos((y - 2 * t) / 17.0)
    rgb = np.stack([base, base * 0.8 + 30, 255 - base], -1) + rng.normal(0, 6, (180, 320, 1))
    w.add(np.clip(rgb, 0, 255).astype(np.uint8))
w.close()
"""


@pytest.mark.parametrize("kind", ["h264", "prores", "dnxhr"])
def test_encoder_output_does_not_depend_on_what_the_process_did_before(tmp_path: Path, kind: str) -> None:
    """The same frames and audio through a writer in a fresh process and in one whose heap is used
    (as after a render): the end-to-end test above only catches heap-dependence when Cycles happens
    to leave a different heap, this one every time."""
    for name in ("fresh", "used"):
        subprocess.run([sys.executable, "-c", ENCODE, str(tmp_path / f"{name}.clip"), name, kind], cwd=ROOT,
                       capture_output=True, timeout=60, check=True)
    assert (tmp_path / "fresh.clip").read_bytes() == (tmp_path / "used.clip").read_bytes()
