"""A DaVinci Resolve stand-in generated from `fusionscript-stubs`, for the plugin's tests.

Every object is a `StubObject` of one stub class: a PascalCase name the stub's class lacks raises
AttributeError, a name it has but this world does not model raises NotImplementedError, and every
call is bound against the stub's overloads (arity, and values of Literal-typed parameters such as
MarkerColor, TrackType, SubTrackType) before it runs; each call is recorded with the thread it came
from. A behaviour class defining a PascalCase method the stub lacks refuses to load. Behaviour follows
the real API as documented (README in the stub) and hosts.md §3: 1-based track indices, False/None/[]
instead of exceptions, recordFrame absolute, marker frames as offsets from the timeline start,
AppendToTimeline only into the current timeline (a truthy list but nothing placed over an occupied
range), at most one marker per frame. Media is read by real readers (wave, Pillow, PyAV): a file they
cannot read is not imported.
"""

from __future__ import annotations

import itertools
import threading
import wave
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from resolve_stubspec import Param, Spec, load

_ids = itertools.count(1)


@dataclass
class Call:
    cls: str
    name: str
    args: tuple[Any, ...]
    main_thread: bool


@dataclass
class World:
    calls: list[Call] = field(default_factory=list)
    spec: Spec = field(default_factory=load)

    def record(self, cls: str, name: str, args: tuple[Any, ...]) -> None:
        self.calls.append(Call(cls, name, args, threading.current_thread() is threading.main_thread()))


def _fits(spec: Spec, params: list[Param], args: tuple[Any, ...]) -> bool:
    fixed = [p for p in params if p.kind == "positional"]
    vararg = any(p.kind == "vararg" for p in params)
    required = sum(1 for p in fixed if not p.has_default)
    if len(args) < required or (len(args) > len(fixed) and not vararg):
        return False
    for p, value in zip(fixed, args, strict=False):
        if p.literal and not (value is None and p.optional) and value not in spec.literals[p.literal]:
            return False
    return True


class StubObject:
    """Base of every stand-in class: `STUB` names the stub class it stands for."""

    STUB = ""

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        methods = load().classes.get(cls.STUB)
        if methods is None:
            raise TypeError(f"{cls.__name__}: the stub has no class {cls.STUB!r}")
        extra = [n for n in vars(cls) if n[:1].isupper() and n != "STUB" and n not in methods]
        if extra:
            raise TypeError(f"{cls.__name__} models {', '.join(extra)}, which {cls.STUB} lacks in the stub")

    def __init__(self, world: World) -> None:
        object.__setattr__(self, "_world", world)
        object.__setattr__(self, "_uid", f"{type(self).STUB.lower()}-{next(_ids)}")

    def __getattribute__(self, name: str) -> Any:
        if not name[:1].isupper() or name == "STUB":
            return object.__getattribute__(self, name)
        cls = type(self)
        world: World = object.__getattribute__(self, "_world")
        overloads = world.spec.classes[cls.STUB].get(name)
        if overloads is None:
            raise AttributeError(f"{cls.STUB}.{name} is not in fusionscript-stubs")
        impl = getattr(cls, name, None)
        if impl is None:
            raise NotImplementedError(f"the stand-in does not model {cls.STUB}.{name}")

        def call(*args: Any, **kwargs: Any) -> Any:
            if kwargs:
                raise TypeError(f"{cls.STUB}.{name}: Resolve's API takes positional arguments only ({kwargs})")
            if not any(_fits(world.spec, ps, args) for ps in overloads):
                raise TypeError(f"{cls.STUB}.{name}{args!r} matches no signature in fusionscript-stubs")
            world.record(cls.STUB, name, args)
            return impl(self, *args)

        return call


# ---------------------------------------------------------------------------------------------- media


