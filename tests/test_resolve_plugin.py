"""The Motif plugin for DaVinci Resolve, against a Resolve stand-in generated from `fusionscript-stubs`.

Resolve cannot run here. `plugins/resolve/testing/resolve_standin.py` builds Resolve's objects from the
stub (`fusionscript-stubs==21.0.0`, read by resolve_stubspec.py): a method the stub lacks raises, every
call is bound against the stub's overloads (Literal values such as MarkerColor checked), indices are
1-based and failures are False/None/[] as the real API returns. The plugin runs as the build stages
it (vendored client), on a timeline of real test media (an H.264 file made by tests/edit_media.py with
known cuts), against a real engine on loopback; the controller is ticked as the window's waker would tick
it (Window's own wiring runs once, against a hand-made fake UIManager). What only a real Resolve can
confirm is listed in docs/RESOLVE.md.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
import wave
import zipfile
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
TESTING = ROOT / "plugins" / "resolve" / "testing"
PLUGIN_SOURCE = ROOT / "plugins" / "resolve"
SHARED_TOOL = ROOT.parent / "shared" / "tools" / "host_api_check.py"
# Fusion UIManager names (not in fusionscript-stubs: its Fusion class is empty); used only by app.py
UI_NAMES = {"UIDispatcher", "AddWindow", "VGroup", "HGroup", "Label", "LineEdit", "Button", "ComboBox",
            "QueueEvent", "GetItems", "AddItem", "Show", "Hide", "RunLoop", "ExitLoop", "Clear"}
for p in (TESTING, ROOT / "scripts", ROOT / "tests"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import build_resolve_plugin as builder  # noqa: E402
import resolve_standin as rs  # noqa: E402
import resolve_stubspec  # noqa: E402
from edit_media import ShotSpec, make_edit  # noqa: E402

# Decoders in the engine's worker process: the image decoder loads bpy, which crashes this interpreter at
# exit when loaded in-process (the run passes, then ends with SIGSEGV); a child keeps the exit clean.
RATE = Fraction(24)
START = 86400  # 01:00:00:00 at 24 fps: record frames are absolute
# (record offset, length, source in, track, name): cuts at 60, 100, 120, 132 over 192 frames (8 s)
ITEMS = [(0, 60, 0, 1, "Wide"), (60, 72, 60, 1, "Close"), (132, 60, 132, 1, "Reverse"), (100, 20, 10, 2, "Insert")]
CUTS = [60, 100, 120, 132]
EDITOR_MARKER = 120  # the editor's own marker sits on a cut: it stays, that hit is skipped


# =================================================================== fixtures


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """motif_resolve as the build stages it (vendored client; this interpreter has grpcio)."""
    fusion = builder.stage([], [], tmp_path_factory.mktemp("stage"))
    folder = fusion / "Motif"
    sys.path.insert(0, str(folder))
    for name in [m for m in sys.modules if m == "motif_resolve" or m.startswith("motif_resolve.")]:
        del sys.modules[name]
    mods = {n: importlib.import_module(f"motif_resolve.{n}")
            for n in ("app", "controller", "faults", "kit", "score", "timeline")}
    assert Path(str(mods["kit"].__file__)).is_relative_to(folder)
    yield type("Plugin", (), {**mods, "fusion": fusion})
    sys.path.remove(str(folder))


@pytest.fixture(scope="module")
def footage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    shots = [ShotSpec(60, (40, 60, 160), 0.1), ShotSpec(72, (200, 60, 40), 0.7), ShotSpec(60, (60, 170, 90), 0.3)]
    return make_edit(tmp_path_factory.mktemp("media") / "reel.mp4", RATE, shots, size=(160, 90))


def _resolve(footage: Path, items: list[tuple[int, int, int, int, str]] = ITEMS) -> tuple[Any, Any]:
    r = rs.FakeResolve()
    project = r.open_project("Film")
    tl = project.new_timeline("Reel 1", rate="24", start=START)
    media = project.pool.ImportMedia([str(footage)])[0]
    for off, length, src, track, name in items:
        rs.place(tl, track, media, START + off, src, length, name)
    tl.AddMarker(30, "Green", "Editor note", "check the sky", 1, "")
    tl.AddMarker(EDITOR_MARKER, "Blue", "VFX", "shot 12 comp", 1, "")
    r.world.calls.clear()
    return r, tl


def _run(ctl: Any, timeout_s: float = 120.0) -> list[float]:
    """Tick about as often as the window's waker does while busy, until the task ends; the tick durations."""
    took: list[float] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        t = time.perf_counter()
        ctl.tick()
        took.append(time.perf_counter() - t)
        if not ctl.session.busy():
            return took
        time.sleep(0.02)
    raise AssertionError(f"Motif still busy after {timeout_s} s: {ctl.status.text}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def scored(plugin: Any, footage: Path, engine: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Score this timeline, twice (the second run replaces the first)."""
    resolve, tl = _resolve(footage)
    ctl = plugin.controller.Controller(resolve, address=engine.address, cache_dir=tmp_path_factory.mktemp("cache"))
    assert ctl.score_timeline("", "5")
    t0 = time.monotonic()
    ticks = _run(ctl)
    seconds = time.monotonic() - t0
    level, message = ctl.messages[-1]
    assert level == "INFO", message
    job = ctl.last_job
    manifest = dict(job.manifest)
    first = {"tracks": [(t.name, t.subtype, [(i.start, i.end, i.media) for i in t.items])
                        for t in tl.tracks["audio"]], "markers": tl.GetMarkers(),
             "clips": list(resolve.pm.current.pool.root.subfolders[0].clips)}
    calls = list(resolve.world.calls)
    assert ctl.score_timeline("", "5")
    _run(ctl)
    assert ctl.messages[-1][0] == "INFO", ctl.messages[-1]
    return {"resolve": resolve, "tl": tl, "ctl": ctl, "manifest": manifest, "pack_dir": job.pack_dir, "first": first,
            "calls": calls, "ticks": ticks, "seconds": seconds, "message": message}


# =================================================================== the stand-in is the stub


def test_stand_in_is_generated_from_the_stub() -> None:
    spec = resolve_stubspec.load()
    assert len(spec.classes) == 17 and spec.literals["MarkerColor"][:3] == ("Blue", "Cyan", "Green")
    r = rs.FakeResolve()
    tl = r.open_project().new_timeline("T")
    with pytest.raises(AttributeError, match="not in fusionscript-stubs"):
        tl.AddMarkers(0, "Red", "x", "", 1, "")
    with pytest.raises(TypeError, match="no signature"):
        tl.AddMarker(0, "Orange", "x", "", 1, "")  # not a MarkerColor
    with pytest.raises(TypeError, match="no signature"):
        tl.AddTrack("sound", "stereo")  # not a TrackType
    with pytest.raises(TypeError, match="no signature"):
        tl.GetItemListInTrack("video")  # type: ignore[call-arg]  # index missing
    with pytest.raises(TypeError, match="positional"):
        tl.GetTrackCount(trackType="video")
    with pytest.raises(NotImplementedError):
        tl.GrabStill()  # in the stub, not modelled: never silently succeeds
    assert tl.GetItemListInTrack("video", 9) == [] and tl.DeleteTrack("audio", 0) is False  # 1-based, False
    assert r.GetProjectManager().GetCurrentProject().GetCurrentTimeline() is tl  # type: ignore[union-attr]
    with pytest.raises(TypeError, match="lacks in the stub"):
        type("Bad", (rs.StubObject,), {"STUB": "Timeline", "AddMarkers": lambda self: True})


# =================================================================== Score this timeline


def test_score_places_the_mix_at_the_timeline_start_in_a_motif_bin(scored: dict[str, Any]) -> None:
    m, first = scored["manifest"], scored["first"]
    edit = m["request"]["edit"]
    assert Fraction(edit["fps"]) == RATE and edit["frames"] == 192
    assert [h["cut"]["frame"] for h in edit["hits"]] == CUTS
    assert all(h["record_frame"] == START + h["frame"] for h in edit["hits"])
    names = [t[0] for t in first["tracks"]]
    assert names == ["Audio 1", "Motif Score"]
    _, subtype, items = first["tracks"][1]
    assert subtype == "stereo" and len(items) == 1
    start, end, media = items[0]
    assert (start, end) == (START, START + 192), "record frames are absolute; the mix is as long as the edit"
    mix = scored["pack_dir"] / "music" / "mix.wav"
    assert Path(media.GetClipProperty("File Path")) == mix.resolve()
    with wave.open(str(mix)) as w:
        assert w.getnframes() == 8 * 48000 and w.getnchannels() == 2
    stems = sorted(p.name for p in (scored["pack_dir"] / "music").rglob("*.wav") if p.parent.name == "stems")
    assert stems and sorted(c.GetName() for c in first["clips"]) == sorted(["mix.wav", *stems])
    for c in first["clips"]:
        assert "seed: 5" in c.GetMetadata("Comments") and c.GetThirdPartyMetadata("Motif.PackId") == m["pack_id"]
    assert "2 hit marker" not in scored["message"] and "already hold a marker" in scored["message"]


def test_a_marker_per_hit_coloured_from_the_palette(scored: dict[str, Any]) -> None:
    m, markers = scored["manifest"], scored["first"]["markers"]
    spec = resolve_stubspec.load()
    ours = {f: v for f, v in markers.items() if v["customData"].startswith("motif-score")}
    hits = {h["frame"]: h for h in m["request"]["edit"]["hits"]}
    assert sorted(ours) == [f for f in sorted(hits) if f != EDITOR_MARKER]
    from motif_client import timeline_score as ts

    palette = ts.palette_colors(m)
    assert len(palette) >= 5
    for f, v in ours.items():
        assert v["name"] == hits[f]["kind"] and v["color"] in spec.literals["MarkerColor"]
        assert v["color"] == ts.nearest_marker_color(palette[hits[f]["cut"]["shot"] % len(palette)])
        assert f"cut {hits[f]['cut']['shot']} at {hits[f]['timecode']}" in v["note"]
    assert markers[EDITOR_MARKER]["name"] == "VFX" and markers[30]["name"] == "Editor note"  # the editor's stay


def test_running_it_again_replaces_its_track_and_markers(scored: dict[str, Any]) -> None:
    tl, first = scored["tl"], scored["first"]
    assert [t.name for t in tl.tracks["audio"]] == ["Audio 1", "Motif Score"]
    assert len(tl.tracks["audio"][1].items) == 1 and tl.tracks["audio"][1].items[0].start == START
    assert tl.GetMarkers() == first["markers"]
    pool = scored["resolve"].pm.current.pool
    assert [f.name for f in pool.root.subfolders] == ["Motif"] and pool.root.subfolders[0].clips == first["clips"]


def test_resolve_is_only_touched_on_its_ui_thread_and_never_waits(scored: dict[str, Any]) -> None:
    calls = scored["calls"]
    assert calls and all(c.main_thread for c in calls)
    assert max(scored["ticks"]) < 0.25, "a tick waited on the engine"
    used = {f"{c.cls}.{c.name}" for c in calls}
    assert {"MediaPool.ImportMedia", "Timeline.AddTrack", "MediaPool.AppendToTimeline", "Timeline.AddMarker"} <= used


def test_the_timeline_is_sent_as_otio_the_engine_reads(plugin: Any, footage: Path) -> None:
    import opentimelineio as otio

    from motif_client import timeline_score as ts

    resolve, _ = _resolve(footage)
    project, current = plugin.timeline.current(resolve)
    desc = plugin.timeline.describe(project, current)
    assert desc.rate == RATE and desc.start_frame == START and desc.item_count == 4
    t = otio.adapters.read_from_string(ts.to_otio(desc).decode(), "otio_json")
    assert t.global_start_time.to_frames() == START and t.duration().to_frames() == 192
    v1 = [c for c in t.tracks[0].find_clips()]
    assert [c.name for c in v1] == ["Wide", "Close", "Reverse"]
    assert [c.source_range.start_time.to_frames() for c in v1] == [0, 60, 132]
    assert all(c.media_reference.target_url == footage.resolve().as_uri() for c in v1)
    assert [(mk.name, mk.marked_range.start_time.to_frames()) for mk in t.tracks.markers] == [
        ("Editor note", 30), ("VFX", EDITOR_MARKER)]
    from engine_server.readers.edit.otio_in import read_timeline

    edit = read_timeline(ts.to_otio(desc), "reel.otio", "0" * 64, ".otio", None)
    assert [s.start for s in edit.shots][1:] == CUTS and edit.start_frame == START


# =================================================================== Import pack


def test_import_pack_makes_a_bin_with_prompt_and_seed(plugin: Any, engine: Any, client: Any, footage: Path,
                                                      tmp_path: Path) -> None:
    prompt = "misty harbour at dawn"
    events = list(client.generate(prompt, seed=11, decoders=["music", "image"],
                                  options={"music": {"bars": 2}, "image": {"width": 160, "height": 90}}))
    pack_id = events[-1].manifest["pack_id"]
    resolve, _ = _resolve(footage)
    ctl = plugin.controller.Controller(resolve, address=engine.address, cache_dir=tmp_path)
    assert ctl.watch_feed()  # the pack is picked from the feed: its row carries the id Import needs
    deadline = time.monotonic() + 10
    while pack_id not in [row[0] for row in ctl.feed_rows()] and time.monotonic() < deadline:
        ctl.tick()
        time.sleep(0.05)
    picked = next(row for row in ctl.feed_rows() if row[0] == pack_id)
    assert picked[1:] == (prompt, "11")
    assert ctl.import_pack(picked[0])
    _run(ctl)
    assert ctl.messages[-1][0] == "INFO", ctl.messages[-1]
    motif = resolve.pm.current.pool.root.subfolders[-1]
    assert motif.name == "Motif" and len(motif.subfolders) == 1
    pack_bin = motif.subfolders[0]
    assert pack_bin.name == f"{prompt} [{pack_id[:8]}]"
    kinds = sorted(c.GetThirdPartyMetadata("Motif.Role") for c in pack_bin.clips)
    assert kinds.count("image") == 1 and kinds.count("mix") == 1 and kinds.count("stem") >= 2
    for c in pack_bin.clips:
        assert c.GetMetadata("Description") == prompt and "seed: 11" in c.GetMetadata("Comments")
        assert c.GetThirdPartyMetadata("Motif.Seed") == "11"
    assert ctl.import_pack(pack_id)
    _run(ctl)
    assert ctl.messages[-1][0] == "INFO", ctl.messages[-1]
    assert len(motif.subfolders) == 1 and len(pack_bin.clips) == len(kinds), "a second import duplicates nothing"


# =================================================================== faults


def _untouched(tl: Any) -> None:
    assert [t.name for t in tl.tracks["audio"]] == ["Audio 1"] and not tl.tracks["audio"][0].items
    assert sorted(tl.GetMarkers()) == [30, EDITOR_MARKER]


def test_no_project_no_timeline_empty_timeline_and_no_scripting(plugin: Any, footage: Path, tmp_path: Path) -> None:
    f = plugin.faults
    r = rs.FakeResolve()
    ctl = plugin.controller.Controller(r, address="127.0.0.1:1", cache_dir=tmp_path)
    assert not ctl.score_timeline() and ctl.messages[-1] == ("ERROR", f.no_project())
    project = r.open_project("Film")
    assert not ctl.score_timeline() and ctl.messages[-1] == ("ERROR", f.no_timeline("Film"))
    project.new_timeline("Empty")
    assert not ctl.score_timeline() and ctl.messages[-1] == ("ERROR", f.empty_timeline("Empty"))
    assert not ctl.import_pack("") and "Pick a pack" in ctl.messages[-1][1]
    none = plugin.controller.Controller(None, cache_dir=tmp_path)
    assert not none.score_timeline() and "motif score" in none.messages[-1][1]
    for env in ({}, {"bmd": type("Bmd", (), {"scriptapp": staticmethod(lambda name: None)})()}):
        with pytest.raises(f.ResolveFault, match=r"score\.otio") as info:
            plugin.app.connect(env)
        assert "OpenTimelineIO" in str(info.value) and "Studio" in str(info.value)
    assert not ctl.session.busy()


def test_engine_status_line(plugin: Any, engine: Any, tmp_path: Path) -> None:
    ctl = plugin.controller.Controller(rs.FakeResolve(), address=engine.address, cache_dir=tmp_path)
    ctl.check_engine()
    _run(ctl, 30)
    assert ctl.engine_text.startswith("Engine: ") and ctl.engine_text.endswith(f"at {engine.address}")
    assert ctl.messages[-1][0] == "INFO" and "Connected" in ctl.messages[-1][1]


class FakeUIManager:
    """HAND-MADE, not generated from any stub: fusionscript-stubs has no UIManager (its Fusion class is
    empty), so this proves nothing about Resolve's real window. It models only what app.py's tick wiring
    needs, as Blackmagic documents it: elements with properties, `win.On.<ID>.<Event>` handlers, and
    `QueueEvent(element, event, info)` calling that handler from `RunLoop`, on the loop's thread. It has
    no Timer: using one fails here."""

    def __init__(self) -> None:
        self.queue: queue.Queue[tuple[Any, str, dict[str, Any]]] = queue.Queue()
        self.win: Any = None
        self.exit = False
        self.ticks_queued = 0  # Tick events queued and not yet delivered
        self.most_ticks_queued = 0
        self.queued_from: set[str] = set()  # names of the threads that queued a Tick
        self.handled_on: list[tuple[str, int]] = []  # (event, thread id) of each delivered event
        self.shown = False

    def __getattr__(self, kind: str) -> Any:
        if kind not in {"VGroup", "HGroup", "Label", "LineEdit", "Button", "ComboBox"}:
            raise AttributeError(f"the fake UIManager has no {kind!r}")
        return lambda props, children=(): SimpleNamespace(
            kind=kind, children=list(children), CurrentIndex=-1, **props,
            Clear=lambda: None, AddItem=lambda text: None)

    def QueueEvent(self, element: Any, event: str, info: dict[str, Any]) -> None:  # UIManager's names
        if element.ID == "Tick":
            self.queued_from.add(threading.current_thread().name)
            self.ticks_queued += 1
            self.most_ticks_queued = max(self.most_ticks_queued, self.ticks_queued)
        self.queue.put((element, event, info))

    # the dispatcher (bmd.UIDispatcher(ui)) is the same object here
    def AddWindow(self, props: dict[str, Any], layout: Any) -> Any:
        items: dict[str, Any] = {}

        def index(el: Any) -> None:
            if getattr(el, "ID", None):
                items[el.ID] = el
            for child in el.children:
                index(child)

        index(layout)
        self.win = SimpleNamespace(ID=props["ID"], children=[], GetItems=lambda: items, On=_Handlers(),
                                   Show=lambda: setattr(self, "shown", True),
                                   Hide=lambda: setattr(self, "shown", False))
        return self.win

    def RunLoop(self, deadline_s: float = 60.0) -> None:
        deadline = time.monotonic() + deadline_s
        while not self.exit and time.monotonic() < deadline:
            try:
                element, event, info = self.queue.get(timeout=0.05)
            except queue.Empty:
                continue
            if element.ID == "Tick":
                self.ticks_queued -= 1
            self.handled_on.append((event, threading.get_ident()))
            getattr(getattr(self.win.On, element.ID), event)({"who": element.ID, "what": event, **info})

    def ExitLoop(self) -> None:
        self.exit = True


class _Handlers:
    """`win.On.<ID>.<Event> = handler`."""

    def __init__(self) -> None:
        self.ids: dict[str, SimpleNamespace] = {}

    def __getattr__(self, element_id: str) -> SimpleNamespace:
        return self.ids.setdefault(element_id, SimpleNamespace())


def test_the_window_ticks_from_queued_events_on_its_loop_thread(plugin: Any, engine: Any,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Window.run against the hand-made FakeUIManager: Check engine runs on the worker, its events wake
    the waker, which queues hidden Tick clicks; RunLoop's thread runs every tick and the labels follow."""
    monkeypatch.setenv("MOTIF_ENGINE", engine.address)
    ui = FakeUIManager()
    bmd = SimpleNamespace(UIDispatcher=lambda manager: manager)
    window = plugin.app.Window(rs.FakeResolve(), SimpleNamespace(UIManager=ui), bmd)
    tick_threads: list[int] = []
    real_tick = window.ctl.tick

    def tick() -> float | None:
        tick_threads.append(threading.get_ident())
        return real_tick()  # type: ignore[no-any-return]

    window.ctl.tick = tick
    progress = window.items["Progress"]

    def user() -> None:  # another thread, as Resolve's user: closes the window once connected
        deadline = time.monotonic() + 30
        while not str(progress.Text).startswith("Connected") and time.monotonic() < deadline:
            time.sleep(0.02)
        ui.QueueEvent(window.win, "Close", {})

    threading.Thread(target=user, daemon=True).start()
    window.run()
    loop = threading.get_ident()
    assert progress.Text.startswith("Connected: Motif engine ") and engine.address in progress.Text
    assert window.items["Engine"].Text.startswith("Engine: ") and window.items["Engine"].Text.endswith(
        f"at {engine.address}")
    assert len(tick_threads) >= 2 and set(tick_threads) == {loop}
    assert ("Clicked", loop) in ui.handled_on and ui.handled_on[-1] == ("Close", loop)
    assert ui.queued_from == {"motif-runner-waker"} and ui.most_ticks_queued == 1
    assert not window.waker.running and not ui.shown and not window.ctl.runner.feeding


def test_engine_down_says_so_and_places_nothing(plugin: Any, footage: Path, tmp_path: Path) -> None:
    resolve, tl = _resolve(footage)
    address = f"127.0.0.1:{_free_port()}"
    ctl = plugin.controller.Controller(resolve, address=address, cache_dir=tmp_path)
    assert ctl.score_timeline("storm", 1)
    _run(ctl, 30)
    level, message = ctl.messages[-1]
    assert level == "ERROR" and "Cannot reach the Motif engine" in message and address in message
    assert ctl.engine_text.endswith(f"not reachable at {address}")
    _untouched(tl)


def test_unreadable_media_and_a_changed_timeline_leave_nothing_behind(plugin: Any, scored: dict[str, Any],
                                                                      footage: Path, tmp_path: Path) -> None:
    bad = tmp_path / "pack"
    shutil.copytree(scored["pack_dir"], bad)
    stems = sorted((bad / "music" / "stems").glob("*.wav"))
    stems[0].write_bytes(b"RIFF\0\0\0\0WAVEjunk")
    resolve, tl = _resolve(footage)
    ctl = plugin.controller.Controller(resolve, cache_dir=tmp_path)
    ctl.session.import_pack(bad, scored["manifest"], {"action": "score", "timeline": tl})
    _run(ctl, 30)
    assert ctl.messages[-1] == ("ERROR", plugin.faults.unreadable_media([stems[0].name]))
    _untouched(tl)
    motif = resolve.pm.current.pool.root.subfolders
    assert [f.name for f in motif] == ["Motif"] and motif[0].clips == []
    # an earlier score is kept whole when a re-run fails half-way (here: the timeline was switched)
    ok = plugin.score.ScoreJob(resolve, tl, scored["pack_dir"], scored["manifest"])
    list(ok.steps())
    before = (tl.GetMarkers(), [(t.name, len(t.items)) for t in tl.tracks["audio"]])
    other = resolve.pm.current.new_timeline("Reel 2")
    job = plugin.score.ScoreJob(resolve, tl, scored["pack_dir"], scored["manifest"])
    with pytest.raises(plugin.faults.ResolveFault, match="no longer the current timeline"):
        list(job.steps())
    resolve.pm.current.SetCurrentTimeline(tl)
    assert (tl.GetMarkers(), [(t.name, len(t.items)) for t in tl.tracks["audio"]]) == before
    assert other.GetMarkers() == {} and [t.name for t in other.tracks["audio"]] == ["Audio 1"]


def test_a_refused_placement_is_taken_back_whole(plugin: Any, scored: dict[str, Any], footage: Path) -> None:
    """AppendToTimeline answers with a list but places nothing (an occupied range): the new track and
    markers go again, the earlier run's markers come back."""
    resolve, tl = _resolve(footage)
    list(plugin.score.ScoreJob(resolve, tl, scored["pack_dir"], scored["manifest"]).steps())
    before = (tl.GetMarkers(), [(t.name, len(t.items)) for t in tl.tracks["audio"]])
    pool = resolve.pm.current.pool
    real = type(pool).AppendToTimeline
    type(pool).AppendToTimeline = lambda self, *a: [object()]  # type: ignore[method-assign]
    try:
        with pytest.raises(plugin.faults.ResolveFault, match="refused to place the score"):
            list(plugin.score.ScoreJob(resolve, tl, scored["pack_dir"], scored["manifest"]).steps())
    finally:
        type(pool).AppendToTimeline = real  # type: ignore[method-assign]
    assert (tl.GetMarkers(), [(t.name, len(t.items)) for t in tl.tracks["audio"]]) == before


# =================================================================== static checks


def _pascal_calls(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [(n.func.attr, n.lineno) for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr[:1].isupper()]


def _own_names(files: list[Path]) -> set[str]:
    """Classes and functions the plugin and the kit define themselves (ResolveFault, TimelineDesc, …)."""
    names: set[str] = set()
    for f in files:
        names |= {n.name for n in ast.walk(ast.parse(f.read_text(encoding="utf-8")))
                  if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    return names


def unknown_names(files: list[Path]) -> list[str]:
    known = resolve_stubspec.all_methods(resolve_stubspec.load())
    own = _own_names([*files, *sorted((ROOT / "motif_client").glob("*.py"))])
    bad = []
    for f in files:
        for name, line in _pascal_calls(f):
            if name in known or name in own or (f.name == "app.py" and name in UI_NAMES):
                continue
            bad.append(f"{f.name}:{line}: {name}")
    return bad


def test_every_resolve_method_the_plugin_calls_is_in_the_stub(tmp_path: Path) -> None:
    files = [PLUGIN_SOURCE / "Motif.py", *sorted((PLUGIN_SOURCE / "motif_resolve").glob("*.py"))]
    assert len(files) >= 8 and sum(len(_pascal_calls(f)) for f in files) > 40
    assert unknown_names(files) == []
    typo = tmp_path / "typo.py"
    typo.write_text("def f(tl):\n    tl.AddMarkers(0, 'Red', 'x', '', 1, '')\n    tl.GetItemsInTrack('video', 1)\n")
    assert unknown_names([typo]) == ["typo.py:2: AddMarkers"]


# The window's dispatcher: real UIManager API (the only documented way to run a window's event loop) that
# neither fusionscript.pyi nor the shared checker's UIManager list describes (docs/RESOLVE.md). Everything
# else must pass unexcused.
UIMANAGER_BEYOND_CHECKER = "UIDispatcher"


@pytest.mark.skipif(not SHARED_TOOL.exists(), reason="the shared host_api_check tool is not beside this checkout")
def test_shared_host_api_check_agrees() -> None:
    stub_root = resolve_stubspec.stub_path().parent
    proc = subprocess.run([sys.executable, str(SHARED_TOOL), "resolve", str(PLUGIN_SOURCE), "--stub-root",
                           str(stub_root), "--allow", UIMANAGER_BEYOND_CHECKER],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HOST_API_CACHE": str(ROOT / "build" / "host_api_cache")})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and " 0 errors, 0 warnings" in out, out[-3000:]


# =================================================================== build and install


def test_built_zip_works_in_a_clean_python(engine: Any, tmp_path: Path) -> None:
    """The Linux zip for this Python unpacked into a fresh folder: a Python with no site-packages and only
    the plugin's folder on its path imports the vendored client and the bundled wheels and reaches the
    engine (stands in for the Python Resolve runs scripts with)."""
    py = f"{sys.version_info[0]}.{sys.version_info[1]}"
    target = builder.build(["linux"], [py], tmp_path / "dist", tmp_path / "stage")
    import tomllib

    assert builder.version() == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert target.name == f"Motif-{builder.version()}-Resolve.zip"
    key = f"linux-cp{py.replace('.', '')}"
    with zipfile.ZipFile(target) as zf:
        names = zf.namelist()
        assert "Fusion/Scripts/Utility/Motif.py" in names
        assert "Fusion/Motif/motif_resolve/vendor/motif_client/timeline_score.py" in names
        assert any(n.startswith(f"Fusion/Motif/site-packages/{key}/grpc/") for n in names)
        zf.extractall(tmp_path / "Support")
    folder = tmp_path / "Support" / "Fusion" / "Motif"
    script = (
        "import sys, json\n"
        f"sys.path[:] = [p for p in sys.path if 'site-packages' not in p] + [{str(folder)!r}]\n"
        "from motif_resolve import kit\n"
        "import grpc, google.protobuf\n"
        f"c = kit.MotifClient({engine.address!r}, client_name='resolve')\n"
        "info = c.describe()\n"
        "print(json.dumps({'grpc': grpc.__file__, 'protobuf': google.protobuf.__file__,\n"
        "                  'version': info['engine_version'], 'path': sys.path}))\n"
    )
    base = getattr(sys, "_base_executable", sys.executable)
    proc = subprocess.run([base, "-I", "-S", "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    site = str(folder / "site-packages" / key)
    assert out["grpc"].startswith(site) and out["protobuf"].startswith(site) and out["version"]
    assert not [p for p in out["path"] if ".venv" in p or "/work/main/motif_client" in p]
    # the entry script finds the plugin beside it and says why when scripting is unavailable
    entry = tmp_path / "Support" / "Fusion" / "Scripts" / "Utility" / "Motif.py"
    proc = subprocess.run([base, "-I", "-S", str(entry)], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)})
    assert proc.returncode == 0 and "motif score" in proc.stdout and "score.otio" in proc.stdout, proc.stdout


@pytest.mark.parametrize("system", ["linux", "mac", "windows"])
def test_motif_install_resolve_copies_into_the_folder_per_os(system: str, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from engine_server import cli

    zip_path = builder.zip_plugin(builder.stage([], [], tmp_path / "stage"), tmp_path / "dist")
    home, appdata = tmp_path / "home", tmp_path / "home" / "AppData" / "Roaming"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("APPDATA", str(appdata))
    fusion = {"linux": home / ".local" / "share" / "DaVinciResolve" / "Fusion",
              "mac": home / "Library" / "Application Support" / "Blackmagic Design" / "DaVinci Resolve" / "Fusion",
              "windows": appdata / "Blackmagic Design" / "DaVinci Resolve" / "Support" / "Fusion"}[system]
    (fusion / "Scripts" / "Utility").mkdir(parents=True)
    (fusion / "Scripts" / "Utility" / "Other.lua").write_text("-- someone else's script\n")
    for _ in range(2):  # a second install replaces the first
        assert cli.main(["install", "resolve", "--from", str(zip_path), "--os", system]) == 0
    assert (fusion / "Scripts" / "Utility" / "Motif.py").read_text() == (PLUGIN_SOURCE / "Motif.py").read_text()
    assert (fusion / "Motif" / "motif_resolve" / "vendor" / "motif_client" / "client.py").is_file()
    assert (fusion / "Scripts" / "Utility" / "Other.lua").is_file()
    assert sorted(p.name for p in fusion.iterdir()) == ["Motif", "Scripts"]
    assert cli.main(["install", "resolve", "--from", str(tmp_path / "nope.zip"), "--os", system]) == 2
