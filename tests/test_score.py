"""Score to picture (`motif score`): edits made here with PyAV, read back, scored, and checked with real readers.

Cuts are known because the tests made them; hits are looked for in the rendered mix with librosa (not
read back from the pack's own list); score.otio is read with OpenTimelineIO; the MIDI with mido; loudness
with pyloudnorm. Rendered packs are shared per module (each costs ~2 s).
"""

from __future__ import annotations

import io
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import mido
import numpy as np
import pytest
import soundfile as sf

from engine_server import pipeline
from engine_server.cli import main as motif_main
from engine_server.errors import InvalidArgument
from engine_server.readers.edit import read_edit
from engine_server.store import PackStore
from tests.edit_media import AUDIO_RATE, ShotSpec, cut_frames, make_edit, speech_like

RED, ORANGE, YELLOW, GREEN, BLUE, NAVY, TEAL, WHITE = ((210, 40, 35), (235, 130, 30), (230, 210, 60),
                                                        (40, 170, 70), (40, 70, 200), (20, 30, 90), (30, 150, 150),
                                                        (225, 225, 220))
# Three edits with hard cuts at known frames, one per rate (shots of different colour and motion).
EDITS: dict[str, tuple[Fraction, list[ShotSpec]]] = {
    "e24": (Fraction(24), [ShotSpec(60, BLUE, 0.1), ShotSpec(43, RED, 0.8), ShotSpec(70, GREEN, 0.3),
                           ShotSpec(29, YELLOW, 0.9), ShotSpec(86, NAVY, 0.05)]),
    "e25": (Fraction(25), [ShotSpec(50, ORANGE, 0.5), ShotSpec(75, TEAL, 0.1), ShotSpec(41, RED, 0.9)]),
    "e2997": (Fraction(30000, 1001), [ShotSpec(47, GREEN, 0.2), ShotSpec(90, RED, 0.7), ShotSpec(33, WHITE, 0.4),
                                      ShotSpec(61, BLUE, 0.1), ShotSpec(80, ORANGE, 0.6)]),
}


def _music_notes(midi: mido.MidiFile) -> int:
    return sum(1 for t in midi.tracks[1:] if not t.name.startswith("Hits")
               for m in t if m.type == "note_on" and m.velocity > 0)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("edits")
    out = {name: make_edit(root / f"{name}.mp4", rate, shots, timecode="01:00:00:00" if name == "e24" else None)
           for name, (rate, shots) in EDITS.items()}
    calm = [ShotSpec(168, BLUE, 0.03), ShotSpec(156, NAVY, 0.05), ShotSpec(156, TEAL, 0.02)]
    action_colours = [RED, ORANGE, YELLOW, RED, ORANGE, WHITE]
    action = [ShotSpec(30 + 5 * (i % 3), action_colours[i % 6], 0.95) for i in range(14)]
    out["calm"] = make_edit(root / "calm.mp4", Fraction(24), calm)
    out["action"] = make_edit(root / "action.mp4", Fraction(24), action)
    speech_shots = [ShotSpec(120, NAVY, 0.1), ShotSpec(144, TEAL, 0.1), ShotSpec(120, BLUE, 0.1)]
    n = int(sum(s.frames for s in speech_shots) / 24 * AUDIO_RATE)
    voice = np.zeros(n, dtype=np.float32)
    words = speech_like(5.0, seed=4)
    voice[int(5.5 * AUDIO_RATE) : int(5.5 * AUDIO_RATE) + len(words)] = words
    out["speech"] = make_edit(root / "speech.mp4", Fraction(24), speech_shots, audio=voice)
    out["silent"] = make_edit(root / "silent.mp4", Fraction(24), speech_shots, audio=np.zeros(n, np.float32))
    return out


