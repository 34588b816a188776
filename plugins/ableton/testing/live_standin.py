"""A stand-in for Ableton Live's `Live` module, generated from `ableton-live-stubs` (Live 12.3.6).

    live = build_live(read_spec(), palette)   # a `Live` package: live.Song.Song, live.Clip.MidiNoteSpecification …
    install(live)                             # sys.modules["Live"], ["Live.Song"] … for code that does `import Live`
    song = live.Application.get_application().get_document()

Every module, class, method, property and enum value comes from the stubs, and nothing else does:
a name the stub lacks raises AttributeError (as Live does), a read-only property refuses a value, a
call whose arguments do not bind to the stub's parameters raises TypeError (Boost.Python's
ArgumentError is one), a property set to the wrong basic type raises TypeError. On top of that
generated shape, the small part of Live a Remote Script that builds a set needs is simulated
(`_BEHAVIOUR`): the song's tracks and scenes, clip slots, MIDI and audio clips in session and
arrangement, notes, colours snapped to Live's palette, cue points, undo steps. A behaviour may only
define names the stub has (the build fails otherwise), so the simulation cannot drift from the API.
A stub method without a behaviour raises NotImplementedError saying so: Live has it, the stand-in
does not simulate it. The Live rules simulated are documented ones (Live Object Model, the stubs'
docstrings); where Live's exact exception type is unknown, RuntimeError is raised.

Standard library only: the Remote Script runs over this under `python -S` too.
"""

from __future__ import annotations

import inspect
import itertools
import os
import struct
import sys
import types
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from live_stubspec import ClassSpec, Param, Spec

MAJOR, MINOR, BUGFIX = 12, 3, 6
ARRANGEMENT_MAX_BEATS = 1576800.0  # Track.create_audio_clip / create_midi_clip: time must be in [0, 1576800]
_EXPR_DEFAULTS = {"None": None, "True": True, "False": False}


class StandInGap(NotImplementedError):
    """Live has this name, but the stand-in does not simulate it."""


# ------------------------------------------------------------------ the generated shape


class _Lom:
    """Base of every generated class: only names in the stub exist; state lives in `_s`."""

    _qualname = "Live"
    _writable: frozenset[str] = frozenset()
    _s: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"'{self._qualname}' object has no attribute '{name}' (not in Live-stubs 12.3.6)")

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        elif name in self._writable:
            object.__setattr__(self, name, value)  # the generated property's setter
        else:
            kind = "read-only" if hasattr(type(self), name) else "not in Live-stubs 12.3.6"
            raise AttributeError(f"'{self._qualname}' attribute '{name}' is {kind}")

    def __repr__(self) -> str:
        label = self._s.get("name", "")
        return f"<{self._qualname} {label!r}>" if label else f"<{self._qualname}>"


def _default(param: Param) -> Any:
    return inspect.Parameter.empty if param.default is None else _literal(param.default, param.default)


def _literal(text: str, fallback: Any) -> Any:
    if text in _EXPR_DEFAULTS:
        return _EXPR_DEFAULTS[text]
    try:
        return eval(text, {})  # the stub's literals: numbers, strings, tuples
    except Exception:
        return fallback  # an expression over names (an enum member such as CaptureMode.all)


def _signature(params: list[Param]) -> inspect.Signature:
    # The stubs mark every parameter positional-only, yet Live's own scripts pass keywords
    # (hosts.md §0): the names must match, the markers are advice.
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    return inspect.Signature([inspect.Parameter(p.name, kind, default=_default(p)) for p in params])


def _checked(qualname: str, name: str, params: list[Param], fn: Callable[..., Any] | None) -> Callable[..., Any]:
    sig = _signature(params)

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{qualname}.{name}{sig}: {exc}") from None
        if fn is None:
            raise StandInGap(f"Live has {qualname}.{name}, but the stand-in does not simulate it")
        bound.apply_defaults()
        return fn(self, *bound.args)

    method.__name__ = name
    method.__qualname__ = f"{qualname}.{name}"
    return method


