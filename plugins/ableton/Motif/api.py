"""The OSC address space the Motif script answers, over Live's object model.

`/live/...`: AbletonOSC's documented addresses and reply shapes (ideoforms/AbletonOSC README), so
the bridge — and any AbletonOSC client — talks to this script as it would to AbletonOSC: a getter
replies on its own address with the object's indices then the value; setters and methods reply
nothing; indices are 0-based. `/motif/...`: what AbletonOSC lacks — audio clips from files (session
slot or arrangement), MIDI clips in the arrangement, a named locator, a recorded clip's file path.

While a push transaction is open (`journal` is a list), every object made and every value replaced
is recorded, so a failed push can be undone by hand (script.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import Live

Handler = Callable[[tuple[Any, ...]], "tuple[Any, ...] | None"]

# Properties reachable as /live/<object>/get|set/<name>, with the type each value is converted to
# (OSC clients send 1/0 for booleans and float32 for numbers). Names and writability: Live-stubs.
SONG_RW: dict[str, type] = {"tempo": float, "signature_numerator": int, "signature_denominator": int,
                            "loop_start": float, "loop_length": float, "current_song_time": float}
SONG_R = ("can_undo", "can_redo", "song_length", "is_playing")
TRACK_RW: dict[str, type] = {"name": str, "color": int, "color_index": int, "mute": bool, "solo": bool, "arm": bool}
TRACK_R = ("has_midi_input", "has_audio_input", "is_frozen", "is_foldable")
CLIP_RW: dict[str, type] = {"name": str, "color": int, "color_index": int, "looping": bool, "loop_start": float,
                            "loop_end": float, "muted": bool}
CLIP_R = ("length", "file_path", "is_midi_clip", "is_audio_clip", "start_time", "end_time")
SCENE_RW: dict[str, type] = {"name": str, "color": int, "color_index": int}
SCENE_R = ("is_empty",)


class LiveApi:
    """Handlers by OSC address; each takes the message's arguments and returns a reply or None."""

    def __init__(self, song: Callable[[], Live.Song.Song], show_message: Callable[[str], None]) -> None:
        self._song = song
        self.show_message = show_message
        self.journal: list[tuple[Any, ...]] | None = None
        self.handlers: dict[str, Handler] = {}
        self._add_song()
        self._add_track()
        self._add_clip_slot()
        self._add_clip()
        self._add_scene()
        self._add_motif()
        self.handlers["/live/application/get/version"] = self._version
        self.handlers["/live/api/show_message"] = lambda p: self._say(str(p[0]))

    @property
    def song(self) -> Live.Song.Song:
        return self._song()

    # ------------------------------------------------------------ helpers

    def _say(self, text: str) -> None:
        self.show_message(text)

    def _version(self, params: tuple[Any, ...]) -> tuple[Any, ...]:
        app = Live.Application.get_application()
        return (app.get_major_version(), app.get_minor_version())

    def _set(self, target: Any, prop: str, value: Any) -> None:
        if self.journal is not None:
            self.journal.append(("set", target, prop, getattr(target, prop)))
        setattr(target, prop, value)

    def _made(self, obj: Any) -> Any:
        if self.journal is not None:
            self.journal.append(("made", obj))
        return obj

    def track(self, index: Any) -> Live.Track.Track:
        tracks = self.song.tracks
        i = int(index)
        if not 0 <= i < len(tracks):
            raise IndexError(f"track {i} does not exist (the set has {len(tracks)})")
        return tracks[i]

    def slot(self, t: Any, s: Any) -> Live.ClipSlot.ClipSlot:
        slots = self.track(t).clip_slots
        i = int(s)
        if not 0 <= i < len(slots):
            raise IndexError(f"clip slot {i} does not exist (the set has {len(slots)} scenes)")
        return slots[i]

    def clip(self, t: Any, s: Any) -> Live.Clip.Clip:
        slot = self.slot(t, s)
        if not slot.has_clip:
            raise LookupError(f"track {int(t)}, slot {int(s)} holds no clip")
        return slot.clip

    def arrangement_clip(self, t: Any, i: Any) -> Live.Clip.Clip:
        clips = self.track(t).arrangement_clips
        if not 0 <= int(i) < len(clips):
            raise IndexError(f"track {int(t)} has no arrangement clip {int(i)}")
        return clips[int(i)]

    def scene(self, index: Any) -> Live.Scene.Scene:
        scenes = self.song.scenes
        i = int(index)
        if not 0 <= i < len(scenes):
            raise IndexError(f"scene {i} does not exist (the set has {len(scenes)})")
        return scenes[i]

    def _properties(self, kind: str, find: Callable[[tuple[Any, ...]], Any], nargs: int,
                    rw: dict[str, type], ro: tuple[str, ...]) -> None:
        for prop in (*rw, *ro):
            self.handlers[f"/live/{kind}/get/{prop}"] = self._getter(find, nargs, prop)
        for prop, convert in rw.items():
            self.handlers[f"/live/{kind}/set/{prop}"] = self._setter(find, nargs, prop, convert)

    def _getter(self, find: Callable[[tuple[Any, ...]], Any], nargs: int, prop: str) -> Handler:
        def get(params: tuple[Any, ...]) -> tuple[Any, ...]:
            return (*params[:nargs], getattr(find(params), prop))

        return get

    def _setter(self, find: Callable[[tuple[Any, ...]], Any], nargs: int, prop: str, convert: type) -> Handler:
        def set_(params: tuple[Any, ...]) -> None:
            self._set(find(params), prop, convert(params[nargs]))

        return set_

    # ------------------------------------------------------------ song

    def _add_song(self) -> None:
        self._properties("song", lambda p: self.song, 0, SONG_RW, SONG_R)
        h = self.handlers
        h["/live/song/get/num_tracks"] = lambda p: (len(self.song.tracks),)
        h["/live/song/get/num_scenes"] = lambda p: (len(self.song.scenes),)
        h["/live/song/get/track_names"] = self._track_names
        h["/live/song/get/scenes/name"] = lambda p: tuple(s.name for s in self.song.scenes)
        h["/live/song/create_midi_track"] = lambda p: self._create_track(p, midi=True)
        h["/live/song/create_audio_track"] = lambda p: self._create_track(p, midi=False)
        h["/live/song/delete_track"] = self._delete_track
        h["/live/song/create_scene"] = self._create_scene
        h["/live/song/delete_scene"] = self._delete_scene
        h["/live/song/undo"] = lambda p: self._call(self.song.undo)
        h["/live/song/redo"] = lambda p: self._call(self.song.redo)

    @staticmethod
    def _call(fn: Callable[[], Any]) -> None:
        fn()

    def _track_names(self, params: tuple[Any, ...]) -> tuple[Any, ...]:
        tracks = self.song.tracks
        lo, hi = (int(params[0]), int(params[1])) if len(params) >= 2 else (0, len(tracks))
        hi = len(tracks) if hi == -1 else hi
        return tuple(tracks[i].name for i in range(lo, min(hi, len(tracks))))

    def _create_track(self, params: tuple[Any, ...], midi: bool) -> None:
        index = int(params[0]) if params else -1
        song = self.song
        track = song.create_midi_track(index) if midi else song.create_audio_track(index)
        self._made(track)

    def _delete_track(self, params: tuple[Any, ...]) -> None:
        i = int(params[0])
        self.track(i)  # a clear sentence for a wrong index
        self.song.delete_track(i)

    def _create_scene(self, params: tuple[Any, ...]) -> None:
        self._made(self.song.create_scene(int(params[0]) if params else -1))

    def _delete_scene(self, params: tuple[Any, ...]) -> None:
        i = int(params[0])
        self.scene(i)
        self.song.delete_scene(i)

    # ------------------------------------------------------------ tracks, slots, clips, scenes

    def _add_track(self) -> None:
        self._properties("track", lambda p: self.track(p[0]), 1, TRACK_RW, TRACK_R)
        self.handlers["/live/track/get/clips/name"] = lambda p: (
            int(p[0]), *(s.clip.name if s.has_clip else None for s in self.track(p[0]).clip_slots))

    def _add_clip_slot(self) -> None:
        h = self.handlers
        h["/live/clip_slot/get/has_clip"] = lambda p: (int(p[0]), int(p[1]), self.slot(p[0], p[1]).has_clip)
        h["/live/clip_slot/create_clip"] = self._create_clip
        h["/live/clip_slot/delete_clip"] = lambda p: self._call(self.slot(p[0], p[1]).delete_clip)

    def _create_clip(self, params: tuple[Any, ...]) -> None:
        self.slot(params[0], params[1]).create_clip(float(params[2]))

    def _add_clip(self) -> None:
        self._properties("clip", lambda p: self.clip(p[0], p[1]), 2, CLIP_RW, CLIP_R)
        h = self.handlers
        h["/live/clip/add/notes"] = lambda p: self._add_notes(self.clip(p[0], p[1]), p[2:])
        h["/live/clip/get/notes"] = lambda p: (int(p[0]), int(p[1]), *self._notes(self.clip(p[0], p[1]), p[2:]))
        h["/live/clip/remove/notes"] = lambda p: self._remove_notes(self.clip(p[0], p[1]), p[2:])

    @staticmethod
    def _add_notes(clip: Live.Clip.Clip, flat: tuple[Any, ...]) -> None:
        if len(flat) % 5:
            raise ValueError("notes come as pitch, start, duration, velocity, mute (5 values each)")
        notes = [Live.Clip.MidiNoteSpecification(int(flat[i]), float(flat[i + 1]), float(flat[i + 2]),
                                                 float(flat[i + 3]), bool(flat[i + 4]))
                 for i in range(0, len(flat), 5)]
        clip.add_new_notes(tuple(notes))

    @staticmethod
    def _span(args: tuple[Any, ...]) -> tuple[int, int, float, float]:
        if len(args) == 4:
            return int(args[0]), int(args[1]), float(args[2]), float(args[3])
        if args:
            raise ValueError("give pitch_start, pitch_span, time_start, time_span, or nothing")
        return 0, 128, -8192.0, 16384.0

    def _notes(self, clip: Live.Clip.Clip, args: tuple[Any, ...]) -> list[Any]:
        out: list[Any] = []
        for n in clip.get_notes_extended(*self._span(args)):
            out += [n.pitch, n.start_time, n.duration, n.velocity, n.mute]
        return out

    def _remove_notes(self, clip: Live.Clip.Clip, args: tuple[Any, ...]) -> None:
        clip.remove_notes_extended(*self._span(args))

    def _add_scene(self) -> None:
        self._properties("scene", lambda p: self.scene(p[0]), 1, SCENE_RW, SCENE_R)

    # ------------------------------------------------------------ /motif extensions

    def _add_motif(self) -> None:
        h = self.handlers
        h["/motif/clip_slot/create_audio_clip"] = self._slot_audio_clip
        h["/motif/track/create_audio_clip"] = self._track_audio_clip
        h["/motif/track/create_midi_clip"] = self._track_midi_clip
        h["/motif/arrangement_clip/set/name"] = lambda p: self._set(self.arrangement_clip(p[0], p[1]), "name",
                                                                      str(p[2]))
        h["/motif/arrangement_clip/add/notes"] = lambda p: self._add_notes(self.arrangement_clip(p[0], p[1]), p[2:])
        h["/motif/song/set_locator"] = self._set_locator
        h["/motif/hum/get"] = self._hum_file

    def _slot_audio_clip(self, params: tuple[Any, ...]) -> None:
        """An audio clip in a session slot, playing the file at an absolute path (LOM ClipSlot.create_audio_clip)."""
        self.slot(params[0], params[1]).create_audio_clip(str(params[2]))

    def _track_audio_clip(self, params: tuple[Any, ...]) -> None:
        """An audio clip in the arrangement at `position` beats (Track.create_audio_clip, Live 12.0.5+)."""
        self.track(params[0]).create_audio_clip(str(params[1]), float(params[2]))

    def _track_midi_clip(self, params: tuple[Any, ...]) -> None:
        self.track(params[0]).create_midi_clip(float(params[1]), float(params[2]))

    def _set_locator(self, params: tuple[Any, ...]) -> None:
        """A locator (cue point) named `name` at `time` beats: the one already there is renamed, so a
        re-push leaves one locator. Uses the playhead (set_or_delete_cue works there), then puts it back."""
        when, name = float(params[0]), str(params[1])
        song = self.song
        here = [c for c in song.cue_points if abs(c.time - when) < 1e-6]
        if not here:
            playhead = song.current_song_time
            song.current_song_time = when
            song.set_or_delete_cue()
            song.current_song_time = playhead
            here = [c for c in song.cue_points if abs(c.time - when) < 1e-6]
            if not here:
                raise RuntimeError(f"Live made no locator at beat {when:g}")
        self._set(here[0], "name", name)

    def _hum_file(self, params: tuple[Any, ...]) -> tuple[Any, ...]:
        """The file a recorded audio clip plays (a hummed melody for the engine)."""
        clip = self.clip(params[0], params[1])
        if not clip.is_audio_clip:
            raise ValueError(f"track {int(params[0])}, slot {int(params[1])} is a MIDI clip; record audio to hum")
        return (int(params[0]), int(params[1]), clip.file_path)
