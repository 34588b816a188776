"""What a push sends to Live: the OSC messages that turn a pack into tracks, clips and a scene.

The plan is computed in full before anything is sent, from the pack and the set's layout (track and
scene names, read first), so the Motif script can run it as one transaction and stock AbletonOSC
can run it message by message. Order matters for "replace, never duplicate" and for rollback:
the new tracks are made right after the pack's old ones (or at the end of the set), filled, and
only then are the old ones deleted; a push that fails before that point only has to remove the
tracks it made, and leaves the old ones as they were.

Addresses are AbletonOSC's documented ones wherever AbletonOSC has them; `/motif/...` only for what
it lacks (audio clips from files, arrangement clips, a named locator).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine_server.live.palette import part_colors
from engine_server.live.score import Score
from motif_client.packinfo import assets_by_role, pack_title

NOTES_PER_MESSAGE = 100  # ~3 KB datagrams: well under macOS's 9216-byte UDP default
Command = tuple[str, tuple[Any, ...]]


@dataclass(frozen=True)
class Layout:
    """The set as the bridge read it just before the push."""

    track_names: Sequence[str]
    scene_names: Sequence[str]
    tempo: float = 120.0
    numerator: int = 4
    denominator: int = 4


@dataclass
class Plan:
    title: str  # the scene / locator name: "Motif <prompt> [<pack id>]"
    tag: str  # " [<pack id 8>]": the end of every track name this pack owns
    mode: str  # session | arrangement
    commands: list[Command] = field(default_factory=list)
    insert_at: int = 0  # index of the first new track
    track_names: list[str] = field(default_factory=list)  # the new tracks, in order
    track_colors: list[int] = field(default_factory=list)
    replaced: list[int] = field(default_factory=list)  # the pack's old tracks, deleted last
    scene_index: int = -1  # session: the row holding the pack's clips
    new_scene: bool = False
    notes: int = 0
    midi_tracks: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def final_first(self) -> int:
        """Where the first new track sits once the old ones are gone."""
        return self.insert_at - len(self.replaced)


def track_tag(manifest: Mapping[str, Any]) -> str:
    return f" [{str(manifest.get('pack_id', ''))[:8]}]"


def stem_files(pack_dir: Path, manifest: Mapping[str, Any], score: Score) -> list[tuple[str, Path]]:
    """(name, absolute path) of each stem in the score's part order, then the mix."""
    roles = assets_by_role(manifest)
    order = {p.key: i for i, p in enumerate(score.parts)}
    stems = sorted(roles.get("stem", []), key=lambda a: (order.get(str(a.get("meta", {}).get("part", "")), 99),
                                                         str(a["path"])))
    out = [(str(a.get("meta", {}).get("part") or Path(str(a["path"])).stem), (pack_dir / str(a["path"])).resolve())
           for a in stems]
    out += [("mix", (pack_dir / str(a["path"])).resolve()) for a in roles.get("music", [])]
    return out