@pytest.fixture(scope="module")
def scored(media: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    """The rendered packs, by edit name: (pack folder, manifest)."""
    store = PackStore(tmp_path_factory.mktemp("score-store"))
    out = {}
    for name in ("e24", "e2997", "calm", "action", "speech", "silent"):
        job = pipeline.prepare(pipeline.JobSpec(seed=7, inputs={"edit": {"path": str(media[name])}}), None)
        manifest = pipeline.make_in_process(store, job)
        out[name] = (store.pack_dir(job.pack_id), manifest)
    return out


# ---------------------------------------------------------------------------------------------- reading


@pytest.mark.parametrize("name", list(EDITS))
def test_cuts_found_exactly_with_the_exact_rate(media: dict[str, Path], name: str) -> None:
    rate, shots = EDITS[name]
    reading = read_edit({"path": str(media[name])})
    edit = reading.edit
    assert edit.rate == rate and isinstance(edit.rate, Fraction)  # 30000/1001, not 29.97
    assert edit.cuts == cut_frames(shots)
    assert edit.frames == sum(s.frames for s in shots)
    # per-shot motion and colour: the fast shots move more, and the colours read back as their hue
    motions = [float(s.motion or 0.0) for s in edit.shots]
    order = np.argsort([s.motion for s in shots])
    assert [motions[i] for i in order] == sorted(motions)
    for spec, shot in zip(shots, edit.shots, strict=True):
        r, g, b = spec.colour
        if b > r + 60:
            assert shot.warmth is not None and shot.warmth < 0, (spec, shot)  # blue reads cool
        if r > b + 120 and g < 150:
            assert shot.warmth is not None and shot.warmth > 0.3, (spec, shot)  # red reads warm
    if name == "e24":
        assert edit.start_frame == 86400 and edit.timecode(0) == "01:00:00:00"
        assert edit.timecode(60) == "01:00:02:12"


def test_timelines_read_through_otio_adapters(tmp_path: Path) -> None:
    import opentimelineio as otio

    rate = 24000 / 1001
    tl = otio.schema.Timeline(name="reel", global_start_time=otio.opentime.RationalTime(86400, rate))
    video = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    lengths = [100, 52, 130, 75]
    for i, n in enumerate(lengths):
        ref = otio.schema.ExternalReference(target_url=f"/media/shot{i}.mov", available_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(5000, rate)))
        clip = otio.schema.Clip(name=f"chase_{i}", media_reference=ref, source_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(1000, rate), otio.opentime.RationalTime(n, rate)))
        video.append(clip)
    video[1].markers.append(otio.schema.Marker(name="door slams", marked_range=otio.opentime.TimeRange(
        otio.opentime.RationalTime(1010, rate), otio.opentime.RationalTime(1, rate))))
    tl.tracks.append(video)
    audio = otio.schema.Track(name="Dialogue", kind=otio.schema.TrackKind.Audio)
    audio.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(duration=otio.opentime.RationalTime(120, rate))))
    audio.append(otio.schema.Clip(name="line 1", source_range=otio.opentime.TimeRange(
        otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(96, rate))))
    tl.tracks.append(audio)
    cuts = [100, 152, 282]
    texts = {suffix: otio.adapters.write_to_string(tl, adapter) for suffix, adapter in ((".otio", "otio_json"),
                                                                                           (".edl", "cmx_3600"))}
    texts[".fcpxml"] = _fcpxml_2398(lengths)  # as Final Cut Pro writes it (the OTIO writer fails at 23.976)
    for suffix, text in texts.items():
        edit = read_edit({"file_name": f"reel{suffix}", "data": text.encode(),
                          "rate": "24000/1001" if suffix == ".edl" else None}).edit
        assert edit.rate == Fraction(24000, 1001), suffix
        assert edit.cuts == cuts, suffix
        assert edit.frames == sum(lengths), suffix
        if suffix == ".fcpxml":
            assert edit.start_frame == 86400 and [(m.frame, m.name) for m in edit.markers] == [(110, "door slams")]
        if suffix == ".otio":
            assert edit.start_frame == 86400 and edit.timecode(0) == "01:00:00:00"  # 23.976 counts 24 a second
            assert [s.name for s in edit.shots] == ["chase_0", "chase_1", "chase_2", "chase_3"]
            assert [(m.frame, m.name) for m in edit.markers] == [(110, "door slams")]
            assert len(edit.dialogue) == 1
            assert edit.dialogue[0] == pytest.approx((120 * 1001 / 24000, 216 * 1001 / 24000), abs=1e-3)
            assert not edit.picture_measured


def _fcpxml_2398(lengths: list[int]) -> str:
    """An FCPXML 1.8 project at 23.976 fps starting at 01:00:00:00, one asset-clip per shot, a marker on shot 2."""
    assets = "".join(f'<asset id="a{i}" name="shot{i}" src="file:///media/shot{i}.mov" start="0s" '
                     f'duration="{5000 * 1001}/24000s" hasVideo="1" format="r1"/>' for i in range(len(lengths)))
    off, clips = 86400 * 1001, ""
    for i, n in enumerate(lengths):
        marker = '<marker start="10010/24000s" duration="1001/24000s" value="door slams"/>' if i == 1 else ""
        clips += (f'<asset-clip name="chase_{i}" ref="a{i}" offset="{off}/24000s" duration="{n * 1001}/24000s" '
                  f'start="0s" format="r1" tcFormat="NDF">{marker}</asset-clip>')
        off += n * 1001
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n<fcpxml version="1.8"><resources>'
            '<format id="r1" name="FFVideoFormat1080p2398" frameDuration="1001/24000s" width="1920" height="1080"/>'
            f'{assets}</resources><library><event name="e"><project name="reel"><sequence format="r1" '
            f'tcStart="{86400 * 1001}/24000s" tcFormat="NDF" duration="{sum(lengths) * 1001}/24000s"><spine>{clips}'
            '</spine></sequence></project></event></library></fcpxml>')


