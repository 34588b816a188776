"""Push a pack into a running Live over OSC: find out who listens, read the set, send the plan, check.

Live with the Motif script: the whole plan is one transaction (one undo step; on any failure the
script removes what it made and puts back what it changed, then says why). Live with stock
AbletonOSC: MIDI tracks, notes, tempo and meter only (AbletonOSC cannot load audio files); the plan
runs message by message, so the bridge checks for `/live/error` before deleting the pack's old
tracks, and removes the tracks it made itself when something failed. Either way the push ends by
reading the track names back and comparing them with the plan.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine_server.errors import FailedPrecondition, InvalidArgument, Unavailable
from engine_server.live.link import OscLink
from engine_server.live.plan import Layout, Plan, build_plan
from engine_server.live.score import read_score
from motif_client.packinfo import assets_by_role, read_pack

BRIDGE_VERSION = "0.1.0"
TEST_TIMEOUT_S = 1.0  # Live must answer /live/test within a second
QUERY_TIMEOUT_S = 2.0

NOT_LISTENING = (
    "Live is not answering on {host}:{port} (no reply to /live/test within {timeout:g} s). Is Live running with "
    "the Motif control surface? Copy the Motif folder from `make ableton-script` (dist/ableton/Motif) into "
    "Live's User Library › Remote Scripts, restart Live, then choose Motif under Settings (Preferences) › "
    "Link, Tempo & MIDI › Control Surface (docs/ABLETON.md). Stock AbletonOSC selected there works too, "
    "without stems."
)


@dataclass(frozen=True)
class LiveInfo:
    """Who answered: the Motif script (version, Live's version) or stock AbletonOSC."""

    motif: bool
    script_version: str = ""
    live_version: str = ""
    capabilities: frozenset[str] = frozenset()

    @classmethod
    def from_hello(cls, params: tuple[Any, ...]) -> LiveInfo:
        """The Motif script's answer to /motif/hello: version, Live's major and minor, capabilities."""
        version, major, minor, caps = (*params, "", "", "", "")[:4]
        return cls(True, str(version), f"{major}.{minor}", frozenset(str(caps).split()))

    def describe(self) -> str:
        who = f"the Motif script {self.script_version}" if self.motif else "stock AbletonOSC"
        return f"Live {self.live_version or '?'} with {who}"


@dataclass
class PushResult:
    plan: Plan
    info: LiveInfo
    seconds: float
    pack_dir: Path
    manifest: Mapping[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        p = self.plan
        midi, audio = p.midi_tracks, len(p.track_names) - p.midi_tracks
        where = f"scene {p.scene_index + 1}" if p.mode == "session" else "the arrangement"
        again = f", replacing its {len(p.replaced)} old tracks" if p.replaced else ""
        return (f"{p.title}: {midi} MIDI tracks ({p.notes} notes) and {audio} audio tracks into {where}{again} "
                f"in {self.seconds:.2f} s ({self.info.describe()})")


def connect(link: OscLink, timeout: float = TEST_TIMEOUT_S) -> LiveInfo:
    """Ask who listens. The hello goes first, so the Motif script answers this socket's own port."""
    link.take_errors()
    link.send("/motif/hello", BRIDGE_VERSION)
    link.send("/live/test")
    if link.wait_for(lambda m: m[0] == "/live/test", timeout) is None:
        raise Unavailable(NOT_LISTENING.format(host=link.live[0], port=link.live[1], timeout=timeout))
    hello = link.wait_for(lambda m: m[0] == "/motif/hello", 0.5,
                          stop=lambda: any("/motif/hello" in e for e in link.errors))
    link.errors = [e for e in link.errors if "/motif/hello" not in e]  # stock AbletonOSC: "Unknown OSC address"
    if hello is not None:
        return LiveInfo.from_hello(hello[1])
    try:
        major, minor = link.query("/live/application/get/version", timeout=QUERY_TIMEOUT_S)[:2]
        live = f"{major}.{minor}"
    except Unavailable:
        live = ""
    return LiveInfo(False, "", live)


def read_layout(link: OscLink, motif: bool) -> Layout:
    """Track and scene names, tempo and meter: one round trip with the Motif script (it answers
    /live/song/get/scenes/name, which AbletonOSC implements but does not document), two with stock
    AbletonOSC (then every scene's name is asked for, all at once)."""
    song = [("/live/song/get/track_names", ()), ("/live/song/get/num_scenes", ()), ("/live/song/get/tempo", ()),
            ("/live/song/get/signature_numerator", ()), ("/live/song/get/signature_denominator", ())]
    if motif:
        song.append(("/live/song/get/scenes/name", ()))
    got = link.query_many(song, timeout=QUERY_TIMEOUT_S)
    names, count, tempo, num, den = got[:5]
    if motif:
        scene_names = [str(n) for n in got[5]]
    else:
        scenes = link.query_many([("/live/scene/get/name", (i,)) for i in range(int(count[0]))],
                                 timeout=QUERY_TIMEOUT_S)
        scene_names = [str(r[1]) for r in scenes]
    return Layout([str(n) for n in names], scene_names, float(tempo[0]), int(num[0]), int(den[0]))


def load_pack(pack: Path) -> tuple[Path, dict[str, Any]]:
    try:
        pack_dir, manifest = read_pack(pack)
    except ValueError as exc:
        raise InvalidArgument(str(exc)) from None
    if not assets_by_role(manifest).get("midi"):
        raise InvalidArgument(f"The pack in {pack_dir} has no music (no score.mid): generate it with the music "
                              "decoder, e.g. `motif live generate \"<prompt>\"`.")
    return pack_dir, manifest


def push(link: OscLink, pack_dir: Path, manifest: Mapping[str, Any], *, mode: str = "session", at: float = 0.0,
         scene: int | None = None, info: LiveInfo | None = None,
         say: Callable[[str], None] = lambda text: None) -> PushResult:
    """Push one pack into the set Live has open; raises with a sentence when it could not, leaving the set as
    it was."""
    started = time.monotonic()
    info = info or connect(link)
    midi = assets_by_role(manifest)["midi"][0]
    score = read_score(pack_dir / str(midi["path"]))
    layout = read_layout(link, info.motif)
    plan = build_plan(pack_dir, manifest, score, layout, motif=info.motif, mode=mode, at=at, scene=scene,
                      capabilities=info.capabilities)
    for warning in plan.warnings:
        say(warning)
    if info.motif:
        _run_transaction(link, plan)
    else:
        _run_stock(link, plan, layout)
    _verify(link, plan)
    link.send("/live/api/show_message", f"Motif: {plan.title} is in the set ({len(plan.track_names)} tracks)")
    return PushResult(plan, info, time.monotonic() - started, pack_dir, manifest)


def _run_transaction(link: OscLink, plan: Plan) -> None:
    token = f"{plan.tag.strip(' []')}-{time.monotonic_ns() % 10**12}"
    link.take_errors()
    link.send("/motif/push/begin", token)
    link.send_all(plan.commands)
    link.send("/motif/push/end", token)
    wait = 10.0 + len(plan.commands) / 200.0
    got = link.wait_for(lambda m: m[0] == "/motif/push/end" and tuple(m[1][:1]) == (token,), wait)
    link.take_errors()  # the script repeats a failure as /live/error for AbletonOSC clients
    if got is None:
        raise Unavailable(f"Live did not confirm the push within {wait:g} s; look in Live whether the tracks "
                          f"ending in{plan.tag} are there, then push again (it replaces them).")
    if str(got[1][1]) != "ok":
        why = str(got[1][2]) if len(got[1]) > 2 else "no reason given"
        raise FailedPrecondition(f"Live refused the push: {why}. Nothing of it is left in the set (the Motif script "
                                 "removed what it had made).")


def _barrier(link: OscLink) -> tuple[Any, ...]:
    """A query that returns once Live has handled everything sent before it (messages run in order)."""
    link.send("/live/song/get/num_tracks")
    got = link.wait_for(lambda m: m[0] == "/live/song/get/num_tracks", 10.0)
    if got is None:
        raise Unavailable("Live stopped answering in the middle of the push; check the set for tracks ending "
                          "in the pack's id and push again (it replaces them).")
    return got[1]


def _run_stock(link: OscLink, plan: Plan, layout: Layout) -> None:
    deletes = [c for c in plan.commands if c[0] == "/live/song/delete_track"]
    link.take_errors()
    link.send_all(c for c in plan.commands if c[0] != "/live/song/delete_track")
    count = int(_barrier(link)[0])
    errors = link.take_errors()
    if errors:
        made = max(0, count - len(layout.track_names))
        for t in range(plan.insert_at + made - 1, plan.insert_at - 1, -1):
            link.send("/live/song/delete_track", t)
        if plan.new_scene:
            scenes = int(link.query("/live/song/get/num_scenes", timeout=QUERY_TIMEOUT_S)[0])
            if scenes > len(layout.scene_names):
                link.send("/live/song/delete_scene", scenes - 1)
        link.send_all([("/live/song/set/tempo", (layout.tempo,)),
                       ("/live/song/set/signature_numerator", (layout.numerator,)),
                       ("/live/song/set/signature_denominator", (layout.denominator,))])
        _barrier(link)
        link.take_errors()
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise FailedPrecondition(f"Live refused part of the push: {errors[0]}{more}. The {made} tracks it had made "
                                 "were removed and the tempo and meter put back.")
    link.send_all(deletes)
    if deletes:
        _barrier(link)
        errors = link.take_errors()
        if errors:
            raise FailedPrecondition(f"The new tracks are in; removing the pack's old ones failed: {errors[0]}.")


def _verify(link: OscLink, plan: Plan) -> None:
    names = [str(n) for n in link.query("/live/song/get/track_names", timeout=QUERY_TIMEOUT_S)]
    got = names[plan.final_first : plan.final_first + len(plan.track_names)]
    if got != plan.track_names or sum(n.endswith(plan.tag) for n in names) != len(plan.track_names):
        raise FailedPrecondition(f"Live reports tracks {got} where the push put {plan.track_names}; was the set "
                                 "edited meanwhile? Push again to replace them.")


def push_path(link: OscLink, pack: Path, **kwargs: Any) -> PushResult:
    pack_dir, manifest = load_pack(pack)
    return push(link, pack_dir, manifest, **kwargs)
