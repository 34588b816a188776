"""Write one asset (all its LODs, its materials and embedded PNG textures) as a binary glTF (.glb)
through pygltflib, the maintained glTF 2.0 object model for Python (see docs/MESH.md).

Layout: one buffer; one tightly packed bufferView per accessor (vertex data target ARRAY_BUFFER, indices
ELEMENT_ARRAY_BUFFER) and per image; node 0 holds LOD0 in the scene and lists the coarser LOD nodes in
`MSFT_lod` (with `MSFT_screencoverage` in its extras). Viewers without MSFT_lod simply show LOD0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pygltflib as gl

from engine_server.decoders.mesh.assembly import LodMesh
from engine_server.decoders.mesh.materials import MaterialSpec

GENERATOR = "Motif mesh decoder 1.0 (pygltflib)"
SCREEN_COVERAGE = (0.25, 0.08, 0.02)  # switch LOD0 -> LOD1 -> LOD2 -> culled, share of screen height

_ARRAY, _ELEMENTS = 34962, 34963
_FLOAT, _USHORT, _UINT = 5126, 5123, 5125
_LINEAR, _LINEAR_MIPMAP_LINEAR, _REPEAT = 9729, 9987, 10497


class _Blob:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self.views: list[gl.BufferView] = []

    def add(self, data: bytes, target: int | None) -> int:
        pad = (-self.size) % 4
        if pad:
            self.chunks.append(b"\x00" * pad)
            self.size += pad
        self.views.append(gl.BufferView(buffer=0, byteOffset=self.size, byteLength=len(data), target=target))
        self.chunks.append(data)
        self.size += len(data)
        return len(self.views) - 1

    def bytes(self) -> bytes:
        out = b"".join(self.chunks)
        return out + b"\x00" * ((-len(out)) % 4)


def _accessor(blob: _Blob, accessors: list[gl.Accessor], arr: np.ndarray, kind: str, target: int,
              bounds: bool = False) -> int:
    comp = {np.dtype(np.float32): _FLOAT, np.dtype(np.uint16): _USHORT, np.dtype(np.uint32): _UINT}[arr.dtype]
    view = blob.add(np.ascontiguousarray(arr).tobytes(), target)
    acc = gl.Accessor(bufferView=view, byteOffset=0, componentType=comp, count=len(arr), type=kind)
    if bounds:
        acc.min = [float(v) for v in arr.min(axis=0)]
        acc.max = [float(v) for v in arr.max(axis=0)]
    accessors.append(acc)
    return len(accessors) - 1


def write_glb(name: str, lods: Sequence[LodMesh], materials: Mapping[str, MaterialSpec],
              textures: Mapping[str, Mapping[str, bytes]], texture_size: int, extras: Mapping[str, Any]) -> bytes:
    """GLB bytes for one asset. `textures[role]` holds PNG bytes for "base", "orm" and "normal"."""
    blob = _Blob()
    accessors: list[gl.Accessor] = []
    images: list[gl.Image] = []
    gl_textures: list[gl.Texture] = []
    gl_materials: list[gl.Material] = []
    roles = sorted({p.material for lod in lods for p in lod.primitives})
    mat_index: dict[str, int] = {}
    emissive_used = False
    for role in roles:
        spec = materials[role]
        tex_index: dict[str, int] = {}
        for slot in ("base", "orm", "normal"):
            view = blob.add(textures[role][slot], None)
            images.append(gl.Image(bufferView=view, mimeType="image/png", name=f"{spec.name}_{slot}"))
            gl_textures.append(gl.Texture(sampler=0, source=len(images) - 1, name=f"{spec.name}_{slot}"))
            tex_index[slot] = len(gl_textures) - 1
        mat = gl.Material(
            name=spec.name,
            pbrMetallicRoughness=gl.PbrMetallicRoughness(
                baseColorTexture=gl.TextureInfo(index=tex_index["base"]),
                metallicRoughnessTexture=gl.TextureInfo(index=tex_index["orm"]),
                metallicFactor=1.0,
                roughnessFactor=1.0,
            ),
            normalTexture=gl.NormalMaterialTexture(index=tex_index["normal"]),
            occlusionTexture=gl.OcclusionTextureInfo(index=tex_index["orm"]),
            doubleSided=False,
            extras={"kind": spec.kind, "role": spec.role, "texture_size": texture_size},
        )
        if spec.emissive_strength > 0:
            mat.emissiveTexture = gl.TextureInfo(index=tex_index["base"])
            mat.emissiveFactor = [1.0, 1.0, 1.0]
            if spec.emissive_strength > 1.0:
                mat.extensions = {"KHR_materials_emissive_strength": {"emissiveStrength": spec.emissive_strength}}
                emissive_used = True
        gl_materials.append(mat)
        mat_index[role] = len(gl_materials) - 1

    meshes: list[gl.Mesh] = []
    nodes: list[gl.Node] = []
    for lod in lods:
        prims = []
        for p in lod.primitives:
            attrs = gl.Attributes(
                POSITION=_accessor(blob, accessors, p.pos, "VEC3", _ARRAY, bounds=True),
                NORMAL=_accessor(blob, accessors, p.nrm, "VEC3", _ARRAY),
                TANGENT=_accessor(blob, accessors, p.tan, "VEC4", _ARRAY),
                TEXCOORD_0=_accessor(blob, accessors, p.uv0, "VEC2", _ARRAY),
                TEXCOORD_1=_accessor(blob, accessors, p.uv1, "VEC2", _ARRAY),
            )
            idx = _accessor(blob, accessors, p.idx, "SCALAR", _ELEMENTS)
            prims.append(gl.Primitive(attributes=attrs, indices=idx, material=mat_index[p.material], mode=4))
        lod_name = name if lod.lod == 0 else f"{name}_lod{lod.lod}"
        meshes.append(gl.Mesh(name=lod_name, primitives=prims))
        nodes.append(gl.Node(name=lod_name, mesh=len(meshes) - 1))
    used = []
    if len(lods) > 1:
        nodes[0].extensions = {"MSFT_lod": {"ids": list(range(1, len(lods)))}}
        nodes[0].extras = {"MSFT_screencoverage": list(SCREEN_COVERAGE[: len(lods)])}
        used.append("MSFT_lod")
    if emissive_used:
        used.append("KHR_materials_emissive_strength")

    gltf = gl.GLTF2(
        asset=gl.Asset(version="2.0", generator=GENERATOR),
        scene=0,
        scenes=[gl.Scene(name=name, nodes=[0], extras={"motif": dict(extras)})],
        nodes=nodes,
        meshes=meshes,
        materials=gl_materials,
        textures=gl_textures,
        images=images,
        samplers=[gl.Sampler(magFilter=_LINEAR, minFilter=_LINEAR_MIPMAP_LINEAR, wrapS=_REPEAT, wrapT=_REPEAT)],
        accessors=accessors,
        bufferViews=blob.views,
        buffers=[gl.Buffer(byteLength=0)],
        extensionsUsed=used,
    )
    data = blob.bytes()
    gltf.buffers[0].byteLength = len(data)
    gltf.set_binary_blob(data)
    return b"".join(gltf.save_to_bytes())