def test_fcpxml_at_an_integer_rate_goes_through_the_otio_adapter() -> None:
    import opentimelineio as otio

    tl = otio.schema.Timeline(name="reel25", global_start_time=otio.opentime.RationalTime(0, 25))
    video = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    for i, n in enumerate((50, 75, 40)):
        ref = otio.schema.ExternalReference(target_url=f"/media/s{i}.mov", available_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(0, 25), otio.opentime.RationalTime(1000, 25)))
        video.append(otio.schema.Clip(name=f"s{i}", media_reference=ref, source_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(0, 25), otio.opentime.RationalTime(n, 25))))
    tl.tracks.append(video)
    text = otio.adapters.write_to_string(tl, "fcpx_xml")
    edit = read_edit({"file_name": "reel25.fcpxml", "data": text.encode()}).edit
    assert edit.rate == 25 and edit.cuts == [50, 125] and edit.frames == 165
    assert "adapter" in edit.notes[0]


# ---------------------------------------------------------------------------------------------- the cue


@pytest.mark.parametrize("name", ["e24", "e2997"])
def test_mix_is_as_long_as_the_edit_and_hits_every_cut_in_the_audio(scored: dict, name: str) -> None:
    import librosa

    rate, shots = EDITS[name]
    folder, manifest = scored[name]
    frames = sum(s.frames for s in shots)
    mix, sr = sf.read(folder / "music/mix.wav", dtype="float32")
    assert sr == 48000 and len(mix) == round(Fraction(frames) / rate * 48000)  # to the sample
    for stem in (folder / "music/stems").iterdir():
        assert sf.info(str(stem)).frames == len(mix)
    frame_s = float(1 / rate)
    cuts_s = [float(Fraction(c) / rate) for c in cut_frames(shots)]  # from the test's own edit, not the pack
    hop = 128
    y = mix.mean(axis=1)
    env = librosa.onset.onset_strength(y=y, sr=sr, hop_length=hop)
    times = librosa.frames_to_time(np.arange(len(env)), sr=sr, hop_length=hop)
    onsets = librosa.onset.onset_detect(onset_envelope=env, sr=sr, hop_length=hop, units="time")
    for t in cuts_s:
        assert np.min(np.abs(onsets - t)) <= frame_s, (t, onsets)
        near = env[np.abs(times - t) <= frame_s]
        around = env[np.abs(times - t) <= 1.0]
        assert near.max() >= 3 * np.median(around), t  # perceptible: well above the music around it
    # pack.json lists every hit: kind, seconds, frame, the cut it serves
    hits = manifest["request"]["edit"]["hits"]
    assert [h["frame"] for h in hits] == cut_frames(shots)
    assert all(h["kind"] in ("accent", "swell", "drop") and h["cut"]["frame"] == h["frame"] for h in hits)
    assert [h["time_s"] for h in hits] == pytest.approx(cuts_s, abs=1e-6)


def test_midi_has_the_tempo_map_and_a_marker_per_hit(scored: dict) -> None:
    folder, manifest = scored["e24"]
    midi = mido.MidiFile(folder / "music/score.mid")
    tempos = [m for m in midi.tracks[0] if m.type == "set_tempo"]
    markers = [m for m in midi.tracks[0] if m.type == "cue_marker"]
    edit = manifest["request"]["edit"]
    assert len(markers) == len(edit["hits"])
    assert len(tempos) == len(edit["tempo_map"]) >= 1
    # major cuts land on bar lines: the tempo map puts a downbeat exactly there
    for a in edit["tempo_alignment"]:
        if a["on"] == "downbeat":
            assert a["beat"] == pytest.approx(round(a["beat"]), abs=1e-6) and round(a["beat"]) % 4 == 0
    assert any(a["on"] == "downbeat" for a in edit["tempo_alignment"])
    assert edit["curve"] and set(edit["curve"][0]) >= {"valence", "arousal", "tension", "brightness", "warmth",
                                                       "from", "measures"}