def _type_ok(annotation: str, value: Any) -> bool:
    basic = annotation.replace(" ", "")
    if basic == "float":
        return isinstance(value, (int, float))
    if basic == "int":
        return isinstance(value, int)
    if basic == "int|None":
        return value is None or isinstance(value, int)
    if basic == "bool":
        return isinstance(value, (bool, int))
    if basic == "str":
        return isinstance(value, str)
    return True


def _empty_of(annotation: str) -> Any:
    return {"float": 0.0, "int": 0, "bool": False, "str": ""}.get(annotation.replace(" ", ""))


def _property(qualname: str, name: str, annotation: str, writable: bool, impl: property | None) -> property:
    def fget(self: Any) -> Any:
        if impl is not None and impl.fget is not None:
            return impl.fget(self)
        return self._s.setdefault("props", {}).get(name, _empty_of(annotation))

    def fset(self: Any, value: Any) -> None:
        if not _type_ok(annotation, value):
            raise TypeError(f"{qualname}.{name} takes {annotation}; got {type(value).__name__} {value!r}")
        if impl is not None and impl.fset is not None:
            impl.fset(self, value)
        else:
            self._s.setdefault("props", {})[name] = value
            song = self._s.get("song")
            if song is not None:
                song._changed(f"{qualname}.{name}")

    return property(fget, fset if writable else None, doc=f"{qualname}.{name}: {annotation}")


def _members(behaviour: type | None) -> dict[str, Any]:
    if behaviour is None:
        return {}
    out: dict[str, Any] = {}
    for klass in reversed(behaviour.__mro__[:-1]):
        out.update({k: v for k, v in vars(klass).items() if not k.startswith("_") or k == "__init__"})
    return out


def _make_class(spec: Spec, cls: ClassSpec, built: dict[str, type]) -> type:
    if cls.qualname in built:
        return built[cls.qualname]
    bases: list[type] = []
    for b in cls.bases:
        if b in spec.classes:
            bases.append(_make_class(spec, spec.classes[b], built))
    behaviour = _BEHAVIOUR.get(cls.qualname)
    impl = _members(behaviour)
    ns: dict[str, Any] = {"_qualname": cls.qualname, "__module__": cls.module, "__qualname__": cls.name}
    for name in impl:
        if name == "__init__" and "__init__" not in cls.methods:
            raise AssertionError(f"stand-in drift: {cls.qualname} has no constructor in the stub")
        if name != "__init__" and spec.lookup(cls.qualname, name) is None:
            raise AssertionError(f"stand-in drift: the behaviour of {cls.qualname} defines {name!r}, "
                                 "which Live-stubs lacks")
    writable: set[str] = set()
    for base in bases:
        writable |= getattr(base, "_writable", frozenset())
    for name, (annotation, can_write) in cls.properties.items():
        given = impl.get(name)
        if given is not None and not isinstance(given, property):
            raise AssertionError(f"stand-in drift: {cls.qualname}.{name} is a property in the stub")
        if given is not None and given.fset is not None and not can_write:
            raise AssertionError(f"stand-in drift: {cls.qualname}.{name} is read-only in the stub")
        if given is not None and given.fset is None and can_write:
            raise AssertionError(f"stand-in: {cls.qualname}.{name} is writable in the stub; simulate its setter too")
        ns[name] = _property(cls.qualname, name, annotation, can_write, given)
        if can_write:
            writable.add(name)
    for name, params in cls.methods.items():
        given = impl.get(name)
        if isinstance(given, property):
            raise AssertionError(f"stand-in drift: {cls.qualname}.{name} is a method in the stub")
        if given is not None:
            theirs = [p for p in inspect.signature(given).parameters][1:]
            if theirs != [p.name for p in params]:
                raise AssertionError(f"stand-in drift: {cls.qualname}.{name}({', '.join(theirs)}) vs the stub's "
                                     f"({', '.join(p.name for p in params)})")
        if name == "__init__":
            ns["__init__"] = _constructor(cls, params, given)
        else:
            ns[name] = _checked(cls.qualname, name, params, given)
    if "__init__" not in cls.methods:
        ns["__init__"] = _no_constructor(cls.qualname)
    for name, text in cls.values.items():
        ns[name] = _literal(text, name)  # enum members (Quantization.q_bar = 4)
    for name, member in impl.items():
        if name.startswith("_") or name in ns:
            continue
        ns[name] = member  # a behaviour's helper the stub names as something else (checked above)
    ns["_writable"] = frozenset(writable)
    root: tuple[type, ...] = tuple(bases) or (_Lom,)
    if behaviour is not None:
        root = (behaviour, *root) if not any(issubclass(b, behaviour) for b in root) else root
    made = type(cls.name.rsplit(".", 1)[-1], root, ns)
    built[cls.qualname] = made
    for nested in [c for q, c in spec.classes.items() if q.startswith(cls.qualname + ".")
                   and "." not in q[len(cls.qualname) + 1:]]:
        setattr(made, nested.name.rsplit(".", 1)[-1], _make_class(spec, nested, built))
    return made


