"""Ableton Live: the bridge (`motif live`), the Motif Remote Script over a Live generated from
`ableton-live-stubs`, and stock AbletonOSC as its README documents it.

Live cannot run here. What stands in for it: `plugins/ableton/testing/live_standin.py` builds a
`Live` package from the stub files (every name from the stubs and nothing else; a few documented
rules simulated), the built Remote Script runs over it on its own "main thread" ticking every
100 ms, and the bridge talks to it over UDP loopback. Stock AbletonOSC is a python-osc server
written from AbletonOSC's README (plugins/ableton/testing/fake_abletonosc.py). Packs come from the
real music decoder; notes are checked against score.mid read here with mido, colours against the
engine's numpy OKLab, audio clips against the files on disk.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mido
import pytest

ROOT = Path(__file__).resolve().parent.parent
TESTING = ROOT / "plugins" / "ableton" / "testing"
SCRIPT_SRC = ROOT / "plugins" / "ableton" / "Motif"
SHARED_TOOL = ROOT.parent / "shared" / "tools" / "host_api_check.py"
sys.path.insert(0, str(TESTING))
sys.path.insert(0, str(ROOT / "scripts"))

import build_ableton_script  # noqa: E402
import live_standin  # noqa: E402
from fake_abletonosc import FakeAbletonOSC  # noqa: E402
from live_harness import LiveHarness  # noqa: E402
from live_stubspec import read_spec  # noqa: E402

from engine_server.errors import FailedPrecondition, Unavailable  # noqa: E402
from engine_server.live.bridge import connect, push_path  # noqa: E402
from engine_server.live.link import OscLink  # noqa: E402
from engine_server.live.palette import LIVE_COLORS, nearest_index  # noqa: E402

# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def spec() -> Any:
    return read_spec()


@pytest.fixture(scope="module")
def script_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`make ableton-script` into a temporary folder: the folder a user copies into Remote Scripts."""
    return build_ableton_script.build(tmp_path_factory.mktemp("ableton-build"))


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 16-bar loop from the real encoder and music decoder: 5 parts, 5 stems and the mix."""
    from engine_server import pipeline
    from engine_server.encoder import get_encoder
    from engine_server.store import PackStore

    store = PackStore(tmp_path_factory.mktemp("ableton-store"))
    job = pipeline.prepare(pipeline.JobSpec(prompt="lofi rain", decoders=["music"], options={"music": {"bars": 16}}),
                           get_encoder())
    pipeline.make_in_process(store, job)
    return store.export(job.pack_id, tmp_path_factory.mktemp("ableton-pack"))


@pytest.fixture()
def live(script_dir: Path) -> Iterator[LiveHarness]:
    with LiveHarness(script_dir, LIVE_COLORS) as harness:
        yield harness


@pytest.fixture()
def link(live: LiveHarness) -> Iterator[OscLink]:
    with OscLink(("127.0.0.1", live.port), reply_port=0) as lk:
        yield lk


def manifest_of(pack: Path) -> dict[str, Any]:
    import json

    return dict(json.loads((pack / "pack.json").read_text()))


def midi_notes(path: Path) -> list[tuple[str, list[tuple[int, float, float, float]]]]:
    """(track name, notes) per part of score.mid, read here with mido: note_on/note_off paired FIFO."""
    f = mido.MidiFile(str(path))
    out = []
    for track in f.tracks:
        now, name = 0, ""
        open_: dict[tuple[int, int], list[tuple[int, int]]] = {}
        notes = []
        for m in track:
            now += m.time
            if m.type == "track_name":
                name = m.name
            elif m.type == "note_on" and m.velocity:
                open_.setdefault((m.channel, m.note), []).append((now, m.velocity))
            elif m.type in ("note_on", "note_off") and open_.get((m.channel, m.note)):
                start, vel = open_[(m.channel, m.note)].pop(0)
                notes.append((m.note, start / f.ticks_per_beat, (now - start) / f.ticks_per_beat, float(vel)))
        if notes:
            out.append((name, sorted(notes, key=lambda n: (n[1], n[0]))))
    return out


def set_snapshot(song: Any) -> list[tuple[Any, ...]]:
    """Everything a push makes, read back through the stub's API."""
    rows: list[tuple[Any, ...]] = [("song", song.tempo, song.signature_numerator, song.signature_denominator,
                                    tuple(s.name for s in song.scenes))]
    for t in song.tracks:
        clips = [s.clip for s in t.clip_slots if s.has_clip] + list(t.arrangement_clips)
        rows.append((t.name, t.color_index, t.color, t.mute, tuple(
            (c.name, c.length, c.start_time, c.file_path if c.is_audio_clip else tuple(live_standin.notes_of(c)))
            for c in clips)))
    return rows