@pytest.mark.parametrize("name", ["e24", "e2997"])
def test_score_otio_has_the_cue_stems_and_a_marker_at_every_hit(scored: dict, name: str) -> None:
    import opentimelineio as otio

    rate, shots = EDITS[name]
    folder, _ = scored[name]
    tl = otio.adapters.read_from_file(str(folder / "score.otio"))
    audio = [t for t in tl.tracks if t.kind == otio.schema.TrackKind.Audio]
    stems = sorted(p.name for p in (folder / "music/stems").iterdir())
    assert len(audio) == 1 + len(stems)
    urls = [t[0].media_reference.target_url for t in audio]
    assert urls[0] == "music/mix.wav" and all((folder / u).is_file() for u in urls)
    frames = sum(s.frames for s in shots)
    assert all(t[0].source_range.duration.to_frames() == frames for t in audio)
    assert tl.global_start_time.rate == pytest.approx(float(rate))
    if name == "e24":
        assert tl.global_start_time.to_frames() == 86400
    marks = sorted(m.marked_range.start_time.to_frames() for m in tl.tracks.markers)
    assert marks == cut_frames(shots)
    assert {m.name for m in tl.tracks.markers} <= {"accent", "swell", "drop"}


def test_calm_blue_and_fast_red_edits_score_differently(scored: dict) -> None:
    import pyloudnorm

    figures = {}
    for name in ("calm", "action"):
        folder, manifest = scored[name]
        mix, sr = sf.read(folder / "music/mix.wav")
        midi = mido.MidiFile(folder / "music/score.mid")
        seconds = len(mix) / sr
        figures[name] = {
            "tempo": manifest["latent"]["tempo_bpm"],
            "density": _music_notes(midi) / seconds,
            "lufs": pyloudnorm.Meter(sr).integrated_loudness(mix),
            "arousal": manifest["latent"]["arousal"],
            "warmth": manifest["latent"]["warmth"],
        }
    calm, action = figures["calm"], figures["action"]
    assert action["tempo"] >= calm["tempo"] + 25, figures
    assert action["density"] >= 1.5 * calm["density"], figures
    assert action["lufs"] >= calm["lufs"] + 2.5, figures
    assert action["arousal"] > calm["arousal"] + 0.3 and action["warmth"] > calm["warmth"] + 0.5, figures


def test_dialogue_leaves_the_speech_band_quieter(scored: dict) -> None:
    from scipy import signal

    folder, manifest = scored["speech"]
    spans = manifest["request"]["edit"]["dialogue"]
    assert len(spans) == 1 and spans[0]["start_s"] == pytest.approx(5.5, abs=0.4)
    assert spans[0]["end_s"] == pytest.approx(10.5, abs=0.5)
    assert scored["silent"][1]["request"]["edit"]["dialogue"] == []  # a silent soundtrack is not dialogue

    def band_share(folder: Path) -> float:
        """Speech-band (300-3400 Hz) energy of the mix under the words, relative to the whole mix."""
        mix, sr = sf.read(folder / "music/mix.wav")
        sos = signal.butter(4, [300, 3400], btype="band", fs=sr, output="sos")
        band = signal.sosfilt(sos, mix.mean(axis=1)) ** 2
        under = band[int(6.0 * sr) : int(10.0 * sr)].mean()
        return float(under / band.mean())

    with_words, without = band_share(folder), band_share(scored["silent"][0])
    assert 10 * np.log10(with_words / without) <= -4.0, (with_words, without)


# ---------------------------------------------------------------------------------------------- bad input


