"""The seam between the job manager and whatever runs a job's decoders.

The job manager (engine_server.jobs) owns the queue, the journals, staging and the commit; an executor
only runs a prepared job's decoders and hands back the files they wrote into the job's staging folder.
Three implement it: in-process (the slot's own thread: tests and benchmarks), local-process (a warm
child process per slot: the default, a crashing decoder cannot take the server down) and Ray (each
decoder a task on a cluster). The decoders never learn which one runs them.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from engine_server.errors import DecoderFailed, MotifError
from engine_server.pipeline import PreparedJob
from engine_server.store import StagedFile

# (stage, fraction of the whole job, message), as pipeline.run_decoders reports it.
ProgressFn = Callable[[str, float, str], None]
Outcome = list[StagedFile] | MotifError
LOCAL_NODE = "local"  # the node name of assets made on the engine's own machine


class Executor:
    """Runs the decoders of one prepared job at a time per slot; thread-safe across slots."""

    name: str = ""  # recorded in pack.json ("executor")

    def start(self) -> None:
        """Check that jobs can run at all (raise a MotifError with a sentence if not). Called once."""

    def warm(self, slot: int) -> None:
        """Called by a slot's thread before its first job, to pay start-up costs while idle."""

    def run(self, job_id: str, prepared: PreparedJob, staging: Path, on_progress: ProgressFn,
            cancel: threading.Event, slot: int = 0) -> Outcome:
        """Run the job's decoders to their end; their files are in `staging` when this returns a list.

        `cancel` is set when the job is cancelled: return Cancelled soon after. Never raises for a
        decoder's failure: that is the returned MotifError."""
        raise NotImplementedError

    def close(self) -> None:
        """Release workers and connections; jobs are over when this is called."""


class Throttle:
    """Forward progress at most every 50 ms (and always the job's last step)."""

    def __init__(self, send: ProgressFn, every_s: float = 0.05) -> None:
        self.send = send
        self.every_s = every_s
        self.last = 0.0

    def __call__(self, stage: str, fraction: float, message: str) -> None:
        now = time.monotonic()
        if now - self.last >= self.every_s or fraction >= 1.0:
            self.last = now
            self.send(stage, fraction, message)


def made_on(files: list[StagedFile], node: str) -> list[StagedFile]:
    """Files with the node that made them in their manifest meta (pack.json says where each asset was made;
    the meta is not part of the asset's bytes, its signature or the pack id)."""
    return [replace(f, meta={**f.meta, "node": node}) for f in files]


def decoder_failure(exc: BaseException) -> MotifError:
    """A decoder's unexpected exception as the job's error (its traceback goes to the log by the caller)."""
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return DecoderFailed(f"A decoder failed: {detail}")


def crash_error(exitcode: int | None) -> MotifError:
    """The job error when a decoder's process died under it."""
    if exitcode is None:
        how = "it stopped answering"
    elif exitcode >= 0:
        how = f"exit code {exitcode}"
    else:
        how = f"signal {-exitcode}"
    return DecoderFailed(
        f"A decoder crashed and its worker process stopped ({how}); the job failed, the engine is still running. "
        "Try again, or another seed; if it repeats, run `motif doctor`."
    )