def check_pack_in_set(song: Any, pack: Path, *, session: bool, at: float = 0.0) -> None:
    """Tempo, meter, one MIDI track per part with exactly its notes, the stems and the mix as audio clips
    playing the pack's files, names and colours from the palette."""
    from engine_server.oklab import hex_to_oklab

    manifest = manifest_of(pack)
    tag = f" [{manifest['pack_id'][:8]}]"
    title = f"Motif lofi rain{tag}"
    parts = midi_notes(pack / "music" / "score.mid")
    ours = [t for t in song.tracks if t.name.endswith(tag)]
    assert len(ours) == len(parts) + 6, [t.name for t in song.tracks]  # 5 MIDI, 5 stems, the mix
    latent = manifest["latent"]
    assert song.tempo == pytest.approx(latent["tempo_bpm"], abs=0.01)
    assert (song.signature_numerator, song.signature_denominator) == tuple(int(x) for x in latent["meter"].split("/"))
    length = 16 * song.signature_numerator * 4 / song.signature_denominator
    palette = sorted(latent["palette"], key=lambda s: -s["weight"])
    live_lab = [hex_to_oklab(f"#{c:06x}") for c in LIVE_COLORS]
    for i, (track, (name, notes)) in enumerate(zip(ours, parts, strict=False)):
        assert track.name == name + tag and track.has_midi_input
        lab = hex_to_oklab(palette[i % len(palette)]["color"])
        want = min(range(70), key=lambda k: float(((live_lab[k] - lab) ** 2).sum()))
        assert track.color_index == want and track.color == LIVE_COLORS[want]
        clip = (track.clip_slots[scene_index(song, title)].clip if session else track.arrangement_clips[0])
        assert clip.is_midi_clip and clip.name == name and clip.length == length
        if not session:
            assert clip.start_time == at
        got = [(p, s, d, v) for p, s, d, v, mute in live_standin.notes_of(clip) if not mute]
        assert got == notes, f"{name}: notes differ"
    stems = {a["meta"]["part"]: (pack / a["path"]).resolve() for a in manifest["assets"] if a["role"] == "stem"}
    for track in ours[len(parts):]:
        assert track.has_audio_input
        key = "mix" if track.name.startswith("Mix") else track.name.split()[0].lower()
        path = (pack / "music" / "mix.wav").resolve() if key == "mix" else stems[key]
        clip = track.clip_slots[scene_index(song, title)].clip if session else track.arrangement_clips[0]
        assert clip.is_audio_clip and clip.file_path == str(path) and os.path.isabs(clip.file_path)
        assert Path(clip.file_path).is_file()
        assert track.mute == (key == "mix")  # the stems sum to the mix: the mix is there muted, for reference
        if key != "mix":
            assert track.color_index == ours[[p[0].split()[0].lower() for p in parts].index(key)].color_index
    if not session:
        assert [c.name for c in song.cue_points if c.time == at] == [title]
        assert (song.loop_start, song.loop_length) == (at, length)


def scene_index(song: Any, title: str) -> int:
    names = [s.name for s in song.scenes]
    assert names.count(title) == 1, names
    return names.index(title)


# ------------------------------------------------------------------ the stand-in is the stub


