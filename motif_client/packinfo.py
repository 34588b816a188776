"""Host-free reading of packs, latents and Describe: roles, kit layout, world light, pins, names,
the modalities and options a host offers. Every plugin asks these; its importer turns the answers
into its own host's data. Plain Python (no numpy, no host module), tested without any host.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .channel import is_loopback, parse_address
from .rules import hex_to_linear
from .runner import GenerateSpec

MODALITIES = ("mesh", "music", "image", "video")  # a panel's defaults before the engine is asked
# Latent fields never shown as editable (the seed has its own widget; the embedding is 384 numbers).
HIDDEN_FIELDS = frozenset({"seed", "embedding"})
MANIFEST = "pack.json"
# Latent v2 fields a latent leaves out while they hold these values (a v1 latent reads with them).
OMITTED_DEFAULTS: Mapping[str, Any] = {"subjects": [], "environment": "open"}


# ------------------------------------------------------------------ addresses


def address_problem(address: str, online_access: bool = True, host_app: str = "The host",
                    allow_hint: str = "allow online access in its settings") -> str | None:
    """Why a plugin may not connect to `address`, or None.

    Hosts such as Blender ask plugins to stay offline unless the user allows online access; an
    engine on this computer (loopback) is not "online", any other host is.
    """
    try:
        host, _ = parse_address(address)
    except ValueError as exc:
        return str(exc)
    if not is_loopback(host) and not online_access:
        return (f"{host_app}'s online access is off, so Motif only talks to an engine on this computer "
                f"(127.0.0.1). To use {host}, {allow_hint}.")
    return None


# ------------------------------------------------------------------ Describe


def offered_decoders(describe: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The decoders a host offers an artist as modalities: all but diagnostic ones (probe)."""
    return [dict(d) for d in describe.get("decoders", [])
            if not d.get("diagnostic") and not d.get("placeholder")]


def image_option(decoder: Mapping[str, Any]) -> str | None:
    """The name of the decoder's image-kind option (its sketch input), or None if it takes no image."""
    return next((str(o["name"]) for o in decoder.get("options", []) if o.get("kind") == "image"), None)


def sketch_targets(describe: Mapping[str, Any], chosen: Iterable[str]) -> dict[str, str]:
    """{decoder: option name} for each chosen decoder whose Describe options take an image."""
    wanted = set(chosen)
    out: dict[str, str] = {}
    for d in offered_decoders(describe):
        name = image_option(d)
        if d["name"] in wanted and name:
            out[str(d["name"])] = name
    return out


# ------------------------------------------------------------------ packs


