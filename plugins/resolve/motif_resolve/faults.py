"""The sentences the Motif window shows when something stands in the way (one home for all of them)."""

from __future__ import annotations

OTIO_ROUTE = ("Without Python scripting, score the edit from a terminal instead: export the timeline "
              "(File › Export › Timeline… › OpenTimelineIO), run `motif score edit.otio`, and import the "
              "score.otio it writes (File › Import › Timeline…).")


class ResolveFault(Exception):
    """A refusal in words: shown in the window, nothing left half-placed."""


def scripting_unavailable() -> str:
    return ("Motif cannot talk to DaVinci Resolve: Python scripting is unavailable here (the free edition of "
            "Resolve 21.1 and later runs no Python scripts, and external scripting needs Studio). " + OTIO_ROUTE)


def no_project() -> str:
    return "No project is open in Resolve: open a project and a timeline, then press Score this timeline again."


def no_timeline(project: str) -> str:
    return f"Project {project!r} has no timeline open: open the edit to score in the Edit page, then try again."


def empty_timeline(name: str) -> str:
    return f"Timeline {name!r} has no clips on its video tracks: there is no cut to score."


def unreadable_media(files: list[str]) -> str:
    shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
    return (f"Resolve could not import {shown}; nothing was placed. Check that the files are WAV/PNG/MP4 that "
            "Resolve reads (the pack is in Motif's cache; `motif verify` checks it).")


def placement_failed(what: str) -> str:
    return (f"Resolve refused to {what}; the score was taken off the timeline again. Unlock the timeline's "
            "tracks and retry.")


def timeline_changed(name: str) -> str:
    return (f"Timeline {name!r} is no longer the current timeline; the score was not placed. Open it again and "
            "press Score this timeline.")