def build_plan(pack_dir: Path, manifest: Mapping[str, Any], score: Score, layout: Layout, *, motif: bool,
               mode: str = "session", at: float = 0.0, scene: int | None = None,
               capabilities: frozenset[str] = frozenset({"audio", "arrangement"})) -> Plan:
    """The messages that push the pack, given the set's layout and who listens: the Motif script (and
    what its Live can do: `audio` and `arrangement` need Live 12.0.5) or stock AbletonOSC."""
    if mode not in ("session", "arrangement"):
        raise ValueError(f"mode must be session or arrangement; got {mode!r}")
    plan = Plan(pack_title(manifest), track_tag(manifest), mode)
    audio = motif and "audio" in capabilities
    if mode == "arrangement" and not (motif and "arrangement" in capabilities):
        plan.mode = mode = "session"
        plan.warnings.append(("Stock AbletonOSC cannot place clips in the arrangement" if not motif else
                              "This Live cannot make arrangement clips from a script (that needs Live 12.0.5)")
                             + ": pushed to a session scene instead (docs/ABLETON.md).")
    stems = stem_files(pack_dir, manifest, score) if audio else []
    if not audio and (assets_by_role(manifest).get("stem") or assets_by_role(manifest).get("music")):
        why = ("stock AbletonOSC cannot load an audio file into Live. Install the Motif Remote Script for stems, "
               "arrangement placement and one-step undo (docs/ABLETON.md)." if not motif else
               "loading audio files from a script needs Live 12.0.5 or later.")
        plan.warnings.append(f"Stems and the mix were not pushed: {why}")
    plan.replaced = [i for i, name in enumerate(layout.track_names) if name.endswith(plan.tag)]
    plan.insert_at = max(plan.replaced) + 1 if plan.replaced else len(layout.track_names)
    colors = part_colors(manifest.get("latent", {}).get("palette", []), len(score.parts))
    by_key = {p.key: c for p, c in zip(score.parts, colors, strict=True)}
    cmd = plan.commands

    cmd += [("/live/song/set/tempo", (float(score.tempo_bpm),)),
            ("/live/song/set/signature_numerator", (int(score.numerator),)),
            ("/live/song/set/signature_denominator", (int(score.denominator),))]
    s = -1
    if mode == "session":
        if scene is not None:
            s = scene
        elif plan.title in layout.scene_names:
            s = list(layout.scene_names).index(plan.title)
        else:
            s, plan.new_scene = len(layout.scene_names), True
            cmd.append(("/live/song/create_scene", (-1,)))
        cmd += [("/live/scene/set/name", (s, plan.title)), ("/live/scene/set/color_index", (s, colors[0]))]
    plan.scene_index = s

    t = plan.insert_at
    for part, color in zip(score.parts, colors, strict=True):
        name = part.label + plan.tag
        cmd += [("/live/song/create_midi_track", (t,)), ("/live/track/set/name", (t, name)),
                ("/live/track/set/color_index", (t, color))]
        where: tuple[Any, ...]
        if mode == "session":
            cmd += [("/live/clip_slot/create_clip", (t, s, float(score.length_beats))),
                    ("/live/clip/set/name", (t, s, part.label))]
            add, where = "/live/clip/add/notes", (t, s)
        else:
            cmd += [("/motif/track/create_midi_clip", (t, float(at), float(score.length_beats))),
                    ("/motif/arrangement_clip/set/name", (t, 0, part.label))]
            add, where = "/motif/arrangement_clip/add/notes", (t, 0)
        for i in range(0, len(part.notes), NOTES_PER_MESSAGE):
            flat: list[Any] = []
            for n in part.notes[i : i + NOTES_PER_MESSAGE]:
                flat += [n.pitch, float(n.start), float(n.duration), n.velocity, False]
            cmd.append((add, (*where, *flat)))
        plan.notes += len(part.notes)
        plan.midi_tracks += 1
        plan.track_names.append(name)
        plan.track_colors.append(color)
        t += 1
    for key, path in stems:
        name = ("Mix" if key == "mix" else f"{key.capitalize()} stem") + plan.tag
        color = by_key.get(key, colors[0])
        cmd += [("/live/song/create_audio_track", (t,)), ("/live/track/set/name", (t, name)),
                ("/live/track/set/color_index", (t, color))]
        if mode == "session":
            cmd += [("/motif/clip_slot/create_audio_clip", (t, s, str(path))),
                    ("/live/clip/set/name", (t, s, path.stem))]
        else:
            cmd += [("/motif/track/create_audio_clip", (t, str(path), float(at))),
                    ("/motif/arrangement_clip/set/name", (t, 0, path.stem))]
        if key == "mix":  # the stems sum to the mix: play the stems, keep the mix for reference
            cmd.append(("/live/track/set/mute", (t, 1)))
        plan.track_names.append(name)
        plan.track_colors.append(color)
        t += 1
    if mode == "arrangement":
        cmd += [("/live/song/set/loop_start", (float(at),)),
                ("/live/song/set/loop_length", (float(score.length_beats),)),
                ("/motif/song/set_locator", (float(at), plan.title))]
    for old in sorted(plan.replaced, reverse=True):
        cmd.append(("/live/song/delete_track", (old,)))
    return plan