def assets_by_role(manifest: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for asset in manifest.get("assets", []):
        out.setdefault(str(asset.get("role", "")), []).append(dict(asset))
    return out


def short_prompt(manifest: Mapping[str, Any], limit: int = 32) -> str:
    request = manifest.get("request", {})
    text = str(request.get("prompt") or "latent").strip().replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def pack_title(manifest: Mapping[str, Any], max_bytes: int = 63) -> str:
    """"Motif <prompt> [<pack id>]": findable in a host's outliner, unique per pack, at most
    `max_bytes` of UTF-8 (hosts limit names: Blender IDs to 63 bytes before 5.0)."""
    tail = f" [{str(manifest.get('pack_id', ''))[:8]}]"
    head = f"Motif {short_prompt(manifest)}"
    while len((head + tail).encode()) > max_bytes:
        head = head[:-1]
    return head + tail


def pack_decoders(manifest: Mapping[str, Any]) -> list[str]:
    return [str(d) for d in manifest.get("request", {}).get("decoders", [])]


def missing_assets(pack_dir: Path, manifest: Mapping[str, Any]) -> list[str]:
    """Assets absent or not of their recorded size (sha256 is checked by the client on download)."""
    root = Path(pack_dir)
    missing = []
    for asset in manifest.get("assets", []):
        p = root / str(asset["path"])
        if not p.is_file() or p.stat().st_size != int(asset.get("bytes", -1)):
            missing.append(str(asset["path"]))
    return missing


def pack_is_complete(pack_dir: Path, manifest: Mapping[str, Any]) -> bool:
    return not missing_assets(pack_dir, manifest)


def read_pack(path: Path) -> tuple[Path, dict[str, Any]]:
    """(pack folder, manifest) of a pack on disk, given its pack.json or its folder (File › Import).

    ValueError with a sentence when it is not a complete Motif pack."""
    path = Path(path)
    manifest_path = path / MANIFEST if path.is_dir() else path
    if not manifest_path.is_file():
        raise ValueError(f"{path} is not a Motif pack: pick its {MANIFEST} or the folder that holds it.")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{manifest_path} is unreadable: {exc}.") from None
    if not isinstance(manifest, dict) or not manifest.get("pack_id") or not isinstance(manifest.get("assets"), list):
        raise ValueError(f"{manifest_path} is not a Motif pack.json (it has no pack_id or assets).")
    missing = missing_assets(manifest_path.parent, manifest)
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise ValueError(f"The pack in {manifest_path.parent} is incomplete: {', '.join(missing[:3])}{more} "
                         "missing or cut short. Copy the whole folder, or import it from the engine's feed.")
    return manifest_path.parent, manifest


# ------------------------------------------------------------------ kit layout


@dataclass(frozen=True)
class KitItem:
    """One mesh of the kit: its footprint on the ground (metres, X by Y of a +Z-up host)."""

    path: str
    width: float
    depth: float
    position: tuple[float, float, float] | None = None  # placed by the pack (+Z-up axes)


def _pair(value: Any) -> tuple[float, float] | None:
    """A footprint as [w, d], {"width", "depth"} or {"x", "z"} (glTF axes), or None."""
    try:
        if isinstance(value, Mapping):
            if "width" in value:
                return float(value["width"]), float(value.get("depth", value["width"]))
            if "x" in value:
                return float(value["x"]), float(value.get("z", value.get("y", value["x"])))
            return None
        if isinstance(value, Sequence) and not isinstance(value, str) and len(value) >= 2:
            return float(value[0]), float(value[-1] if len(value) == 3 else value[1])
    except (TypeError, ValueError):
        return None
    return None


def gltf_to_z_up(v: Sequence[Any]) -> tuple[float, float, float] | None:
    """glTF (+Y up, metres) -> a right-handed +Z-up host such as Blender: (x, y, z) -> (x, -z, y)."""
    try:
        x, y, z = (float(c) for c in v[:3])
    except (TypeError, ValueError):
        return None
    return (x, -z, y)


def _grid_of(source: Any) -> float:
    if not isinstance(source, Mapping):
        return 0.0
    for key in ("grid_snap_m", "grid", "grid_m"):
        g = source.get(key)
        if isinstance(g, Mapping):
            g = g.get("size", g.get("cell"))
        if isinstance(g, (int, float)) and not isinstance(g, bool) and g > 0:
            return float(g)
    return 0.0


def kit_info(
    manifest: Mapping[str, Any], kit_json: Mapping[str, Any] | None
) -> tuple[float, dict[str, dict[str, Any]]]:
    """(grid in metres, per mesh path: metadata merged from the pack's asset entry and kit.json).

    kit.json may nest everything under "kit" (the mesh decoder does) and name pieces by "path" or
    by "name" (matched to mesh/<name>.glb).
    """
    kit = dict(kit_json or {})
    if isinstance(kit.get("kit"), Mapping):
        kit = dict(kit["kit"])
    meshes = assets_by_role(manifest).get("mesh", [])
    per_path: dict[str, dict[str, Any]] = {str(a["path"]): dict(a.get("meta", {})) for a in meshes}
    by_stem = {Path(p).stem: p for p in per_path}
    entries = kit.get("assets", kit.get("pieces", kit.get("layout", [])))
    if isinstance(entries, Mapping):
        entries = [{"path": k, **(v if isinstance(v, Mapping) else {})} for k, v in entries.items()]
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, Mapping):
            continue
        path = str(entry.get("path", "")) or by_stem.get(str(entry.get("name", "")), "")
        if path in per_path:
            per_path[path] = {**entry, **per_path[path]}  # the pack's own entry wins
    grid = _grid_of(kit) or next((g for g in (_grid_of(m) for m in per_path.values()) if g), 0.0)
    return grid, per_path


def kit_items(meta: Mapping[str, Mapping[str, Any]], measured: Mapping[str, tuple[float, float]]) -> list[KitItem]:
    """Footprints from the pack's metadata where stated, else as measured after import."""
    items = []
    for path, m in meta.items():
        fp = (_pair(m.get("footprint_m")) or _pair(m.get("footprint")) or _pair(m.get("size"))
              or measured.get(path) or (1.0, 1.0))
        pos = m.get("position", m.get("placement"))
        items.append(KitItem(path, max(fp[0], 0.01), max(fp[1], 0.01),
                             gltf_to_z_up(pos) if isinstance(pos, Sequence) and len(pos) >= 3 else None))
    return items