def read_media(path: Path) -> dict[str, Any] | None:
    """What Resolve learns of a file on import, from real readers; None when they cannot read it."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".wav":
            with wave.open(str(path), "rb") as w:
                if w.getnframes() <= 0:
                    return None
                return {"Type": "Audio", "Sample Rate": str(w.getframerate()), "Audio Ch": str(w.getnchannels()),
                        "samples": w.getnframes(), "rate": w.getframerate()}
        if suffix in (".png", ".jpg", ".jpeg", ".tif", ".tiff"):
            from PIL import Image

            with Image.open(path) as im:
                im.verify()
                return {"Type": "Still", "Resolution": f"{im.width}x{im.height}", "Frames": "1"}
        if suffix in (".mp4", ".mov", ".mkv"):
            import av

            with av.open(str(path)) as c:
                s = c.streams.video[0]
                frames = s.frames or 0
                return {"Type": "Video", "FPS": str(float(s.average_rate or 0)), "Frames": str(frames),
                        "Resolution": f"{s.width}x{s.height}"}
    except Exception:
        return None
    return None


# ---------------------------------------------------------------------------------------------- classes


class FakeMediaPoolItem(StubObject):
    STUB = "MediaPoolItem"

    def __init__(self, world: World, path: Path, info: dict[str, Any]) -> None:
        super().__init__(world)
        self.path, self.info = path, info
        self.metadata: dict[str, str] = {}
        self.third_party: dict[str, str] = {}

    def GetName(self) -> str:
        return self.path.name

    def GetUniqueId(self) -> str:
        return self._uid

    def GetClipProperty(self, propertyName: str | None = None) -> Any:
        props = {"File Path": str(self.path), "Clip Name": self.path.name,
                 **{k: v for k, v in self.info.items() if k[:1].isupper()}}
        return props if propertyName is None else props.get(propertyName, "")

    def GetMetadata(self, metadataType: str | None = None) -> Any:
        return dict(self.metadata) if metadataType is None else self.metadata.get(metadataType, "")

    def SetMetadata(self, key: Any, value: Any = None) -> bool:
        allowed = {"Comments", "Description", "Keywords", "Scene", "Shot", "Take", "Good Take"}
        pairs = key if isinstance(key, dict) else {key: value}
        if any(k not in allowed or not isinstance(v, str) for k, v in pairs.items()):
            return False  # Resolve refuses a key it does not know, or a value that is not text
        self.metadata.update(pairs)
        return True

    def GetThirdPartyMetadata(self, metadataType: str | None = None) -> Any:
        return dict(self.third_party) if metadataType is None else self.third_party.get(metadataType, "")

    def SetThirdPartyMetadata(self, key: Any, value: Any = None) -> bool:
        pairs = key if isinstance(key, dict) else {key: value}
        if any(not isinstance(v, str) for v in pairs.values()):
            return False
        self.third_party.update(pairs)
        return True


class FakeFolder(StubObject):
    STUB = "Folder"

    def __init__(self, world: World, name: str) -> None:
        super().__init__(world)
        self.name = name
        self.clips: list[FakeMediaPoolItem] = []
        self.subfolders: list[FakeFolder] = []

    def GetName(self) -> str:
        return self.name

    def GetClipList(self) -> list[FakeMediaPoolItem]:
        return list(self.clips)

    def GetSubFolderList(self) -> list[FakeFolder]:
        return list(self.subfolders)

    def GetUniqueId(self) -> str:
        return self._uid


@dataclass
class Track:
    name: str
    subtype: str = ""
    items: list[FakeTimelineItem] = field(default_factory=list)


class FakeTimelineItem(StubObject):
    STUB = "TimelineItem"

    def __init__(self, world: World, name: str, start: int, end: int, media: FakeMediaPoolItem | None = None,
                 source_start: int = 0) -> None:
        super().__init__(world)
        self.name, self.start, self.end, self.media, self.source_start = name, start, end, media, source_start
        self.markers: dict[float, dict[str, Any]] = {}

    def GetName(self) -> str:
        return self.name

    def GetStart(self, subframe_precision: bool = False) -> int:
        return self.start

    def GetEnd(self, subframe_precision: bool = False) -> int:
        return self.end

    def GetDuration(self, subframe_precision: bool = False) -> int:
        return self.end - self.start

    def GetSourceStartFrame(self) -> int:
        return self.source_start

    def GetLeftOffset(self, subframe_precision: bool = False) -> int:
        return self.source_start

    def GetMediaPoolItem(self) -> FakeMediaPoolItem | None:
        return self.media

    def GetMarkers(self) -> dict[float, dict[str, Any]]:
        return {f: dict(m) for f, m in self.markers.items()}

    def GetUniqueId(self) -> str:
        return self._uid


class FakeTimeline(StubObject):
    STUB = "Timeline"

    def __init__(self, world: World, project: FakeProject, name: str, rate: str = "24", start: int = 86400,
                 start_tc: str = "01:00:00:00") -> None:
        super().__init__(world)
        self.project, self.name, self.rate, self.start, self.start_tc = project, name, rate, start, start_tc
        self.tracks: dict[str, list[Track]] = {"video": [Track("Video 1")], "audio": [Track("Audio 1", "stereo")],
                                               "subtitle": []}
        self.markers: dict[float, dict[str, Any]] = {}

    def _track(self, kind: str, index: Any) -> Track | None:
        tracks = self.tracks.get(kind, [])
        return tracks[index - 1] if isinstance(index, int) and 1 <= index <= len(tracks) else None

    def GetName(self) -> str:
        return self.name

    def GetUniqueId(self) -> str:
        return self._uid

    def GetStartFrame(self) -> int:
        return self.start

    def GetEndFrame(self) -> int:
        ends = [i.end for ts in self.tracks.values() for t in ts for i in t.items]
        return max(ends, default=self.start)

    def GetStartTimecode(self) -> str:
        return self.start_tc

    def GetSetting(self, settingName: str) -> str:
        return {"timelineFrameRate": self.rate}.get(settingName, "")

    def GetTrackCount(self, trackType: str) -> int:
        return len(self.tracks[trackType])

    def AddTrack(self, trackType: str, sub: Any) -> bool:
        if trackType == "audio" and not isinstance(sub, str):
            return False
        n = len(self.tracks[trackType]) + 1
        self.tracks[trackType].append(Track(f"{trackType.title()} {n}", sub if isinstance(sub, str) else ""))
        return True

    def DeleteTrack(self, trackType: str, trackIndex: int) -> bool:
        t = self._track(trackType, trackIndex)
        if t is None:
            return False
        self.tracks[trackType].remove(t)
        return True

    def GetTrackName(self, trackType: str, trackIndex: int) -> str:
        t = self._track(trackType, trackIndex)
        return t.name if t else ""

    def SetTrackName(self, trackType: str, trackIndex: int, name: str) -> bool:
        t = self._track(trackType, trackIndex)
        if t is None:
            return False
        t.name = name
        return True

    def GetTrackSubType(self, trackType: str, trackIndex: int) -> str:
        t = self._track(trackType, trackIndex)
        return t.subtype if t else ""

    def GetItemListInTrack(self, trackType: str, index: int) -> list[FakeTimelineItem]:
        t = self._track(trackType, index)
        return sorted(t.items, key=lambda i: i.start) if t else []

    def GetMarkers(self) -> dict[float, dict[str, Any]]:
        return {f: dict(m) for f, m in sorted(self.markers.items())}

    def AddMarker(self, frameId: Any, color: str, name: str, note: str, duration: Any,
                  customData: str | None = None) -> bool:
        frame = float(frameId)
        length = max(self.GetEndFrame() - self.start, 1)
        if frame in self.markers or not 0 <= frame < length or float(duration) < 1:
            return False
        self.markers[frame] = {"color": color, "duration": float(duration), "note": note, "name": name,
                               "customData": customData or ""}
        return True

    def DeleteMarkerByCustomData(self, customData: str) -> bool:
        for f, m in list(self.markers.items()):
            if m["customData"] == customData:
                del self.markers[f]
                return True
        return False

    def DeleteMarkerAtFrame(self, frameNum: Any) -> bool:
        return self.markers.pop(float(frameNum), None) is not None


class FakeMediaPool(StubObject):
    STUB = "MediaPool"

    def __init__(self, world: World, project: FakeProject) -> None:
        super().__init__(world)
        self.project = project
        self.root = FakeFolder(world, "Master")
        self.current = self.root

    def _folders(self, top: FakeFolder | None = None) -> list[FakeFolder]:
        top = top or self.root
        return [top, *(f for s in top.subfolders for f in self._folders(s))]

    def GetRootFolder(self) -> FakeFolder:
        return self.root

    def GetCurrentFolder(self) -> FakeFolder:
        return self.current

    def SetCurrentFolder(self, folder: Any) -> bool:
        if folder not in self._folders():
            return False
        self.current = folder
        return True

    def AddSubFolder(self, folder: Any, name: str) -> FakeFolder | None:
        if folder not in self._folders() or not name:
            return None
        sub = FakeFolder(self._world, name)
        folder.subfolders.append(sub)
        return sub

    def DeleteFolders(self, subfolders: list[Any]) -> bool:
        for f in subfolders:
            for parent in self._folders():
                if f in parent.subfolders:
                    parent.subfolders.remove(f)
                    if self.current in self._folders(f):
                        self.current = self.root
        return True

    def ImportMedia(self, items: list[Any]) -> list[FakeMediaPoolItem]:
        out = []
        for p in items:
            if not isinstance(p, str):
                return []
            info = read_media(Path(p))
            if info is None:
                continue  # Resolve skips what it cannot read
            item = FakeMediaPoolItem(self._world, Path(p), info)
            self.current.clips.append(item)
            out.append(item)
        return out

    def DeleteClips(self, clips: list[Any]) -> bool:
        for f in self._folders():
            f.clips = [c for c in f.clips if c not in clips]
        return True

    def AppendToTimeline(self, *args: Any) -> list[FakeTimelineItem] | bool:
        tl = self.project.current_timeline
        if tl is None:
            return False
        infos = args[0] if len(args) == 1 and isinstance(args[0], list) else list(args)
        out: list[FakeTimelineItem] = []
        for info in infos:
            if not isinstance(info, dict):
                return False
            if set(info) - {"mediaPoolItem", "startFrame", "endFrame", "mediaType", "trackIndex", "recordFrame"}:
                return False
            media = info.get("mediaPoolItem")
            if not isinstance(media, FakeMediaPoolItem):
                return False
            kind = "audio" if info.get("mediaType") == 2 or media.info.get("Type") == "Audio" else "video"
            track = tl._track(kind, info.get("trackIndex", 1))
            if track is None:
                return False
            first, last = int(info["startFrame"]), int(info["endFrame"])
            start = int(info["recordFrame"])
            end = start + (last - first + 1)  # endFrame inclusive
            if "samples" in media.info:
                media_frames = int(Fraction(media.info["samples"], media.info["rate"]) * Fraction(tl.rate))
                end = min(end, start + media_frames - first)
            item = FakeTimelineItem(self._world, media.GetName(), start, end, media, first)
            if not any(i.start < end and start < i.end for i in track.items):
                track.items.append(item)
            out.append(item)  # over an occupied range: a truthy list, nothing placed (hosts.md §3)
        return out


class FakeProject(StubObject):
    STUB = "Project"

    def __init__(self, world: World, name: str) -> None:
        super().__init__(world)
        self.name = name
        self.pool = FakeMediaPool(world, self)
        self.timelines: list[FakeTimeline] = []
        self.current_timeline: FakeTimeline | None = None

    def GetName(self) -> str:
        return self.name

    def GetMediaPool(self) -> FakeMediaPool:
        return self.pool

    def GetCurrentTimeline(self) -> FakeTimeline | None:
        return self.current_timeline

    def SetCurrentTimeline(self, timeline: Any) -> bool:
        if timeline not in self.timelines:
            return False
        self.current_timeline = timeline
        return True

    def GetTimelineCount(self) -> int:
        return len(self.timelines)

    def GetSetting(self, settingName: str) -> str:
        return {"timelineFrameRate": "24"}.get(settingName, "")

    def new_timeline(self, name: str, **kw: Any) -> FakeTimeline:
        tl = FakeTimeline(self._world, self, name, **kw)
        self.timelines.append(tl)
        self.current_timeline = tl
        return tl


class FakeProjectManager(StubObject):
    STUB = "ProjectManager"

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.current: FakeProject | None = None

    def GetCurrentProject(self) -> FakeProject | None:
        return self.current


class FakeResolve(StubObject):
    STUB = "Resolve"

    def __init__(self, world: World | None = None) -> None:
        super().__init__(world or World())
        self.pm = FakeProjectManager(self._world)

    @property
    def world(self) -> World:
        return self._world  # type: ignore[no-any-return]

    def GetProjectManager(self) -> FakeProjectManager:
        return self.pm

    def GetProductName(self) -> str:
        return "DaVinci Resolve Studio"

    def GetVersionString(self) -> str:
        return "21.0.0"

    def Fusion(self) -> None:
        return None  # the stub's Fusion is empty: the UIManager cannot be stood in for

    def open_project(self, name: str = "Film") -> FakeProject:
        self.pm.current = FakeProject(self._world, name)
        return self.pm.current


def place(timeline: FakeTimeline, track: int, media: FakeMediaPoolItem, record: int, source_in: int, length: int,
          name: str = "") -> FakeTimelineItem:
    """Put an item on a video track as an editor would (test set-up, not an API call)."""
    tracks = timeline.tracks["video"]
    while len(tracks) < track:
        tracks.append(Track(f"Video {len(tracks) + 1}"))
    item = FakeTimelineItem(timeline._world, name or media.GetName(), record, record + length, media, source_in)
    tracks[track - 1].items.append(item)
    return item



