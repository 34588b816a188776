"""How Motif reports a failure in the editor: one `unreal.log_error` line (the Output Log keeps it)
and one modal message box the designer has to acknowledge; and how a failed import is undone."""

from __future__ import annotations

import unreal

TITLE = "Motif"


def report(message: str, title: str = TITLE) -> None:
    """An error the designer must see: the log line first (it survives a dismissed dialog)."""
    unreal.log_error(f"Motif: {message}")
    unreal.EditorDialog.show_message(title, message, unreal.AppMsgType.OK, unreal.AppReturnType.OK,
                                     unreal.AppMsgCategory.ERROR)


def warn(message: str) -> None:
    unreal.log_warning(f"Motif: {message}")


def info(message: str) -> None:
    unreal.log(f"Motif: {message}")


def remove_folder(path: str) -> bool:
    """Delete a content folder and every asset in it (a failed or replaced import). True if it existed."""
    if not unreal.EditorAssetLibrary.does_directory_exist(path):
        return False
    if not unreal.EditorAssetLibrary.delete_directory(path):
        unreal.log_error(f"Motif: could not delete {path}; delete it in the Content Browser.")
    return True


def remove_actors(actors: list[object]) -> int:
    """Destroy level actors Motif placed (a failed or replaced import); returns how many."""
    live = [a for a in actors if a is not None]
    if live:
        unreal.get_editor_subsystem(unreal.EditorActorSubsystem).destroy_actors(live)
    return len(live)
