"""Music decoder benchmarks: compose and render speed against the fluidsynth command line, and the
objective music metrics of 20 prompts beside a shuffled-notes control.

    .venv/bin/python bench/music.py [--speed-only | --metrics-only] [--repeat 3]

Each figure is printed with the command that made it. Goals (issue 4): render real-time factor within
1.2x of `fluidsynth -F` on the same MIDI and SoundFont; a 60 s cue with stems in <= 5 s.
Wall time on a shared 2-core machine swings with the neighbours' load, so CPU seconds (all threads of
this process; the CLI's own CPU seconds) are printed beside it and the ratio is given for both.
"""

from __future__ import annotations

import argparse
import io
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mido
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine_server import config  # noqa: E402
from engine_server.analysis.music_metrics import NoteEvent, notes_from_midi, shuffled_control, summarize  # noqa: E402
from engine_server.decoders.base import DecodeContext, DecodeRequest  # noqa: E402
from engine_server.decoders.music import MusicDecoder  # noqa: E402
from engine_server.decoders.music.compose import compose  # noqa: E402
from engine_server.decoders.music.midi import midi_bytes, part_events  # noqa: E402
from engine_server.decoders.music.mix import SAMPLE_RATE  # noqa: E402
from engine_server.decoders.music.options import parse_options  # noqa: E402
from engine_server.decoders.music.plan import BEATS_PER_BAR  # noqa: E402
from engine_server.decoders.music.render import StemJob, render_stems, warm  # noqa: E402
from tests.latent_factory import make_latent  # noqa: E402

CMD = "python bench/music.py"
SPEED_LATENT = {"ensemble": "cinematic_hybrid", "key": "D", "mode": "minor", "tempo_bpm": 100.0, "arousal": 0.7,
                "tension": 0.6, "instruments": {"strings": 0.8, "brass": 0.6, "drums": 0.7, "percussion": 0.8,
                                                "synth_pad": 0.6}}
CASES = (("16-bar loop", {"bars": 16}), ("60 s cue", {"shape": "cue", "duration_s": 60.0,
                                                      "hit_points": [12.0, {"time": 30.0, "kind": "swell"},
                                                                     {"time": 45.5, "kind": "drop"}]}))
sys.path.insert(0, str(ROOT / "tests"))


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def speed(repeat: int) -> None:
    fluidsynth = shutil.which("fluidsynth")
    latent = make_latent(**SPEED_LATENT)
    sf2 = config.soundfont_path()
    warm(sf2)
    decoder = MusicDecoder()
    for label, options in CASES:
        opts = parse_options(options)
        comp = []
        for _ in range(max(repeat, 5)):
            t0 = time.perf_counter()
            score = compose(latent, 1, opts)
            comp.append(time.perf_counter() - t0)
        print(f"[{label}] compose (form, harmony, motif, parts): median {statistics.median(comp) * 1000:.1f} ms "
              f"of {len(comp)}  <- {CMD} --speed-only  (compose(latent, seed=1, {options}))")
        plan = score.plan
        period = round(plan.length_beats * 60 / plan.tempo_bpm * SAMPLE_RATE)
        n_frames = period + (4 * SAMPLE_RATE if plan.shape == "loop" else 0)
        audio_s = n_frames / SAMPLE_RATE
        jobs = [StemJob(p.name, p.channel, p.instrument.bank, p.instrument.program, part_events(p), p.chorus > 0)
                for p in score.parts]
        walls, cpus = [], []
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            render_stems(jobs, plan.tempo_bpm, n_frames, sf2, score.reverb)
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        wall, cpu = statistics.median(walls), statistics.median(cpus)
        print(f"[{label}] render {len(jobs)} stems x {audio_s:.1f} s at 48 kHz with pyfluidsynth: "
              f"wall {wall:.2f} s (RTF {audio_s / wall:.1f}x real time), CPU {cpu:.2f} s (RTF {audio_s / cpu:.1f}x)  "
              f"<- {CMD} --speed-only  (render_stems, median of {repeat})")
        with tempfile.TemporaryDirectory() as tmp:
            mid = Path(tmp) / "score.mid"
            mid.write_bytes(midi_bytes(score))
            cli = [fluidsynth or "fluidsynth", "-ni", "-q", "-r", "48000", "-T", "wav",
                   "-F", str(Path(tmp) / "cli.wav"), str(sf2), str(mid)]
            if fluidsynth is None:
                print("fluidsynth command line not installed: no comparison")
            else:
                cwalls, ccpus = [], []
                for _ in range(repeat):
                    c0 = _children_cpu()
                    t0 = time.perf_counter()
                    subprocess.run(cli, check=True, capture_output=True)
                    cwalls.append(time.perf_counter() - t0)
                    ccpus.append(_children_cpu() - c0)
                cwall, ccpu = statistics.median(cwalls), statistics.median(ccpus)
                cli_s = mido.MidiFile(mid).length
                print(f"[{label}] fluidsynth CLI, same MIDI + SoundFont, mix only ({cli_s:.1f} s + its tail): "
                      f"wall {cwall:.2f} s (RTF {cli_s / cwall:.1f}x), CPU {ccpu:.2f} s (RTF {cli_s / ccpu:.1f}x)  "
                      f"<- {' '.join(cli)}")
                print(f"[{label}] stems render / CLI mix render: wall {wall / cwall:.2f}x, CPU {cpu / ccpu:.2f}x "
                      f"(goal <= 1.2x)  <- {CMD} --speed-only")
        walls, cpus = [], []
        for _ in range(repeat):
            with tempfile.TemporaryDirectory() as tmp:
                ctx = DecodeContext(Path(tmp), lambda f, m: None, lambda: False)
                t0, c0 = time.perf_counter(), time.process_time()
                decoder.decode(DecodeRequest(latent, 1, options=options), ctx)
                walls.append(time.perf_counter() - t0)
                cpus.append(time.process_time() - c0)
        goal = "  (goal <= 5 s)" if plan.shape == "cue" else ""
        print(f"[{label}] whole decode (compose, MIDI, stems, mix, loudness, 24-bit WAVs): "
              f"wall {statistics.median(walls):.2f} s, CPU {statistics.median(cpus):.2f} s{goal}  "
              f"<- {CMD} --speed-only  (MusicDecoder().decode, median of {repeat})")