def _vfr(path: Path) -> Path:
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 96)
        t = 0
        for i in range(150):
            frame = av.VideoFrame.from_ndarray(np.full((96, 160, 3), (i // 50) * 80, np.uint8), format="rgb24")
            frame.pts, frame.time_base = t, Fraction(1, 96)
            t += 2 if i % 2 else 6  # frames of 1/48 s and 1/16 s: an average of 24 fps, not constant
            for p in stream.encode(frame):
                out.mux(p)
        for p in stream.encode():
            out.mux(p)
    return path


def _three_hours(path: Path) -> Path:
    import opentimelineio as otio

    tl = otio.schema.Timeline(name="feature")
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    for i in range(2):
        track.append(otio.schema.Clip(name=f"reel{i}", source_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(0, 24), otio.opentime.RationalTime(24 * 5400, 24))))
    tl.tracks.append(track)
    path.write_text(otio.adapters.write_to_string(tl, "otio_json"))
    return path


@pytest.mark.parametrize("case, message", [
    ("no_cut", "has no cut"),
    ("one_frame", "1 frame long"),
    ("corrupt", "could not be read as a video"),
    ("truncated", "could not be read as a video"),
    ("vfr", "variable frame rate"),
    ("three_hours", "3 h 00 min 00 s"),
    ("text", "Cannot tell what kind of edit"),
])
def test_bad_edits_are_refused_before_any_work(media: dict[str, Path], tmp_path: Path, case: str,
                                               message: str, capsys: pytest.CaptureFixture[str]) -> None:
    good = media["e25"].read_bytes()
    paths = {
        "no_cut": lambda p: make_edit(p.with_suffix(".mp4"), Fraction(25), [ShotSpec(150, RED, 0.5)]),
        "one_frame": lambda p: make_edit(p.with_suffix(".mp4"), Fraction(25), [ShotSpec(1, RED)]),
        "corrupt": lambda p: (p.with_suffix(".mp4").write_bytes(np.random.default_rng(1).bytes(50_000)),
                              p.with_suffix(".mp4"))[1],
        "truncated": lambda p: (p.with_suffix(".mp4").write_bytes(good[: len(good) // 2]), p.with_suffix(".mp4"))[1],
        "vfr": lambda p: _vfr(p.with_suffix(".mp4")),
        "three_hours": lambda p: _three_hours(p.with_suffix(".otio")),
        "text": lambda p: (p.with_suffix(".txt").write_text("hello"), p.with_suffix(".txt"))[1],
    }
    path = paths[case](tmp_path / case)
    with pytest.raises(InvalidArgument, match=message):
        pipeline.prepare(pipeline.JobSpec(inputs={"edit": {"path": str(path)}}), None)
    store, out = tmp_path / "store", tmp_path / "out"
    assert motif_main(["score", str(path), "--store", str(store), "--out", str(out)]) == 2
    assert message.split()[0] in capsys.readouterr().err
    assert not out.exists() and not list((store / "packs").glob("*")) if store.exists() else True


def test_hits_option_major_none_and_frames(media: dict[str, Path]) -> None:
    cuts = cut_frames(EDITS["e24"][1])
    for hits, expect in (("none", []), ("50,133", [50, 133])):
        job = pipeline.prepare(pipeline.JobSpec(inputs={"edit": {"path": str(media["e24"]), "hits": hits}}), None)
        rec = job.request_record["edit"]
        assert [h["frame"] for h in rec["hits"]] == expect
        assert len(job.options["music"]["hit_points"]) == len(expect)
    job = pipeline.prepare(pipeline.JobSpec(inputs={"edit": {"path": str(media["e24"]), "hits": "major"}}), None)
    rec = job.request_record["edit"]
    assert [h["frame"] for h in rec["hits"]] == rec["major_cuts"] and set(rec["major_cuts"]) <= set(cuts)
    with pytest.raises(InvalidArgument, match="hits must be"):
        pipeline.prepare(pipeline.JobSpec(inputs={"edit": {"path": str(media["e24"]), "hits": "sometimes"}}), None)


# ---------------------------------------------------------------------------------------------- over gRPC


def test_score_over_grpc_streams_progress_and_delivers_score_otio(engine: Any, client: Any, media: dict[str, Path],
                                                                  tmp_path: Path) -> None:
    import opentimelineio as otio

    path = media["e25"]
    events = list(client.score(path.name, path.read_bytes(), seed=2))
    kinds = [e.kind for e in events]
    assert kinds[0] == "queued" and "progress" in kinds and kinds[-1] == "done"
    manifest = dict(events[-1].manifest)
    assert {a["path"] for a in manifest["assets"]} >= {"music/mix.wav", "score.otio", "music/score.mid"}
    pack_dir, manifest = client.download_pack(manifest["pack_id"], tmp_path)
    tl = otio.adapters.read_from_file(str(pack_dir / "score.otio"))
    assert sorted(m.marked_range.start_time.to_frames() for m in tl.tracks.markers) == cut_frames(EDITS["e25"][1])
    assert json.loads((pack_dir / "pack.json").read_text())["request"]["edit"]["fps"] == "25"
    with pytest.raises(Exception, match="has no cut"):
        one_shot = make_edit(tmp_path / "one.mp4", Fraction(25), [ShotSpec(120, RED)])
        list(client.score("one.mp4", one_shot.read_bytes()))
    assert io  # (io kept for readers who extend this file with in-memory edits)
