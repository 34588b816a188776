"""A minimal OpenEXR reader for the files our own renders write (scanline, uncompressed).

Blender's compositor writes each render pass as an uncompressed EXR; reading it back with numpy is
a memory copy, and saves a dependency on OpenEXR/OpenImageIO bindings that the bpy wheel does not
expose to Python. Anything else (tiles, compression, deep data) is refused.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np

_MAGIC = b"\x76\x2f\x31\x01"
_DTYPES: dict[int, np.dtype[Any]] = {0: np.dtype("<u4"), 1: np.dtype("<f2"), 2: np.dtype("<f4")}


def read_exr(path: Path) -> dict[str, np.ndarray]:
    """Channels of an uncompressed scanline EXR as float32 (height, width) arrays, by name."""
    data = path.read_bytes()
    if data[:4] != _MAGIC:
        raise ValueError(f"{path.name} is not an OpenEXR file")
    if data[5] & 0x02:  # tiled flag in the version field
        raise ValueError(f"{path.name} is tiled; only scanline files are supported")
    pos = 8
    attrs: dict[str, bytes] = {}
    while data[pos] != 0:
        end = data.index(b"\0", pos)
        name = data[pos:end].decode()
        pos = data.index(b"\0", end + 1) + 1
        (size,) = struct.unpack_from("<i", data, pos)
        pos += 4
        attrs[name] = data[pos : pos + size]
        pos += size
    pos += 1
    if attrs.get("compression", b"\0") != b"\0":
        raise ValueError(f"{path.name} is compressed; render passes are written uncompressed")
    chans: list[tuple[str, np.dtype[Any]]] = []
    ch = attrs["channels"]
    p = 0
    while ch[p] != 0:
        end = ch.index(b"\0", p)
        (ptype,) = struct.unpack_from("<i", ch, end + 1)
        chans.append((ch[p:end].decode(), _DTYPES[ptype]))
        p = end + 1 + 16
    x0, y0, x1, y1 = struct.unpack("<4i", attrs["dataWindow"])
    width, height = x1 - x0 + 1, y1 - y0 + 1
    offsets = np.frombuffer(data, "<u8", height, pos).astype(np.int64)
    row_bytes = sum(width * dt.itemsize for _, dt in chans)
    block = 8 + row_bytes
    start = int(offsets.min())
    if not np.array_equal(np.sort(offsets), start + np.arange(height) * block):
        raise ValueError(f"{path.name}: unexpected scanline layout")
    rows = np.frombuffer(data, np.uint8, height * block, start).reshape(height, block)
    ys = rows[:, :4].copy().view("<i4").reshape(-1) - y0
    rows = rows[np.argsort(ys)][:, 8:]
    out: dict[str, np.ndarray] = {}
    off = 0
    for name, dt in chans:
        size = width * dt.itemsize
        out[name] = rows[:, off : off + size].copy().view(dt).astype(np.float32).reshape(height, width)
        off += size
    return out
