"""The `music` decoder: the latent's tempo, key, mode, mood and instrumentation composed top-down
(form → harmony → motif → phrases → parts) and written as a type-1 MIDI file, a 48 kHz / 24-bit
stereo mix and one stem per part, rendered with FluidSynth and the General MIDI SoundFont.

Modules, one job each: options (what may be asked), plan (form), harmony, melody (motif and its
development), parts (bass, harmony, texture, drums), hits (hit points), instrumentation (GM
programs), compose (the order of all that), midi (the file), render (FluidSynth), mix (loudness).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from engine_server import config
from engine_server.decoders.base import Asset, DecodeContext, DecodeRequest, OutputSpec
from engine_server.decoders.music.compose import compose
from engine_server.decoders.music.instrumentation import STYLES
from engine_server.decoders.music.midi import midi_bytes, part_events
from engine_server.decoders.music.mix import SAMPLE_RATE, fold_tail, master
from engine_server.decoders.music.options import MusicOptions, MusicOptionSpec, melody_beats, parse_options
from engine_server.decoders.music.plan import Plan, make_plan
from engine_server.decoders.music.render import StemJob, render_stems
from engine_server.decoders.music.score import Score
from engine_server.errors import FailedPrecondition, InvalidArgument
from engine_server.latent import Latent

LOOP_TAIL_S = 4.0  # rendered past the loop's end, then folded back onto its start
MIDI_PATH = "music/score.mid"
MIX_PATH = "music/mix.wav"
STEM_DIR = "music/stems"


class MusicDecoder:
    name = "music"
    summary = "composed multi-track MIDI, 48 kHz/24-bit mix and stems (loop or cue with hit points)"
    reads = frozenset({"tempo_bpm", "meter", "key", "mode", "valence", "arousal", "tension", "ensemble",
                       "instruments", "seed"})
    writes = (
        OutputSpec("midi", "audio/midi", "type-1 MIDI: one track per part, tempo, meter, key, markers"),
        OutputSpec("music", "audio/wav", "stereo mix, 48 kHz / 24-bit, loudness-normalised"),
        OutputSpec("stem", "audio/wav", "one stereo stem per part, sample-aligned; stems sum to the mix"),
    )
    after: tuple[str, ...] = ()
    placeholder = False
    diagnostic = False
    option_spec = MusicOptionSpec
    last_timings: dict[str, float] = {}  # noqa: RUF012 - compose/render seconds of the last decode (bench only)

    def _options(self, request: DecodeRequest) -> MusicOptions:
        opts = parse_options(request.options)
        if opts.melody is not None:
            plan = make_plan(request.latent.tempo_bpm, request.latent.meter, opts)
            room = plan.end_of_music_beats
            if melody_beats(opts.melody) > room + 1e-9:
                what = f"a {plan.bars}-bar loop" if opts.shape == "loop" else f"this {opts.duration_s:g} s cue"
                raise InvalidArgument(
                    f"The melody lasts {melody_beats(opts.melody):g} beats but {what} holds {room:g} beats "
                    f"at {request.latent.tempo_bpm:g} BPM in {request.latent.meter}; shorten the melody or lengthen "
                    "the music."
                )
        return opts

    def validate(self, request: DecodeRequest) -> None:
        self._options(request)

    def estimate_seconds(self, request: DecodeRequest) -> float:
        opts = parse_options(request.options)
        plan = make_plan(request.latent.tempo_bpm, request.latent.meter, opts)
        audio_s = plan.duration_s + (LOOP_TAIL_S if opts.shape == "loop" else 0.0)
        return 0.4 + 0.06 * audio_s

    def decode(self, request: DecodeRequest, ctx: DecodeContext) -> list[Asset]:
        opts = self._options(request)
        soundfont = config.soundfont_path()
        if not soundfont.is_file():
            raise FailedPrecondition(
                f"The General MIDI SoundFont is missing at {soundfont}; "
                "install fluid-soundfont-gm or set MOTIF_SOUNDFONT."
            )
        ctx.progress(0.02, "composing: form, harmony, motif, parts")
        t0 = time.perf_counter()
        score = compose(request.latent, request.seed, opts)
        compose_s = time.perf_counter() - t0
        ctx.progress(0.1, "writing the MIDI file")
        ctx.path(MIDI_PATH).write_bytes(midi_bytes(score))

        plan = score.plan
        if plan.shape == "cue":  # exactly as long as asked, to the sample (a picture's length)
            period = round(plan.duration_s * SAMPLE_RATE)
        else:
            period = round(plan.length_beats * 60.0 / plan.tempo_bpm * SAMPLE_RATE)
        n_frames = period + int(LOOP_TAIL_S * SAMPLE_RATE) if plan.shape == "loop" else period
        jobs = [StemJob(p.name, p.channel, p.instrument.bank, p.instrument.program, part_events(p), p.chorus > 0)
                for p in score.parts]
        done: list[str] = []

        def on_done(name: str) -> None:
            done.append(name)
            ctx.progress(0.12 + 0.7 * len(done) / len(jobs), f"rendered the {name} stem")

        t1 = time.perf_counter()
        stems = render_stems(jobs, plan.tempo, n_frames, soundfont, score.reverb, on_done)
        render_s = time.perf_counter() - t1
        if plan.shape == "loop":
            stems = {name: fold_tail(x, period) for name, x in stems.items()}
        ctx.progress(0.85, "mixing and normalising loudness")
        m = master(stems, score.ensemble, loop=plan.shape == "loop", target_lufs=picture_target(plan, request.latent))
        ctx.progress(0.9, "writing 24-bit WAV files")
        meta = self._meta(score, opts, m.lufs, m.target_lufs, m.peak_dbfs, m.limiting_db, period, request.seed)
        self.last_timings = {"compose_s": compose_s, "render_s": render_s}
        assets = [Asset("midi", MIDI_PATH, "audio/midi", meta), Asset("music", MIX_PATH, "audio/wav", meta)]
        writes = [(ctx.path(MIX_PATH), m.mix)]
        for part in score.parts:
            rel = f"{STEM_DIR}/{part.name}.wav"
            writes.append((ctx.path(rel), m.stems[part.name]))
            assets.append(Asset("stem", rel, "audio/wav", {
                **meta, "part": part.name, "instrument": part.instrument.name, "program": part.instrument.program,
                "bank": part.instrument.bank, "channel": part.channel, "balance_db": round(m.balance_db[part.name], 2),
            }))
        with ThreadPoolExecutor(max_workers=2) as pool:  # libsndfile converts to 24 bit outside the GIL
            list(pool.map(lambda pw: _write_wav(*pw), writes))
        ctx.progress(1.0, "music done")
        return assets

    @staticmethod
    def _meta(score: Score, opts: MusicOptions, lufs: float, target: float, peak: float, limiting: float,
              period: int, seed: int) -> dict[str, Any]:
        plan = score.plan
        return {
            "shape": plan.shape,
            "loop": plan.shape == "loop",
            "tempo_bpm": plan.tempo_bpm,
            "tempo_map": [{"beat": round(b, 4), "time_s": round(plan.tempo.seconds(b), 6), "bpm": round(bpm, 4)}
                          for b, bpm in plan.tempo.steps] if plan.tempo_map is not None else None,
            "meter": plan.meter,
            "key": score.key,
            "mode": score.mode,
            "bars": plan.bars,
            "duration_s": round(period / SAMPLE_RATE, 6),
            "loop_samples": period if plan.shape == "loop" else None,
            "sample_rate": SAMPLE_RATE,
            "bit_depth": 24,
            "lufs_integrated": round(lufs, 2),
            "target_lufs": target,
            "peak_dbfs": round(peak, 2),
            "limiting_db": round(limiting, 2),
            "hit_points": [{"time_s": h.time_s, "beat": round(h.beat, 4), "kind": h.kind} for h in plan.hits],
            "sections": [{"name": s.name, "role": s.role, "start_bar": s.start_bar, "bars": s.bars,
                          "energy": s.energy, "cadence": s.cadence} for s in plan.sections],
            "chords": [{"bar": c.bar, "beat": round(c.start, 4), "chord": c.chord.name()} for c in score.chords],
            "ensemble": score.ensemble,
            "style": STYLES[score.ensemble].harmony_language,
            "parts": [{"name": p.name, "instrument": p.instrument.name, "program": p.instrument.program,
                       "bank": p.instrument.bank, "channel": p.channel} for p in score.parts],
            "melody_given": opts.melody is not None,
            "ducked": [{"start_s": a, "end_s": b} for a, b in plan.cue_shape.duck] if plan.cue_shape else [],
            "seed": seed,
            "soundfont": config.soundfont_path().name,
        }


def picture_target(plan: Plan, latent: Latent) -> float | None:
    """A cue shaped to picture sits as loud as the picture is intense: -21 LUFS for a still, calm edit up to
    -15 for full action (a plain cue keeps the -18 LUFS default)."""
    if plan.cue_shape is None:
        return None
    return round(float(np.clip(-21.0 + 6.0 * latent.arousal, -21.0, -15.0)), 2)


def _write_wav(path: Any, data: np.ndarray) -> None:
    import soundfile

    soundfile.write(str(path), np.asarray(data, dtype=np.float32), SAMPLE_RATE, subtype="PCM_24", format="WAV")