def layout_kit(
    items: Sequence[KitItem], grid: float = 0.0, gap_cells: int = 1
) -> dict[str, tuple[float, float, float]]:
    """Lay the kit out on its grid: rows of about sqrt(n) pieces, each snapped to whole cells,
    one free cell between pieces, the whole layout centred on the origin. Pieces whose position
    the pack states are left where the pack puts them."""
    cell = grid if grid > 0 else 1.0
    loose = [it for it in items if it.position is None]
    placed = {it.path: it.position for it in items if it.position is not None}
    if not loose:
        return dict(placed)  # type: ignore[arg-type]
    per_row = max(1, math.ceil(math.sqrt(len(loose))))

    def snap(v: float) -> float:
        return max(1, math.ceil(v / cell - 1e-6)) * cell

    rows = [loose[i : i + per_row] for i in range(0, len(loose), per_row)]
    gap = gap_cells * cell
    spots: dict[str, tuple[float, float, float]] = {}
    row_widths = [sum(snap(it.width) for it in row) + gap * (len(row) - 1) for row in rows]
    row_depths = [max(snap(it.depth) for it in row) for row in rows]
    total_depth = sum(row_depths) + gap * (len(rows) - 1)
    y = total_depth / 2.0
    for row, width, depth in zip(rows, row_widths, row_depths, strict=True):
        x = -width / 2.0
        yc = y - depth / 2.0
        for it in row:
            w = snap(it.width)
            spots[it.path] = (round(x + w / 2.0, 6), round(yc, 6), 0.0)
            x += w + gap
        y -= depth + gap
    # Keep clear of explicitly placed pieces by shifting the loose block behind them.
    if placed:
        far = max((p[1] for p in placed.values() if p), default=0.0) + total_depth / 2.0 + gap
        spots = {k: (v[0], v[1] + far, v[2]) for k, v in spots.items()}
    return {**spots, **placed}  # type: ignore[dict-item]


def kit_extent(items: Sequence[KitItem], spots: Mapping[str, tuple[float, float, float]]) -> tuple[float, float]:
    """Width and depth of the laid-out kit (for framing the concept image)."""
    if not items:
        return (4.0, 4.0)
    xs = [spots[it.path][0] + s * it.width / 2 for it in items for s in (-1, 1)]
    ys = [spots[it.path][1] + s * it.depth / 2 for it in items for s in (-1, 1)]
    return (max(xs) - min(xs), max(ys) - min(ys))


# ------------------------------------------------------------------ world light


_SUN = {  # time of day -> (elevation in degrees, relative light)
    "dawn": (4.0, 0.45), "morning": (25.0, 0.8), "noon": (70.0, 1.0),
    "afternoon": (40.0, 0.9), "dusk": (3.0, 0.4), "night": (-20.0, 0.08),
}


def _luma(c: Sequence[float]) -> float:
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]


@dataclass(frozen=True)
class WorldLight:
    sky: tuple[float, float, float]  # linear RGB of the world background
    strength: float
    sun_color: tuple[float, float, float]
    sun_energy: float  # W/m^2 (a sun lamp's strength, as Blender and Unreal take it)
    sun_elevation_deg: float
    sun_azimuth_deg: float