def _constructor(cls: ClassSpec, params: list[Param], given: Any) -> Callable[..., None]:
    sig = _signature(params)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        object.__setattr__(self, "_s", {})
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{cls.qualname}{sig}: {exc}") from None
        bound.apply_defaults()
        self._s["args"] = dict(bound.arguments)

    return __init__


def _no_constructor(qualname: str) -> Callable[..., None]:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        raise TypeError(f"{qualname} cannot be instantiated from Python (Live makes these)")

    return __init__


def _new(cls: type, **state: Any) -> Any:
    """An instance the way Live makes one: no constructor, state given."""
    obj: Any = object.__new__(cls)
    object.__setattr__(obj, "_s", dict(state))
    return obj


def build_live(spec: Spec, palette: Sequence[int]) -> types.ModuleType:
    """A fresh `Live` package (one Application, one empty Song) from the stub spec."""
    if len(palette) != 70:
        raise ValueError("Live's colour palette has 70 entries")
    built: dict[str, type] = {}
    live = types.ModuleType("Live")
    live.__path__ = []  # a package, so `import Live.Song` works once installed
    for module_name, functions in spec.modules.items():
        mod = types.ModuleType(module_name)
        for cls in spec.classes.values():
            if cls.module == module_name and "." not in cls.name:
                setattr(mod, cls.name, _make_class(spec, cls, built))
        for fname, params in functions.items():
            impl = _FUNCTIONS.get(f"{module_name}.{fname}")
            setattr(mod, fname, _function(module_name, fname, params, impl, live))
        setattr(live, module_name.split(".", 1)[1], mod)
    missing = [k for k in _BEHAVIOUR if k not in built]
    if missing:
        raise AssertionError(f"stand-in drift: behaviours for classes the stub lacks: {missing}")
    live._standin_classes = built  # type: ignore[attr-defined]
    live._standin_palette = tuple(palette)  # type: ignore[attr-defined]
    song = _new(built["Live.Song.Song"], tracks=[], scenes=[], history=[], depth=0, open_step=None,
                cues=[], props={"tempo": 120.0, "signature_numerator": 4, "signature_denominator": 4},
                live=live, ids=itertools.count(1))
    song._s["song"] = None  # the song records its own changes through _changed
    app = _new(built["Live.Application.Application"], song=song)
    live._standin_app = app  # type: ignore[attr-defined]
    return live


def _function(module: str, name: str, params: list[Param], impl: Callable[..., Any] | None,
              live: types.ModuleType) -> Callable[..., Any]:
    sig = _signature(params)

    def fn(*args: Any, **kwargs: Any) -> Any:
        try:
            sig.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{module}.{name}{sig}: {exc}") from None
        if impl is None:
            raise StandInGap(f"Live has {module}.{name}, but the stand-in does not simulate it")
        return impl(live, *args, **kwargs)

    fn.__name__ = name
    return fn