def test_standin_is_generated_from_the_stubs(spec: Any) -> None:
    live = live_standin.build_live(spec, LIVE_COLORS)
    assert set(live._standin_classes) == set(spec.classes)  # every stub class, nothing more
    song = live_standin.default_set(live)
    track = song.tracks[0]
    with pytest.raises(AttributeError, match="not in Live-stubs"):
        _ = track.foo  # a property the stub lacks
    with pytest.raises(AttributeError, match="not in Live-stubs"):
        song.create_clip(4.0)  # a method of another class
    with pytest.raises(AttributeError, match="read-only"):
        track.clip_slots = ()
    with pytest.raises(TypeError, match="create_midi_track"):
        song.create_midi_track(0, 1)  # the stub takes one index
    with pytest.raises(TypeError, match="takes str"):
        track.name = 3
    with pytest.raises(live_standin.StandInGap, match="capture_midi"):
        song.capture_midi()  # Live has it; the stand-in says it does not simulate it
    with pytest.raises(TypeError, match="cannot be instantiated"):
        live.Track.Track()
    assert live.Song.Quantization.q_bar == 4  # enum values from the stub
    note = live.Clip.MidiNoteSpecification(60, 0.5, 1.0)  # the stub's defaults fill the rest
    clip = track.clip_slots[0].create_clip(4.0)
    clip.add_new_notes((note,))
    assert live_standin.notes_of(clip) == [(60, 0.5, 1.0, 100.0, False)]
    with pytest.raises(RuntimeError, match="not empty"):
        track.clip_slots[0].create_clip(4.0)
    with pytest.raises(RuntimeError, match="audio tracks"):
        track.clip_slots[1].create_audio_clip("/nonexistent.wav")


def test_standin_refuses_a_behaviour_the_stub_lacks(spec: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    class Invented:
        def create_pack(self) -> None: ...

    monkeypatch.setitem(live_standin._BEHAVIOUR, "Live.Song.Song", Invented)
    with pytest.raises(AssertionError, match="create_pack"):
        live_standin.build_live(spec, LIVE_COLORS)


def _live_names(tree: ast.Module) -> tuple[list[tuple[str, int]], list[tuple[str, str, int]]]:
    """`Live.a.b…` chains, and (Live class, attribute, line) for attributes read on values the script
    annotates with a Live type (parameters, and `self.<method>(…)` calls whose method returns one)."""
    def chain(node: ast.expr) -> str | None:
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name) and node.id == "Live":
            return ".".join(["Live", *reversed(parts)])
        return None

    returns: dict[str, str] = {}
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef) and fn.returns is not None:
            text = ast.unparse(fn.returns).strip("'\"")
            if text.startswith("Live."):
                returns[fn.name] = text
    chains: list[tuple[str, int]] = []
    typed: list[tuple[str, str, int]] = []
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef):
            continue
        local = {a.arg: ast.unparse(a.annotation) for a in fn.args.args if a.annotation is not None
                 and ast.unparse(a.annotation).startswith("Live.")}
        for node in ast.walk(fn):
            if isinstance(node, ast.Attribute):
                value = node.value
                if isinstance(value, ast.Name) and value.id in local:
                    typed.append((local[value.id], node.attr, node.lineno))
                elif (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                      and isinstance(value.func.value, ast.Name) and value.func.value.id == "self"
                      and value.func.attr in returns):
                    typed.append((returns[value.func.attr], node.attr, node.lineno))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and not isinstance(getattr(node, "parent", None), ast.Attribute):
            c = chain(node)
            if c:
                chains.append((c, node.lineno))
    return chains, typed