def _notes(tracks: dict[str, list[NoteEvent]]) -> tuple[dict[str, list[NoteEvent]], str]:
    lead = next((name for name in tracks if name.startswith("Lead")), "")
    return tracks, lead


def metrics(prompts: list[str]) -> None:
    from engine_server.encoder import get_encoder

    encoder = get_encoder()
    keys = ("H", "GS", "CPI", "in_chord", "in_scale")
    rows = []
    print(f"metrics of the composed MIDI (read back with mido), 8-bar loops, seed 1; control = the same notes with "
          f"pitches permuted and onsets moved to random sixteenths, track by track  <- {CMD} --metrics-only")
    header = f"{'prompt':34s} {'ensemble':16s} " + " ".join(f"{k:>13s}" for k in keys)
    print(header)
    for prompt in prompts:
        latent = encoder.encode(prompt, 1)
        score = compose(latent, 1, parse_options({}))
        tracks, lead = _notes(notes_from_midi(mido.MidiFile(file=io.BytesIO(midi_bytes(score)))))
        bpb = BEATS_PER_BAR[latent.meter]
        real = summarize(tracks, bpb, lead, latent.key, latent.mode)
        rng = np.random.default_rng(1)
        control = {name: shuffled_control(notes, bpb, rng) for name, notes in tracks.items()}
        ctl = summarize(control, bpb, lead, latent.key, latent.mode)
        rows.append((real, ctl))
        cells = " ".join(f"{float(real[k]):5.2f} ({float(ctl[k]):5.2f})" for k in keys)
        print(f"{prompt[:34]:34s} {latent.ensemble:16s} {cells}")
    means = [(np.nanmean([float(r[k]) for r, _ in rows]), np.nanmean([float(c[k]) for _, c in rows])) for k in keys]
    mean = " ".join(f"{m:5.2f} ({c:5.2f})" for m, c in means)
    print(f"{'mean of ' + str(len(rows)) + ' prompts (control)':51s} {mean}")
    print("H = pitch-class entropy in bits (1- and 4-bar windows; max 3.58); "
          "GS = groove similarity over all bar pairs; CPI = unique chord trigrams / trigrams; "
          "in_chord / in_scale = share of melody notes in the current chord "
          "(estimated per bar from the accompaniment) / in the latent's key")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--speed-only", action="store_true")
    ap.add_argument("--metrics-only", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if not args.metrics_only:
        speed(args.repeat)
    if not args.speed_only:
        from test_music_prompts import PROMPTS

        metrics(list(PROMPTS))


if __name__ == "__main__":
    main()
