"""The in-process executor: decoders run in the job manager's slot thread, in the server's own process.

No process to spawn, no pickling, decoder imports shared with the caller: what tests and benchmarks
want. The price is isolation: a decoder that crashes its process takes the server with it, and a
cancel is only cooperative (decoders poll between steps), so `motif serve` uses it only when asked.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from engine_server import pipeline
from engine_server.errors import MotifError
from engine_server.executors.base import LOCAL_NODE, Executor, Outcome, ProgressFn, Throttle, decoder_failure, made_on
from engine_server.pipeline import PreparedJob

log = logging.getLogger("motif.executors")


class InProcessExecutor(Executor):
    name = "inprocess"

    def run(self, job_id: str, prepared: PreparedJob, staging: Path, on_progress: ProgressFn,
            cancel: threading.Event, slot: int = 0) -> Outcome:
        try:
            files = pipeline.run_decoders(prepared, staging, Throttle(on_progress), cancel.is_set)
        except MotifError as exc:
            return exc
        except Exception as exc:
            log.exception("decoder failure in job %s", job_id)
            return decoder_failure(exc)
        return made_on(files, LOCAL_NODE)