def test_every_live_name_the_script_uses_is_in_the_stubs(spec: Any) -> None:
    """A static check of plugins/ableton/Motif: `Live.*` chains, attributes on values typed as Live
    objects, and the property tables the OSC getters and setters are made from."""
    checked = 0
    for path in sorted(SCRIPT_SRC.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        chains, typed = _live_names(tree)
        for name, line in chains:
            parts = name.split(".")
            if len(parts) == 1:
                continue
            module = ".".join(parts[:2])
            assert module in spec.modules, f"{path.name}:{line}: {module} is not a Live module"
            if len(parts) >= 3:
                qual = f"{module}.{parts[2]}"
                assert qual in spec.classes or parts[2] in spec.modules[module], f"{path.name}:{line}: {name}"
                if len(parts) >= 4 and qual in spec.classes:
                    assert spec.lookup(qual, parts[3]), f"{path.name}:{line}: {name}"
            checked += 1
        for cls, attr, line in typed:
            assert spec.lookup(cls, attr), f"{path.name}:{line}: {cls} has no {attr!r} in Live-stubs"
            checked += 1
    assert checked > 40
    import importlib.util

    live_standin.install(live_standin.build_live(spec, LIVE_COLORS))
    loader = importlib.util.spec_from_file_location("motif_api_tables", SCRIPT_SRC / "api.py")
    assert loader is not None and loader.loader is not None
    api = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(api)
    api_tables = vars(api)
    for cls, rw, ro in (("Live.Song.Song", "SONG_RW", "SONG_R"), ("Live.Track.Track", "TRACK_RW", "TRACK_R"),
                        ("Live.Clip.Clip", "CLIP_RW", "CLIP_R"), ("Live.Scene.Scene", "SCENE_RW", "SCENE_R")):
        for prop in api_tables[rw]:
            found = spec.lookup(cls, prop)
            assert found and found[0] == "property" and found[1].properties[prop][1], f"{cls}.{prop} is not writable"
        for prop in api_tables[ro]:
            assert spec.lookup(cls, prop) and spec.lookup(cls, prop)[0] == "property", f"{cls}.{prop}"


@pytest.mark.skipif(not SHARED_TOOL.exists(), reason="the shared host_api_check tool is not beside this checkout")
def test_shared_host_api_check(script_dir: Path) -> None:
    import sysconfig

    r = subprocess.run([sys.executable, str(SHARED_TOOL), "live", str(ROOT / "plugins" / "ableton"), "--stub-root",
                        sysconfig.get_paths()["purelib"], "--also-defined", str(script_dir / "vendor"), "--no-cache"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and " 0 errors" in r.stdout + r.stderr, r.stdout + r.stderr


# ------------------------------------------------------------------ the build


def test_build_bundles_python_osc_privately(script_dir: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata
    import json

    assert script_dir.name == "Motif" and (script_dir / "__init__.py").is_file()
    vendored = json.loads((script_dir / "vendor" / "VENDORED.json").read_text())
    assert vendored["version"] == importlib.metadata.version("python-osc")
    for f in (script_dir / "vendor" / "pythonosc").rglob("*.py"):
        assert "from pythonosc" not in f.read_text() and "import pythonosc" not in f.read_text(), f
    assert "public domain" in (script_dir / "vendor" / "pythonosc" / "LICENSE").read_text()
    bad = tmp_path / "src"
    shutil.copytree(SCRIPT_SRC, bad)
    (bad / "engine.py").write_text("import grpc\n")
    monkeypatch.setattr(build_ableton_script, "SOURCE", bad)
    with pytest.raises(SystemExit, match="grpcio"):
        build_ableton_script.build(tmp_path / "out")


def test_built_script_runs_without_site_packages(script_dir: Path) -> None:
    """Live's Python has no pip: the built folder must run on the standard library and its vendor/."""
    from live_stubspec import stub_root

    child = subprocess.Popen([sys.executable, "-S", str(TESTING / "live_harness.py"), str(script_dir),
                              str(stub_root())],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={"PYTHONPATH": str(TESTING), "PATH": os.environ.get("PATH", "")})
    assert child.stdout is not None and child.stdin is not None
    port = int(child.stdout.readline().split()[1])
    with OscLink(("127.0.0.1", port), reply_port=0) as lk:
        info = connect(lk)
        lk.send("/live/song/create_midi_track", -1)
        lk.send("/live/track/set/name", 4, "made over OSC")
        assert lk.query("/live/track/get/name", 4, match=(4,)) == (4, "made over OSC")
    out, err = child.communicate("", timeout=30)
    assert child.returncode == 0, err
    assert info.motif and info.live_version == "12.3" and "undo" in info.capabilities
    assert "made over OSC" in out
    modules = set(out.split("modules ", 1)[1].split())
    assert not modules & {"grpc", "google", "pythonosc", "motif_client", "engine_server", "mido"}, modules


# ------------------------------------------------------------------ reading the pack


def test_score_and_colours(pack: Path) -> None:
    import numpy as np

    from engine_server.live.score import read_score
    from engine_server.oklab import hex_to_oklab, srgb8_to_oklab

    score = read_score(pack / "music" / "score.mid")
    parts = midi_notes(pack / "music" / "score.mid")
    assert [p.label for p in score.parts] == [name for name, _ in parts] and len(parts) == 5
    for part, (_, notes) in zip(score.parts, parts, strict=True):
        assert [(n.pitch, n.start, n.duration, float(n.velocity)) for n in part.notes] == notes
    assert score.length_beats == 64.0 and (score.numerator, score.denominator) == (4, 4)
    assert score.tempo_bpm == pytest.approx(manifest_of(pack)["latent"]["tempo_bpm"], abs=0.001)
    # the bridge's pure-Python OKLab picks what the engine's numpy OKLab picks
    live_lab = srgb8_to_oklab(np.array([[(c >> 16) & 255, (c >> 8) & 255, c & 255] for c in LIVE_COLORS]))
    rng = np.random.default_rng(7)
    colours = [s["color"] for s in manifest_of(pack)["latent"]["palette"]]
    colours += ["#" + "".join(f"{int(v):02x}" for v in rng.integers(0, 256, 3)) for _ in range(200)]
    for c in colours:
        assert nearest_index(c) == int(np.argmin(((live_lab - hex_to_oklab(c)) ** 2).sum(axis=1))), c


def test_plan_speaks_each_listener_s_language(pack: Path, spec: Any, live: LiveHarness) -> None:
    """Every address a push sends is one the Motif script answers; with stock AbletonOSC only documented
    `/live/...` addresses (the fake knows no other); a Live older than 12.0.5 gets no audio or arrangement."""
    from engine_server.live.plan import Layout, build_plan
    from engine_server.live.score import read_score

    manifest = manifest_of(pack)
    score = read_score(pack / "music" / "score.mid")
    layout = Layout(["1-MIDI", "2-MIDI"], [""] * 8)
    handled = set(live.script.api.handlers)
    for mode in ("session", "arrangement"):
        plan = build_plan(pack, manifest, score, layout, motif=True, mode=mode)
        assert {a for a, _ in plan.commands} <= handled
        stock = build_plan(pack, manifest, score, layout, motif=False, mode=mode)
        assert all(a.startswith("/live/") for a, _ in stock.commands) and stock.mode == "session"
        old = build_plan(pack, manifest, score, layout, motif=True, mode=mode, capabilities=frozenset({"session"}))
        assert all(a.startswith("/live/") for a, _ in old.commands) and old.mode == "session"
        assert any("12.0.5" in w for w in old.warnings)
    with FakeAbletonOSC() as fake:
        assert {a for a, _ in stock.commands} <= fake.addresses


# ------------------------------------------------------------------ the Motif script end to end


def test_push_session_and_again(live: LiveHarness, link: OscLink, pack: Path) -> None:
    with live.paused() as song:
        before_undo = live_standin.undo_steps(song)
        first_tracks = len(song.tracks)
    result = push_path(link, pack)
    assert result.info.motif and result.seconds < 2.0
    with live.paused() as song:
        check_pack_in_set(song, pack, session=True)
        assert live_standin.undo_steps(song) == before_undo + 1  # one push, one undo step
        assert len(song.tracks) == first_tracks + 11
        first = set_snapshot(song)
    again = push_path(link, pack)
    assert len(again.plan.replaced) == 11
    with live.paused() as song:
        check_pack_in_set(song, pack, session=True)
        assert set_snapshot(song) == first  # replaced, never duplicated
        assert live_standin.undo_steps(song) == before_undo + 2
    assert any("is in the set" in m for m in live.messages)


def test_push_arrangement(live: LiveHarness, link: OscLink, pack: Path) -> None:
    push_path(link, pack, mode="arrangement", at=16.0)
    with live.paused() as song:
        check_pack_in_set(song, pack, session=False, at=16.0)
        first = set_snapshot(song)
        scenes = len(song.scenes)
    push_path(link, pack, mode="arrangement", at=16.0)
    with live.paused() as song:
        assert set_snapshot(song) == first and len(song.scenes) == scenes == 8  # no scene in arrangement mode


def test_failed_push_removes_what_it_made(live: LiveHarness, link: OscLink, pack: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(pack, broken)
    stem = broken / "music" / "stems" / "lead.wav"
    stem.write_bytes(b"\0" * stem.stat().st_size)  # same size (the pack reads as complete), not audio
    with live.paused() as song:
        before = set_snapshot(song)
    with pytest.raises(FailedPrecondition, match="lead.wav is not a valid audio file") as caught:
        push_path(link, broken)
    assert "Nothing of it is left" in caught.value.message
    with live.paused() as song:
        assert set_snapshot(song) == before  # tracks, scenes, tempo and meter as they were
    assert any("taken back" in m for m in live.messages)
    # an earlier push of the same pack survives a failed re-push untouched
    push_path(link, pack)
    with live.paused() as song:
        good = set_snapshot(song)
    with pytest.raises(FailedPrecondition):
        push_path(link, broken)
    with live.paused() as song:
        assert set_snapshot(song) == good


def test_cli_push(live: LiveHarness, pack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from engine_server.cli import main

    rc = main(["live", "push", str(pack / "pack.json"), "--osc", f"127.0.0.1:{live.port}", "--reply-port", "0"])
    out = capsys.readouterr().out
    assert rc == 0 and "5 MIDI tracks" in out and "6 audio tracks" in out
    with live.paused() as song:
        check_pack_in_set(song, pack, session=True)


# ------------------------------------------------------------------ faults


def test_live_not_listening_says_how_to_enable(capsys: pytest.CaptureFixture[str], pack: Path) -> None:
    import socket

    from engine_server.cli import main

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]
    s.close()
    t = time.monotonic()
    with OscLink(("127.0.0.1", dead), reply_port=0) as lk, pytest.raises(Unavailable, match="Control Surface"):
        connect(lk)
    assert time.monotonic() - t < 1.5
    rc = main(["live", "push", str(pack), "--osc", f"127.0.0.1:{dead}", "--reply-port", "0"])
    err = capsys.readouterr().err
    assert rc == 2 and "not answering" in err and "Remote Scripts" in err and "Link, Tempo & MIDI" in err


def test_stock_abletonosc(pack: Path) -> None:
    said: list[str] = []
    with OscLink(("127.0.0.1", 9), reply_port=0) as lk, FakeAbletonOSC(reply_port=lk.port) as fake:
        lk.live = ("127.0.0.1", fake.port)
        info = connect(lk)
        assert not info.motif and info.live_version == "12.3"
        result = push_path(lk, pack, mode="arrangement", say=said.append)
        assert result.plan.mode == "session"  # stock AbletonOSC has no arrangement clips
        assert any("Stems and the mix were not pushed" in s and "Motif Remote Script" in s for s in said)
        assert any("arrangement" in s for s in said)
        tag = f" [{manifest_of(pack)['pack_id'][:8]}]"
        parts = midi_notes(pack / "music" / "score.mid")
        ours = [t for t in fake.tracks if t["name"].endswith(tag)]
        assert [t["name"] for t in ours] == [n + tag for n, _ in parts]  # MIDI only
        scene = fake.scenes.index(f"Motif lofi rain{tag}")
        for t, (_, notes) in zip(ours, parts, strict=True):
            clip = t["slots"][scene]
            assert [(p, s, d, v) for p, s, d, v, _ in sorted(clip["notes"], key=lambda n: (n[1], n[0]))] == notes
        assert fake.tempo == pytest.approx(manifest_of(pack)["latent"]["tempo_bpm"], abs=0.01)
        before = [dict(t, slots=list(t["slots"])) for t in fake.tracks]
        push_path(lk, pack)  # the same push again: replaced, not duplicated
        assert [t["name"] for t in fake.tracks] == [t["name"] for t in before]
        # /live/error replies are shown, and what the failed push made is removed
        fake.fail_on["/live/clip/add/notes"] = "note pitch 200 is out of range"
        names = [t["name"] for t in fake.tracks]
        with pytest.raises(FailedPrecondition, match="Error handling OSC message: note pitch 200") as caught:
            push_path(lk, pack)
        assert "were removed" in caught.value.message
        assert [t["name"] for t in fake.tracks] == names and len(fake.scenes) == 9
        # stock AbletonOSC knows no /motif/ address
        lk.send("/motif/clip_slot/create_audio_clip", 0, 0, "/x.wav")
        with pytest.raises(Unavailable, match="^Unknown OSC address: /motif/clip_slot/create_audio_clip$"):
            lk.query("/live/song/get/num_tracks")  # a query reports the /live/error that came first


# ------------------------------------------------------------------ generating from Live


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real engine on loopback (its worker not warmed up: the music decoder is all these tests use)."""
    from engine_server.server import Engine

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MOTIF_WORKER_WARM_UP", "0")
        eng = Engine("127.0.0.1:0", store_root=tmp_path_factory.mktemp("ableton-engine")).start()
        try:
            yield eng
        finally:
            eng.stop()


def _wait(cond: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_serve_generates_from_clip_names(live: LiveHarness, engine: Any, pack: Path, tmp_path: Path) -> None:
    from engine_server.live.serve import LiveServer
    from motif_client import MotifClient
    from motif_client.runner import GenerateSpec, JobRunner

    with live.paused() as song:
        midi = song.tracks[0].clip_slots[0].create_clip(4.0)
        midi.name = "motif: lofi rain"
        hum = song.tracks[2].clip_slots[0].create_audio_clip(str((pack / "music" / "stems" / "lead.wav").resolve()))
        hum.name = "Motif: a hummed idea"
        song.scenes[3].name = "motif:"  # no prompt: Live is told what to type
        tracks_before = len(song.tracks)

    def factory(address: str, token: str | None, timeout: float) -> MotifClient:
        return MotifClient(address, token=token, timeout_s=timeout, client_name="live")

    runner = JobRunner(factory, engine.address, cache_dir=tmp_path / "packs", client_name="live")
    said: list[str] = []
    with OscLink(("127.0.0.1", live.port), reply_port=0) as lk:
        server = LiveServer(lk, runner, engine_address=engine.address,
                            spec=GenerateSpec(None, 0, {}, ["music"], "draft", {"music": {"bars": 4}}), say=said.append)
        stop = threading.Event()
        thread = threading.Thread(target=server.run, args=(stop,), daemon=True)
        thread.start()
        try:
            _wait(lambda: midi.name.startswith("motif ✓") and hum.name.startswith("motif ✓"), 90, "both triggers")
        finally:
            stop.set()
            thread.join(10)
    assert midi.name == "motif ✓ lofi rain" and hum.name == "motif ✓ a hummed idea"
    by_prompt = {r.manifest["request"]["prompt"]: r for r in server.pushed}
    pushed = by_prompt["lofi rain"]
    with live.paused() as song:
        ours = [t for t in song.tracks if t.name.endswith(pushed.plan.tag)]
        assert len(ours) == 11
        assert len(song.tracks) == tracks_before + sum(len(r.plan.track_names) for r in server.pushed)
        assert song.scenes[pushed.plan.scene_index].name == pushed.plan.title
    # the audio clip went to the engine as a hum (GenerateRequest.hum): its pack records the transcription
    hummed = by_prompt["a hummed idea"].manifest["request"]["hum"]
    assert hummed["file"] == "lead.wav" and len(hummed["transcription"]["notes"]) >= 3
    assert any("%" in m for m in live.messages)  # progress in Live's status bar
    assert any("type a prompt" in m for m in live.messages)
    with MotifClient(engine.address) as c:
        jobs = [j for j in c.list_jobs() if j["prompt"] == "lofi rain"]
        assert jobs and all(j["client"] == "live" for j in jobs)


def test_cli_generate(live: LiveHarness, engine: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from engine_server.cli import main

    rc = main(["live", "generate", "rain on a tin roof", "--bars", "4", "--server", engine.address, "--osc",
               f"127.0.0.1:{live.port}", "--reply-port", "0", "--out", str(tmp_path / "packs")])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "pushed Motif rain on a tin roof" in captured.out
    assert "%" in captured.err  # progress lines
    files = [Path(p) for p in captured.out.split() if p.endswith(".wav")]
    with live.paused() as song:
        paths = [s.clip.file_path for t in song.tracks for s in t.clip_slots if s.has_clip and s.clip.is_audio_clip]
    assert paths and all(Path(p).is_file() and str(tmp_path / "packs") in p for p in paths), (paths, files)


def test_control_surface_shell(script_dir: Path, spec: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """surface.py against a minimal stand-in for Live's `ableton.v2.control_surface` framework (not in the
    stubs; only a real Live checks it): it listens, ticks through schedule_message, says when the port is
    taken, and closes its socket on disconnect."""
    import socket
    import types

    from live_harness import load_script

    class ControlSurface:
        def __init__(self, c_instance: Any) -> None:
            self.scheduled: list[tuple[int, Any]] = []
            self.shown: list[str] = []
            self.disconnected = False

        def schedule_message(self, delay: int, callback: Any) -> None:
            self.scheduled.append((delay, callback))

        def show_message(self, text: str) -> None:
            self.shown.append(text)

        def log_message(self, *args: Any) -> None:
            pass

        def disconnect(self) -> None:
            self.disconnected = True

    framework = types.ModuleType("ableton.v2.control_surface")
    framework.ControlSurface = ControlSurface  # type: ignore[attr-defined]
    for name, mod in (("ableton", types.ModuleType("ableton")), ("ableton.v2", types.ModuleType("ableton.v2")),
                      ("ableton.v2.control_surface", framework)):
        monkeypatch.setitem(sys.modules, name, mod)
    live_standin.install(live_standin.build_live(spec, LIVE_COLORS))
    monkeypatch.setenv("MOTIF_LIVE_PORT", "0")
    package = sys.modules[load_script(script_dir).__package__]
    surface = package.create_instance(object())
    assert surface.shown[0].startswith("Motif: listening for OSC on 127.0.0.1:")
    port = surface._motif.port
    with OscLink(("127.0.0.1", port), reply_port=0) as lk:
        lk.send("/motif/hello", "test")
        lk.send("/live/test")
        for _ in range(3):
            delay, tick = surface.scheduled[-1]
            assert delay == 1
            tick()
        assert lk.wait_for(lambda m: m == ("/live/test", ("ok",)), 1.0) is not None
    assert len(surface.scheduled) == 4  # each tick schedules the next
    surface.disconnect()
    assert surface.disconnected and surface._motif.sock is None
    taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    taken.bind(("127.0.0.1", 0))
    try:
        monkeypatch.setenv("MOTIF_LIVE_PORT", str(taken.getsockname()[1]))
        second = sys.modules[load_script(script_dir).__package__].create_instance(object())
        assert "cannot listen" in second.shown[0] and "AbletonOSC" in second.shown[0]
        second.scheduled[-1][1]()  # ticking without a socket is harmless
    finally:
        taken.close()


def test_feed_and_pack_ids(live: LiveHarness, engine: Any, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    """A pack another host makes reaches Live through the feed (`serve --push-feed`); `motif live packs`
    lists it with its push command, and `motif live push <pack id>` fetches it from the engine."""
    from engine_server.cli import main
    from engine_server.live.serve import LiveServer
    from motif_client import MotifClient
    from motif_client.runner import GenerateSpec, JobRunner

    def factory(address: str, token: str | None, timeout: float) -> MotifClient:
        return MotifClient(address, token=token, timeout_s=timeout, client_name="live")

    runner = JobRunner(factory, engine.address, cache_dir=tmp_path / "feed", client_name="live")
    with OscLink(("127.0.0.1", live.port), reply_port=0) as lk:
        server = LiveServer(lk, runner, engine_address=engine.address, spec=GenerateSpec(None, decoders=["music"]),
                            push_feed=True, say=lambda text: None)
        stop = threading.Event()
        thread = threading.Thread(target=server.run, args=(stop,), daemon=True)
        thread.start()
        try:
            _wait(lambda: runner.feeding, 10, "the feed")
            time.sleep(0.3)
            with MotifClient(engine.address, client_name="blender") as other:
                done = next(e for e in other.generate("harbour fog", decoders=["music"],
                                                      options={"music": {"bars": 2}}) if e.kind == "done")
            pack_id = done.manifest["pack_id"]
            _wait(lambda: any(r.manifest.get("pack_id") == pack_id for r in server.pushed), 30, "the feed's pack")
        finally:
            stop.set()
            thread.join(10)
    plan = next(r.plan for r in server.pushed if r.manifest.get("pack_id") == pack_id)
    stems = [a for a in done.manifest["assets"] if a["role"] == "stem"]
    n = len(plan.track_names)
    assert plan.midi_tracks == len(stems) and n == 2 * len(stems) + 1  # a MIDI track and a stem per part, the mix
    with live.paused() as song:
        assert sum(t.name.endswith(f" [{pack_id[:8]}]") for t in song.tracks) == n
    assert main(["live", "packs", "--server", engine.address]) == 0
    assert f"motif live push {pack_id}" in capsys.readouterr().out
    rc = main(["live", "push", pack_id, "--server", engine.address, "--osc", f"127.0.0.1:{live.port}",
               "--reply-port", "0", "--out", str(tmp_path / "by-id")])
    assert rc == 0 and f"replacing its {n} old tracks" in capsys.readouterr().out
    with live.paused() as song:
        assert sum(t.name.endswith(f" [{pack_id[:8]}]") for t in song.tracks) == n
        audio = [s.clip.file_path for t in song.tracks if t.name.endswith(pack_id[:8] + "]")
                 for s in t.clip_slots if s.has_clip and s.clip.is_audio_clip]
        assert audio and all(str(tmp_path / "by-id") in p for p in audio)
