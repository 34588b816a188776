"""Progress in the editor, two kinds for two phases.

While the engine works and the pack downloads, nothing blocks: an Editor Utility *task* shows a
non-modal notification (bottom right, with a throbber and a Cancel button) whose text the Slate
post-tick callback updates (runtime.py). The import itself must run on the game thread in one go
(Unreal's importers are synchronous), so it shows a modal slow task with Cancel, and only then.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import unreal


@unreal.uclass()
class MotifProgressTask(unreal.EditorUtilityTask):
    """The notification of one Motif task (Unreal draws it; Cancel sets was_cancel_requested)."""


class Notification:
    """At most one live notification; `update` and `finish` are safe to call when there is none."""

    def __init__(self) -> None:
        self.task: Any = None
        self.text = ""

    @property
    def active(self) -> bool:
        return self.task is not None

    def start(self, text: str) -> None:
        self.finish(True)
        task = MotifProgressTask()
        unreal.get_editor_subsystem(unreal.EditorUtilitySubsystem).register_and_execute_task(task)
        self.task = task
        self.update(text)

    def update(self, text: str) -> None:
        if self.task is not None and text != self.text:
            self.text = text
            self.task.set_task_notification_text(text)

    def cancel_requested(self) -> bool:
        return self.task is not None and bool(self.task.was_cancel_requested())

    def finish(self, success: bool) -> None:
        task, self.task, self.text = self.task, None, ""
        if task is not None:
            task.finish_executing_task(success)


class ImportProgress:
    """The modal slow task of an import: `with ImportProgress(steps, title) as p: p.step(text)`.
    `step` raises ImportCancelled when the designer pressed Cancel."""

    def __init__(self, steps: int, title: str) -> None:
        self._task = unreal.ScopedSlowTask(float(max(steps, 1)), title)

    def __enter__(self) -> ImportProgress:
        self._task.__enter__()
        self._task.make_dialog(True)
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._task.__exit__(kind, value, tb)

    def step(self, text: str) -> None:
        if self._task.should_cancel():
            raise ImportCancelled("Import cancelled; everything it had made was removed.")
        self._task.enter_progress_frame(1.0, text)


class ImportCancelled(Exception):
    """The designer pressed Cancel in the import's slow task."""
