"""Place a score pack on the timeline it was made for: one run, fully placed or not at all.

Order (so that nothing half-placed stays): import the mix and stems into the Motif bin, add a new
stereo audio track and put the mix at the timeline's first frame, take off the earlier run's hit
markers and add this run's, and only then delete the earlier run's track. Any refusal undoes what
this run made and puts the earlier markers back.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from . import faults, media
from .kit import timeline_score as ts
from .timeline import TRACK_NAME

# AppendToTimeline's endFrame: the last source frame, inclusive (hosts.md §3: contested; one constant).
END_INCLUSIVE = 1


class ScoreJob:
    """The kit's ImportJob for Score this timeline (steps run on Resolve's UI thread, a slice per tick)."""

    def __init__(self, resolve: Any, timeline: Any, pack_dir: Path, manifest: Mapping[str, Any]) -> None:
        self.resolve, self.timeline, self.pack_dir, self.manifest = resolve, timeline, Path(pack_dir), manifest
        self.project = resolve.GetProjectManager().GetCurrentProject()
        self.pool = self.project.GetMediaPool() if self.project else None
        self.new_track = 0
        self.new_markers: list[str] = []
        self.old_markers: dict[float, dict[str, Any]] = {}
        self.made_items: list[Any] = []
        self.placed = 0
        self.skipped: list[int] = []

    def steps(self) -> Iterator[tuple[float, str]]:
        try:
            yield from self._place()
        except Exception:
            self.abort()
            raise

    def _place(self) -> Iterator[tuple[float, str]]:
        tl = self.timeline
        if not self.project or not self.pool:
            raise faults.ResolveFault(faults.no_project())
        current = self.project.GetCurrentTimeline()
        if not current or current.GetUniqueId() != tl.GetUniqueId():
            raise faults.ResolveFault(faults.timeline_changed(str(tl.GetName())))
        mix, stems = ts.score_audio(self.pack_dir, self.manifest)
        frames = ts.edit_frames(self.manifest)
        yield 0.1, "Importing the score into the Motif bin…"
        root = self.pool.GetRootFolder()
        motif_bin, _ = media.sub_bin(self.pool, root, media.BIN)
        items, self.made_items = media.import_files(self.pool, motif_bin, [mix, *stems])
        media.tag(items, self.manifest, ["mix"] + ["stem"] * len(stems))
        yield 0.4, "Adding the Motif Score track…"
        old_tracks = [k for k in range(1, int(tl.GetTrackCount("audio")) + 1)
                      if str(tl.GetTrackName("audio", k)) == TRACK_NAME]
        if not tl.AddTrack("audio", "stereo"):
            raise faults.ResolveFault(faults.placement_failed("add a stereo audio track"))
        self.new_track = int(tl.GetTrackCount("audio"))
        tl.SetTrackName("audio", self.new_track, TRACK_NAME)
        start = int(tl.GetStartFrame())
        placed = self.pool.AppendToTimeline([{
            "mediaPoolItem": items[0], "startFrame": 0, "endFrame": frames - END_INCLUSIVE, "mediaType": 2,
            "trackIndex": self.new_track, "recordFrame": start}])
        on_track = tl.GetItemListInTrack("audio", self.new_track) or []
        if not placed or len(on_track) != 1 or int(on_track[0].GetStart(False)) != start:
            raise faults.ResolveFault(faults.placement_failed("place the score at the start of the timeline"))
        yield 0.7, "Adding a marker per hit…"
        self.old_markers = {f: dict(m) for f, m in (tl.GetMarkers() or {}).items()
                            if str(m.get("customData", "")).startswith(ts.MARKER_TAG)}
        for m in self.old_markers.values():
            tl.DeleteMarkerByCustomData(str(m["customData"]))
        for hit in ts.score_markers(self.manifest):
            if tl.AddMarker(hit.frame, hit.color, hit.name, hit.note, 1, hit.custom_data):
                self.new_markers.append(hit.custom_data)
            else:
                self.skipped.append(hit.frame)  # a marker of the editor's own on that frame: theirs stays
        yield 0.9, "Removing the earlier score…"
        for k in sorted(old_tracks, reverse=True):
            if not tl.DeleteTrack("audio", k):
                raise faults.ResolveFault(faults.placement_failed("delete the earlier Motif Score track"))
            if k < self.new_track:
                self.new_track -= 1
        self.placed = len(self.new_markers)
        self.new_track, self.new_markers, self.made_items, self.old_markers = 0, [], [], {}
        yield 1.0, "Score placed."

    def abort(self) -> None:
        """Take off everything this run added and put back the markers it took off."""
        tl = self.timeline
        for cd in self.new_markers:
            tl.DeleteMarkerByCustomData(cd)
        for frame, m in self.old_markers.items():
            tl.AddMarker(frame, m.get("color", "Blue"), m.get("name", ""), m.get("note", ""),
                         m.get("duration", 1), m.get("customData", ""))
        if self.new_track:
            tl.DeleteTrack("audio", self.new_track)
        if self.made_items and self.pool:
            self.pool.DeleteClips(self.made_items)
        self.new_track, self.new_markers, self.made_items, self.old_markers = 0, [], [], {}

    def summary(self) -> str:
        hits = len(ts.score_markers(self.manifest))
        extra = (f"; {len(self.skipped)} hit(s) fell on frames that already hold a marker of yours"
                 if self.skipped else "")
        return (f"Scored {self.timeline.GetName()!r}: the mix is on the {TRACK_NAME} track from the first frame, "
                f"{hits - len(self.skipped)} hit marker(s){extra}. Mix and stems are in the Motif bin.")


class PackJob:
    """The kit's ImportJob for Import pack: image, clip, mix and stems into Motif/<pack>."""

    def __init__(self, resolve: Any, pack_dir: Path, manifest: Mapping[str, Any]) -> None:
        self.resolve, self.pack_dir, self.manifest = resolve, Path(pack_dir), manifest
        project = resolve.GetProjectManager().GetCurrentProject()
        if not project:
            raise faults.ResolveFault(faults.no_project())
        self.pool = project.GetMediaPool()
        self.made_bin: Any = None
        self.made_items: list[Any] = []
        self.count = 0

    def bin_name(self) -> str:
        from .kit import packinfo

        return f"{packinfo.short_prompt(self.manifest, 40)} [{str(self.manifest.get('pack_id', ''))[:8]}]"

    def steps(self) -> Iterator[tuple[float, str]]:
        try:
            files = ts.pack_media(self.pack_dir, self.manifest)
            if not files:
                raise faults.ResolveFault("The pack has no image, clip or music for Resolve.")
            yield 0.2, "Making the pack's bin…"
            motif_bin, _ = media.sub_bin(self.pool, self.pool.GetRootFolder(), media.BIN)
            folder, made = media.sub_bin(self.pool, motif_bin, self.bin_name())
            self.made_bin = folder if made else None
            yield 0.4, f"Importing {len(files)} file(s)…"
            items, self.made_items = media.import_files(self.pool, folder, [p for _, p in files])
            media.tag(items, self.manifest, [k for k, _ in files])
            self.count = len(items)
            self.made_bin, self.made_items = None, []
            yield 1.0, "Pack imported."
        except Exception:
            self.abort()
            raise

    def abort(self) -> None:
        if self.made_items:
            self.pool.DeleteClips(self.made_items)
        if self.made_bin:
            self.pool.DeleteFolders([self.made_bin])
        self.made_bin, self.made_items = None, []

    def summary(self) -> str:
        return f"Imported {self.count} clip(s) into the bin Motif/{self.bin_name()}."