def world_light(latent: Mapping[str, Any]) -> WorldLight:
    """Sky colour and sun from the latent: the palette's light colours weighted by their share,
    tinted by warmth, as bright as brightness and time of day say."""
    palette = [(hex_to_linear(str(s["color"])), float(s.get("weight", 1.0))) for s in latent.get("palette", [])]
    if not palette:
        palette = [((0.5, 0.5, 0.5), 1.0)]
    # Favour the lighter half of the palette: skies are lit.
    palette.sort(key=lambda cw: _luma(cw[0]), reverse=True)
    top = palette[: max(2, len(palette) // 2)]
    wsum = sum(w for _, w in top) or 1.0
    mix = [sum(c[i] * w for c, w in top) / wsum for i in range(3)]
    warmth = float(latent.get("warmth", 0.0))
    tint = (1.0 + 0.25 * warmth, 1.0, 1.0 - 0.25 * warmth)
    mix = [m * t for m, t in zip(mix, tint, strict=True)]
    lum = _luma(mix) or 1e-3
    sky = tuple(min(m / lum * 0.5, 1.0) for m in mix)
    elevation, rel = _SUN.get(str(latent.get("time_of_day", "noon")), (45.0, 0.8))
    brightness = float(latent.get("brightness", 0.5))
    strength = round((0.15 + 0.85 * brightness) * rel, 4)
    sun_color = (1.0, 1.0 - max(0.0, warmth) * 0.25, 1.0 - max(0.0, warmth) * 0.45)
    if warmth < 0:
        sun_color = (1.0 + warmth * 0.3, 1.0 + warmth * 0.1, 1.0)
    if str(latent.get("time_of_day")) in ("dawn", "dusk"):
        sun_color = (1.0, sun_color[1] * 0.75, sun_color[2] * 0.55)
    sun_energy = round(max(0.05, 4.0 * brightness * rel), 4)
    seed = int(latent.get("seed", 0))
    return WorldLight(tuple(round(c, 5) for c in sky), strength, sun_color, sun_energy,  # type: ignore[arg-type]
                      elevation, float(seed % 360))


# ------------------------------------------------------------------ latent editing


def editable_fields(describe_fields: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The Describe field list minus what the panel does not edit as a value."""
    return [dict(f) for f in describe_fields if f.get("name") not in HIDDEN_FIELDS]


def pins_for(latent: Mapping[str, Any], locked: Iterable[str]) -> dict[str, Any]:
    """Locked fields become pins, with the latent's current values."""
    return {name: latent[name] for name in sorted(set(locked)) if name in latent and name != "seed"}


def field_value(latent: Mapping[str, Any], name: str) -> Any:
    """A latent field's value for a panel (None when the latent lacks it): a v2 field the latent
    leaves out, or sends empty over gRPC (proto3's unset), reads as its default."""
    if name in OMITTED_DEFAULTS and not latent.get(name):
        return OMITTED_DEFAULTS[name]
    return latent.get(name)


def subject_name(text: str) -> str:
    """A recipe name as the engine spells it: "Lamp Post" is lamp_post."""
    return "_".join(text.strip().lower().split())


def subjects_text(value: Any) -> str:
    """A latent's subjects ([{name, words}] or names, hero first) as the text a panel edits: "lighthouse, well"."""
    return ", ".join(str(s.get("name", "")) if isinstance(s, Mapping) else str(s) for s in value or [])


def subjects_value(text: str, held: Any = ()) -> list[Any]:
    """The subjects for a panel's text such as "lighthouse, well" (hero first), to send as a pin.

    A name the latent already `held` keeps its entry (with the prompt's words that picked it), so
    locking an unedited list changes nothing. Names are not checked here: the engine refuses an
    unknown one with the list of known recipes."""
    entries = {str(s.get("name")): dict(s) for s in held or [] if isinstance(s, Mapping)}
    names = [subject_name(n) for n in text.split(",") if n.strip()]
    return [entries.get(n, n) for n in names]


def complete_subjects(text: str, choices: Sequence[str]) -> list[str]:
    """Suggestions while typing a comma-separated subjects text: the names so far, then each recipe
    that contains the word being typed, those starting with it first (names already listed are not
    offered again)."""
    head, sep, tail = text.rpartition(",")
    done = [n.strip() for n in head.split(",") if n.strip()] if sep else []
    prefix = "".join(f"{n}, " for n in done)
    typed = subject_name(tail)
    listed = {subject_name(n) for n in done}
    found = sorted((c for c in choices if typed in c and c not in listed), key=lambda c: not c.startswith(typed))
    return [prefix + c for c in found]


def regenerate_spec(manifest: Mapping[str, Any], only: Sequence[str]) -> GenerateSpec:
    """Regenerate only `only` for a pack: every latent field of the pack pinned, the same seed
    and quality, so everything else about the pack stays put."""
    request = manifest.get("request", {})
    latent = dict(manifest.get("latent", {}))
    pins = {k: v for k, v in latent.items() if k != "seed"}
    prompt = request.get("prompt")
    return GenerateSpec(
        prompt=str(prompt) if prompt else None,
        latent=None if prompt else latent,
        seed=int(manifest.get("seed", latent.get("seed", 0))),
        pins=pins,
        decoders=list(only),
        quality=str(request.get("quality", "draft")),
        options={k: v for k, v in request.get("options", {}).items() if k in only},
    )