def install(live: types.ModuleType) -> None:
    """Make `import Live` (and `import Live.Song` …) resolve to this stand-in."""
    sys.modules["Live"] = live
    for attr in dir(live):
        value = getattr(live, attr)
        if isinstance(value, types.ModuleType):
            sys.modules[f"Live.{attr}"] = value


def default_set(live: types.ModuleType, midi: int = 2, audio: int = 2, scenes: int = 8) -> Any:
    """Live's empty set: 2 MIDI and 2 audio tracks, 8 scenes (Live 12's default template)."""
    song = live._standin_app._s["song"]  # type: ignore[attr-defined]
    for _ in range(scenes):
        song.create_scene(-1)
    for _ in range(midi):
        song.create_midi_track(-1)
    for _ in range(audio):
        song.create_audio_track(-1)
    song._s["history"].clear()
    return song


# ------------------------------------------------------------------ behaviour (documented Live rules)


def _index(value: Any, size: int, *, allow_end: bool) -> int:
    """Live's insert index: None or -1 appends; anything else must be within the list."""
    if value is None or (allow_end and value == -1):
        return size
    top = size if allow_end else size - 1
    if not isinstance(value, int) or not 0 <= value <= top:
        raise RuntimeError(f"Index {value!r} out of range (0..{top})")
    return int(value)


def _read_wav(path: str) -> tuple[int, int]:
    """(frames, sample rate) of a RIFF/WAVE file (PCM or extensible); RuntimeError if it is not one."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                raise RuntimeError(f"{path} is not a valid audio file")
            rate = align = 0
            while True:
                chunk = fh.read(8)
                if len(chunk) < 8:
                    break
                cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if cid == b"fmt ":
                    fmt = fh.read(size)
                    _, _, rate, _, align = struct.unpack("<HHIIH", fmt[:14])
                elif cid == b"data":
                    if not rate or not align:
                        break
                    return size // align, rate
                else:
                    fh.seek(size + (size & 1), os.SEEK_CUR)
    except OSError as exc:
        raise RuntimeError(f"cannot open {path}: {exc.strerror}") from None
    raise RuntimeError(f"{path} is not a valid audio file")


def _nearest(palette: Sequence[int], rgb: int) -> int:
    r, g, b = (rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255
    return min(range(len(palette)), key=lambda i: (((palette[i] >> 16) & 255) - r) ** 2
               + (((palette[i] >> 8) & 255) - g) ** 2 + ((palette[i] & 255) - b) ** 2)


class _Coloured:
    """color / color_index as the LOM documents them: setting a colour picks the nearest palette entry."""

    _s: dict[str, Any]

    def _palette(self) -> Sequence[int]:
        return self._s["song"]._s["live"]._standin_palette  # type: ignore[no-any-return]

    @property
    def color(self) -> int:
        return int(self._palette()[self._s.get("color_index", 0)])

    @color.setter
    def color(self, value: int) -> None:
        self._s["color_index"] = _nearest(self._palette(), int(value))
        self._s["song"]._changed("color")

    @property
    def color_index(self) -> int:
        return int(self._s.get("color_index", 0))

    @color_index.setter
    def color_index(self, value: int) -> None:
        if value is None:  # Scene.color_index: None is "no colour"
            self._s["color_index"] = 0
            return
        if not 0 <= int(value) < len(self._palette()):
            raise ValueError(f"color_index {value} is outside Live's palette (0..{len(self._palette()) - 1})")
        self._s["color_index"] = int(value)
        self._s["song"]._changed("color_index")


class _Named:
    _s: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self._s.get("name", ""))

    @name.setter
    def name(self, value: str) -> None:
        self._s["name"] = value
        self._s["song"]._changed("name")


class _Song:
    _s: dict[str, Any]

    def _changed(self, what: str) -> None:
        """Every change lands in an undo step: the open one, or a step of its own."""
        if self._s["depth"] > 0:
            self._s["open_step"].append(what)
        else:
            self._s["history"].append([what])

    def _cls(self, name: str) -> type:
        return self._s["live"]._standin_classes[name]  # type: ignore[no-any-return]

    @property
    def tracks(self) -> tuple[Any, ...]:
        return tuple(self._s["tracks"])

    @property
    def visible_tracks(self) -> tuple[Any, ...]:
        return tuple(self._s["tracks"])

    @property
    def return_tracks(self) -> tuple[Any, ...]:
        return ()

    @property
    def scenes(self) -> tuple[Any, ...]:
        return tuple(self._s["scenes"])

    @property
    def cue_points(self) -> tuple[Any, ...]:
        return tuple(sorted(self._s["cues"], key=lambda c: c._s["time"]))

    @property
    def can_undo(self) -> bool:
        return bool(self._s["history"])

    @property
    def tempo(self) -> float:
        return float(self._s["props"]["tempo"])

    @tempo.setter
    def tempo(self, value: float) -> None:
        if not 20.0 <= float(value) <= 999.0:
            raise ValueError(f"tempo {value} is outside Live's range (20..999 BPM)")
        self._s["props"]["tempo"] = float(value)
        self._changed("tempo")

    @property
    def signature_numerator(self) -> int:
        return int(self._s["props"]["signature_numerator"])

    @signature_numerator.setter
    def signature_numerator(self, value: int) -> None:
        if not 1 <= value <= 99:
            raise ValueError(f"signature numerator {value} is outside 1..99")
        self._s["props"]["signature_numerator"] = int(value)
        self._changed("signature_numerator")

    @property
    def signature_denominator(self) -> int:
        return int(self._s["props"]["signature_denominator"])

    @signature_denominator.setter
    def signature_denominator(self, value: int) -> None:
        if value not in (1, 2, 4, 8, 16):
            raise ValueError(f"signature denominator {value} is not 1, 2, 4, 8 or 16")
        self._s["props"]["signature_denominator"] = int(value)
        self._changed("signature_denominator")

    def begin_undo_step(self) -> None:
        self._s["depth"] += 1
        if self._s["depth"] == 1:
            self._s["open_step"] = []

    def end_undo_step(self) -> None:
        if self._s["depth"] == 0:
            raise RuntimeError("end_undo_step without begin_undo_step")
        self._s["depth"] -= 1
        if self._s["depth"] == 0 and self._s["open_step"]:
            self._s["history"].append(self._s["open_step"])
            self._s["open_step"] = None

    def _new_track(self, index: Any, kind: str) -> Any:
        at = _index(index, len(self._s["tracks"]), allow_end=True)
        number = len(self._s["tracks"]) + 1
        track = _new(self._cls("Live.Track.Track"), song=self, kind=kind,
                     name=f"{number}-{'MIDI' if kind == 'midi' else 'Audio'}", color_index=(number * 7) % 70,
                     arrangement=[], slots=[], props={})
        track._s["slots"] = [_new(self._cls("Live.ClipSlot.ClipSlot"), song=self, track=track, clip=None)
                             for _ in self._s["scenes"]]
        self._s["tracks"].insert(at, track)
        self._changed(f"create {kind} track")
        return track

    def create_midi_track(self, index: int | None = None) -> Any:
        return self._new_track(index, "midi")

    def create_audio_track(self, index: int | None = None) -> Any:
        return self._new_track(index, "audio")

    def delete_track(self, index: int) -> None:
        at = _index(index, len(self._s["tracks"]), allow_end=False)
        track = self._s["tracks"].pop(at)
        track._s["deleted"] = True
        self._changed("delete track")

    def create_scene(self, index: int) -> Any:
        at = _index(index, len(self._s["scenes"]), allow_end=True)
        scene = _new(self._cls("Live.Scene.Scene"), song=self, name="", color_index=0, props={})
        self._s["scenes"].insert(at, scene)
        for track in self._s["tracks"]:
            track._s["slots"].insert(at, _new(self._cls("Live.ClipSlot.ClipSlot"), song=self, track=track,
                                              clip=None))
        self._changed("create scene")
        return scene

    def delete_scene(self, index: int) -> None:
        at = _index(index, len(self._s["scenes"]), allow_end=False)
        self._s["scenes"].pop(at)
        for track in self._s["tracks"]:
            track._s["slots"].pop(at)
        self._changed("delete scene")

    @property
    def current_song_time(self) -> float:
        return float(self._s["props"].get("current_song_time", 0.0))

    @current_song_time.setter
    def current_song_time(self, value: float) -> None:
        self._s["props"]["current_song_time"] = max(0.0, float(value))

    def set_or_delete_cue(self) -> None:
        """The LOM: toggles a cue point at the playhead (deletes the one there, or makes one)."""
        now = self.current_song_time
        here = [c for c in self._s["cues"] if c._s["time"] == now]
        if here:
            self._s["cues"].remove(here[0])
        else:
            self._s["cues"].append(_new(self._cls("Live.Song.CuePoint"), song=self, time=now, name="", props={}))
        self._changed("set_or_delete_cue")


class _CuePoint(_Named):
    @property
    def time(self) -> float:
        return float(self._s["time"])


class _Track(_Coloured, _Named):
    @property
    def canonical_parent(self) -> Any:
        return self._s["song"]

    @property
    def clip_slots(self) -> tuple[Any, ...]:
        return tuple(self._s["slots"])

    @property
    def arrangement_clips(self) -> tuple[Any, ...]:
        return tuple(sorted(self._s["arrangement"], key=lambda c: c._s["start"]))

    @property
    def has_midi_input(self) -> bool:
        return bool(self._s["kind"] == "midi")

    @property
    def has_audio_input(self) -> bool:
        return bool(self._s["kind"] == "audio")

    @property
    def has_midi_output(self) -> bool:
        return bool(self._s["kind"] == "midi")

    @property
    def has_audio_output(self) -> bool:
        return True

    @property
    def is_frozen(self) -> bool:
        return False

    @property
    def can_be_armed(self) -> bool:
        return True

    @property
    def is_foldable(self) -> bool:
        return False

    @property
    def mute(self) -> bool:
        return bool(self._s.get("mute", False))

    @mute.setter
    def mute(self, value: bool) -> None:
        self._s["mute"] = bool(value)
        self._s["song"]._changed("mute")

    def _arrangement_clip(self, start: float, length: float, **state: Any) -> Any:
        if not 0.0 <= float(start) <= ARRANGEMENT_MAX_BEATS:
            raise RuntimeError(f"time {start} is outside [0, {ARRANGEMENT_MAX_BEATS:g}]")
        song = self._s["song"]
        clip = _new(song._cls("Live.Clip.Clip"), song=song, parent=self, start=float(start), length=float(length),
                    name="", color_index=self._s.get("color_index", 0), notes=[], props={}, **state)
        self._s["arrangement"].append(clip)
        song._changed("create arrangement clip")
        return clip

    def create_audio_clip(self, file_path: str, position: float) -> Any:
        if self._s["kind"] != "audio":
            raise RuntimeError("create_audio_clip needs an audio track")
        if not os.path.isabs(file_path):
            raise RuntimeError(f"{file_path} is not an absolute path")
        frames, rate = _read_wav(file_path)
        beats = frames / rate * self._s["song"].tempo / 60.0
        return self._arrangement_clip(position, beats, audio=file_path)

    def create_midi_clip(self, start_time: float, length: float) -> Any:
        if self._s["kind"] != "midi":
            raise RuntimeError("create_midi_clip needs a MIDI track")
        if float(length) <= 0:
            raise RuntimeError(f"clip length {length} must be positive")
        return self._arrangement_clip(start_time, length)

    def delete_clip(self, clip: Any) -> None:
        if clip not in self._s["arrangement"]:
            raise RuntimeError("the clip is not in this track's arrangement")
        self._s["arrangement"].remove(clip)
        self._s["song"]._changed("delete clip")


class _ClipSlot:
    _s: dict[str, Any]

    @property
    def canonical_parent(self) -> Any:
        return self._s["track"]

    @property
    def has_clip(self) -> bool:
        return self._s["clip"] is not None

    @property
    def clip(self) -> Any:
        return self._s["clip"]

    @property
    def is_group_slot(self) -> bool:
        return False

    def _session_clip(self, length: float, **state: Any) -> Any:
        if self._s["clip"] is not None:
            raise RuntimeError("Clip slot is not empty")
        song = self._s["song"]
        track = self._s["track"]
        self._s["clip"] = _new(song._cls("Live.Clip.Clip"), song=song, parent=self, start=0.0, length=float(length),
                               name="", color_index=track._s.get("color_index", 0), notes=[], props={}, **state)
        song._changed("create clip")
        return self._s["clip"]

    def create_clip(self, length: float) -> Any:
        if self._s["track"]._s["kind"] != "midi":
            raise RuntimeError("MIDI clips can only be created on MIDI tracks")
        if float(length) <= 0:
            raise RuntimeError(f"clip length {length} must be positive")
        return self._session_clip(length)

    def create_audio_clip(self, file_path: str) -> Any:
        if self._s["track"]._s["kind"] != "audio":
            raise RuntimeError("Audio clips can only be created on audio tracks")
        if not os.path.isabs(file_path):
            raise RuntimeError(f"{file_path} is not an absolute path")
        frames, rate = _read_wav(file_path)
        return self._session_clip(frames / rate * self._s["song"].tempo / 60.0, audio=file_path)

    def delete_clip(self) -> None:
        if self._s["clip"] is None:
            raise RuntimeError("No clip in slot")
        self._s["clip"] = None
        self._s["song"]._changed("delete clip")


class _Clip(_Coloured, _Named):
    @property
    def canonical_parent(self) -> Any:
        return self._s["parent"]

    @property
    def length(self) -> float:
        return float(self._s["length"])

    @property
    def start_time(self) -> float:
        return float(self._s["start"])

    @property
    def end_time(self) -> float:
        return float(self._s["start"] + self._s["length"])

    @property
    def is_midi_clip(self) -> bool:
        return "audio" not in self._s

    @property
    def is_audio_clip(self) -> bool:
        return "audio" in self._s

    @property
    def is_arrangement_clip(self) -> bool:
        return self._s["parent"]._qualname == "Live.Track.Track"

    @property
    def is_session_clip(self) -> bool:
        return self._s["parent"]._qualname == "Live.ClipSlot.ClipSlot"

    @property
    def file_path(self) -> str:
        if "audio" not in self._s:
            raise RuntimeError("file_path: only audio clips have a file")
        return str(self._s["audio"])

    @property
    def looping(self) -> bool:
        return bool(self._s.get("looping", True))

    @looping.setter
    def looping(self, value: bool) -> None:
        self._s["looping"] = bool(value)

    @property
    def loop_start(self) -> float:
        return float(self._s.get("loop_start", 0.0))

    @loop_start.setter
    def loop_start(self, value: float) -> None:
        self._s["loop_start"] = float(value)

    @property
    def loop_end(self) -> float:
        return float(self._s.get("loop_end", self._s["length"]))

    @loop_end.setter
    def loop_end(self, value: float) -> None:
        self._s["loop_end"] = float(value)

    def _midi_only(self) -> None:
        if "audio" in self._s:
            raise RuntimeError("This is not a MIDI clip")

    def add_new_notes(self, notes: Iterable[Any]) -> tuple[int, ...]:
        self._midi_only()
        song = self._s["song"]
        spec_cls = song._cls("Live.Clip.MidiNoteSpecification")
        made = []
        for n in notes:
            if not isinstance(n, spec_cls):
                raise TypeError(f"add_new_notes takes Live.Clip.MidiNoteSpecification objects; got {n!r}")
            a = n._s["args"]
            if not isinstance(a["pitch"], int) or not 0 <= a["pitch"] <= 127:
                raise ValueError(f"pitch {a['pitch']!r} is outside 0..127")
            if not float(a["duration"]) > 0:
                raise ValueError(f"note duration {a['duration']!r} must be positive")
            if not 0 <= float(a["velocity"]) <= 127:
                raise ValueError(f"velocity {a['velocity']!r} is outside 0..127")
            note = _new(song._cls("Live.Clip.MidiNote"), song=song, note_id=next(song._s["ids"]),
                        props={k: a[k] for k in ("pitch", "start_time", "duration", "velocity", "mute", "probability",
                                                 "velocity_deviation", "release_velocity")})
            made.append(note)
        self._s["notes"].extend(made)
        song._changed("add notes")
        return tuple(n._s["note_id"] for n in made)

    def _select(self, from_pitch: int, pitch_span: int, from_time: float, time_span: float) -> list[Any]:
        return [n for n in self._s["notes"]
                if from_pitch <= n._s["props"]["pitch"] < from_pitch + pitch_span
                and from_time <= n._s["props"]["start_time"] < from_time + time_span]

    def get_notes_extended(self, from_pitch: int, pitch_span: int, from_time: float, time_span: float) -> tuple[
            Any, ...]:
        self._midi_only()
        return tuple(sorted(self._select(from_pitch, pitch_span, from_time, time_span),
                            key=lambda n: (n._s["props"]["start_time"], n._s["props"]["pitch"])))

    def get_all_notes_extended(self) -> tuple[Any, ...]:
        self._midi_only()
        return tuple(sorted(self._s["notes"], key=lambda n: (n._s["props"]["start_time"], n._s["props"]["pitch"])))

    def remove_notes_extended(self, from_pitch: int, pitch_span: int, from_time: float, time_span: float) -> None:
        self._midi_only()
        gone = self._select(from_pitch, pitch_span, from_time, time_span)
        self._s["notes"] = [n for n in self._s["notes"] if n not in gone]
        self._s["song"]._changed("remove notes")


class _MidiNote:
    _s: dict[str, Any]

    @property
    def note_id(self) -> int:
        return int(self._s["note_id"])


class _Scene(_Coloured, _Named):
    @property
    def canonical_parent(self) -> Any:
        return self._s["song"]

    @property
    def clip_slots(self) -> tuple[Any, ...]:
        at = self._s["song"]._s["scenes"].index(self)
        return tuple(t._s["slots"][at] for t in self._s["song"]._s["tracks"])

    @property
    def is_empty(self) -> bool:
        return not any(slot._s["clip"] is not None for slot in self.clip_slots)


class _Application:
    _s: dict[str, Any]

    def get_document(self) -> Any:
        return self._s["song"]

    def get_major_version(self) -> int:
        return MAJOR

    def get_minor_version(self) -> int:
        return MINOR

    def get_bugfix_version(self) -> int:
        return BUGFIX

    def get_version_string(self) -> str:
        return f"{MAJOR}.{MINOR}.{BUGFIX}"


_BEHAVIOUR: dict[str, type] = {
    "Live.Song.Song": _Song,
    "Live.Song.CuePoint": _CuePoint,
    "Live.Track.Track": _Track,
    "Live.ClipSlot.ClipSlot": _ClipSlot,
    "Live.Clip.Clip": _Clip,
    "Live.Clip.MidiNote": _MidiNote,
    "Live.Scene.Scene": _Scene,
    "Live.Application.Application": _Application,
}

_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "Live.Application.get_application": lambda live: live._standin_app,
}


def undo_steps(song: Any) -> int:
    """How many undo steps the stand-in song has recorded (each a list of the changes in it)."""
    return len(song._s["history"])


def notes_of(clip: Any) -> list[tuple[int, float, float, float, bool]]:
    """(pitch, start, duration, velocity, mute) of every note, read through the stub's API."""
    return [(n.pitch, n.start_time, n.duration, n.velocity, n.mute) for n in clip.get_all_notes_extended()]
