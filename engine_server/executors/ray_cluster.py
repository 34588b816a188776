"""The Ray executor: each decoder of a job is a Ray task on a cluster; the front-end stays where it is.

The gRPC front-end, queue, journals, pack store and provenance do not move: this executor only turns a
prepared job into tasks and brings their files back. Each decoder is one task, submitted in the job's
dependency order with the tasks it consumes as arguments (the image and video tasks get the mesh
task's kit, the video task the music cue, through Ray's object store), so independent decoders run at
once on different nodes. A decoder's `Needs` become the task's resources: CPUs, GPUs, and the custom
resource `blender`, which only nodes that have bpy declare. A task re-runs elsewhere when its node is
lost (`max_retries`; a decoder's own error is never retried: it would fail again). Progress goes from
the tasks to a small actor on the front-end's node, which the front-end reads; a cancel interrupts the
task (`ray.cancel`) and kills its worker if it has not stopped within a grace period. Each file comes
back with the sha256 its node computed, and is written into the job's staging folder and hashed again
before the job manager labels and commits it, so a file damaged on the way is never stored.

Every node runs the same Motif version (checked per task): the decoders are deterministic, so a pack
made on the cluster has the same content, byte for byte, as one made locally.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine_server import __version__, pipeline
from engine_server.decoders import registry
from engine_server.decoders.base import Asset, Needs, needs_of
from engine_server.errors import (
    Cancelled,
    DecoderFailed,
    FailedPrecondition,
    MotifError,
    ResourceExhausted,
    clip,
)
from engine_server.executors.base import Executor, Outcome, ProgressFn, Throttle, decoder_failure
from engine_server.pipeline import PreparedJob
from engine_server.store import StagedFile, process_alive, safe_relpath, sha256_file

log = logging.getLogger("motif.executors.ray")
BLENDER_RESOURCE = "blender"  # nodes with Blender's bpy declare it: `ray start --resources '{"blender": 1}'`
ADDRESS_HELP = ("--ray-address takes auto (the cluster of RAY_ADDRESS or the one `ray start` made on this machine), "
                "HOST:PORT (a cluster's head) or local (start a one-machine cluster in this process)")


@dataclass(frozen=True)
class NodeResult:
    """What one decoder task hands back: its files with the sha256 its node computed, and where it ran."""

    decoder: str
    node: str  # Ray node id (hex)
    node_ip: str
    engine_version: str
    files: list[tuple[StagedFile, str, bytes | None]] = field(default_factory=list)  # None: the file is in `shared`
    shared: str = ""  # the folder on storage every node mounts that holds the files, when they are not inline

    def put(self, f: StagedFile, data: bytes | None, target: Path) -> None:
        """Write one of the files at `target` (from the object store's bytes, or the shared folder)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        if data is None:
            shutil.copyfile(Path(self.shared) / safe_relpath(f.path), target)
        else:
            target.write_bytes(data)


class ProgressBoard:
    """A Ray actor on the front-end's node: tasks post progress and where they run, the front-end reads."""

    def __init__(self) -> None:
        self.events: dict[str, list[tuple[str, float, str]]] = defaultdict(list)
        self.nodes: dict[str, dict[str, str]] = defaultdict(dict)

    def report(self, job_id: str, stage: str, fraction: float, message: str) -> None:
        self.events[job_id].append((stage, fraction, message))

    def started(self, job_id: str, decoder: str, node: str) -> None:
        self.nodes[job_id][decoder] = node

    def take(self, job_id: str) -> tuple[list[tuple[str, float, str]], dict[str, str]]:
        """The job's events since the last call, and the node each of its decoders runs (or ran) on."""
        return self.events.pop(job_id, []), dict(self.nodes.get(job_id, {}))

    def where(self, job_id: str) -> dict[str, str]:
        return dict(self.nodes.get(job_id, {}))

    def forget(self, job_id: str) -> None:
        self.events.pop(job_id, None)
        self.nodes.pop(job_id, None)


def decode_on_node(prepared: PreparedJob, name: str, job_id: str, board: Any, shared: str,
                   *upstream: NodeResult) -> NodeResult:
    """The Ray task: run one decoder in a private folder on this node, given the files of those it consumes.

    Its files go back through the object store, or, when `shared` names a folder every node mounts,
    are copied there and only their names and sha256 travel."""
    import ray

    node = ray.get_runtime_context().get_node_id()
    board.started.remote(job_id, name, node)
    root = Path(tempfile.gettempdir()) / "motif-ray"
    _sweep(root)
    work = root / f"{os.getpid()}-{job_id}-{name}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        consumed: dict[str, list[Asset]] = {}
        for result in upstream:
            for f, _, data in result.files:
                result.put(f, data, work / safe_relpath(f.path))
            consumed[result.decoder] = [Asset(f.role, f.path, f.media_type, f.meta) for f, _, _ in result.files]
        progress = Throttle(lambda stage, fraction, message: board.report.remote(job_id, stage, fraction, message))
        files = pipeline.run_decoders(prepared, work, progress, lambda: False, only=(name,), upstream=consumed)
        ip = ray.util.get_node_ip_address()
        if not shared:
            out: list[tuple[StagedFile, str, bytes | None]] = [
                (f, sha256_file(work / f.path), (work / f.path).read_bytes()) for f in files]
            return NodeResult(name, node, ip, __version__, out)
        dest = Path(shared) / job_id / name
        shutil.rmtree(dest, ignore_errors=True)  # a run of this task on a node since lost
        for f in files:
            (dest / f.path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(work / f.path, dest / f.path)
        return NodeResult(name, node, ip, __version__, [(f, sha256_file(work / f.path), None) for f in files],
                          str(dest))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _sweep(root: Path) -> None:
    """Remove work folders of tasks whose worker was killed (a forced cancel, a lost node come back)."""
    if not root.is_dir():
        return
    for folder in root.iterdir():
        pid = folder.name.split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not process_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)



class RayExecutor(Executor):
    """Runs jobs on the Ray cluster at `address` (auto | HOST:PORT | local)."""

    name = "ray"

    def __init__(self, address: str = "auto", *, shared_dir: Path | str | None = None, max_retries: int = 3,
                 cancel_grace_s: float = 1.5, object_store_mb: int = 512, poll_s: float = 0.05,
                 wait_notice_s: float = 10.0) -> None:
        self.address = address or "auto"
        self.shared_dir = Path(shared_dir).resolve() if shared_dir else None  # same path on every node
        self.max_retries = max_retries
        self.cancel_grace_s = cancel_grace_s
        self.object_store_mb = object_store_mb  # only for `local`: the cluster started here
        self.poll_s = poll_s
        self.wait_notice_s = wait_notice_s  # a task free to run that no node has taken this long is said to wait
        self._ray: Any = None
        self._task: Any = None
        self._board: Any = None
        self._owns_connection = False

    # ------------------------------------------------------------ connection

    def start(self) -> None:
        """Connect to the cluster (or start one here); FailedPrecondition with what to do when that fails."""
        if self.shared_dir is not None and not self.shared_dir.is_dir():
            raise FailedPrecondition(f"The shared folder {self.shared_dir} for Ray's files does not exist; mount it "
                                     "at the same path on every node and here, or leave --ray-shared-dir out.")
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # nothing may call home
        # A task its node's memory monitor kills is retried this often, then fails (Ray's default is forever,
        # which would leave the job waiting with no word): read by this process, the tasks' owner, at init.
        os.environ.setdefault("RAY_task_oom_retries", str(self.max_retries))
        if self.address == "local":  # a one-machine cluster: every Ray process on loopback only
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        try:
            import ray
        except ImportError:
            raise FailedPrecondition(
                "The Ray executor needs Ray, which is not installed in this environment. Run `make setup` "
                "(requirements.lock pins ray), or serve with `--executor local`.") from None
        self._ray = ray
        if ray.is_initialized():  # this process is already a driver of a cluster (tests, an embedding app)
            connected = ray.get_runtime_context().gcs_address
            if self.address not in ("auto", "local", connected):
                raise FailedPrecondition(f"This process is already connected to the Ray cluster at {connected}, "
                                         f"not {self.address}; one process can drive one cluster.")
            self._owns_connection = False
        else:
            self._connect(ray)
            self._owns_connection = True
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        here = ray.get_runtime_context().get_node_id()
        board = ray.remote(ProgressBoard).options(  # restarted (empty) if its worker is ever killed
            num_cpus=0, max_restarts=-1, scheduling_strategy=NodeAffinitySchedulingStrategy(here, soft=False))
        self._board = board.remote()
        self._task = ray.remote(decode_on_node)
        try:
            ray.get(self._board.take.remote(""), timeout=60)  # the actor is up before the first job
        except Exception as exc:
            self.close()
            raise FailedPrecondition(f"The Ray cluster could not start the engine's progress actor on this node "
                                     f"({type(exc).__name__}: {clip(str(exc), 200)}); check `ray status`.") from None
        log.info("Ray executor: %s", self.describe())

    def _connect(self, ray: Any) -> None:
        common: dict[str, Any] = {"namespace": "motif", "log_to_driver": False, "logging_level": logging.WARNING}
        if self.address == "local":
            resources = {BLENDER_RESOURCE: 1.0} if importlib.util.find_spec("bpy") is not None else {}
            ray.init(include_dashboard=False, _node_ip_address="127.0.0.1", resources=resources,
                     object_store_memory=self.object_store_mb << 20, **common)
            return
        if self.address != "auto":
            _check_reachable(self.address)
        try:
            ray.init(address=self.address, **common)
        except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
            where = "on this machine (nor in RAY_ADDRESS)" if self.address == "auto" else f"at {self.address}"
            why = clip(str(exc).strip().rstrip("."), 200)
            raise FailedPrecondition(
                f"No Ray cluster answers {where}: {why}. Start one (`ray start --head --include-dashboard=false`), "
                f"or serve with `--ray-address local`. {ADDRESS_HELP}.") from None

    def describe(self) -> str:
        """The cluster in a line: nodes, CPUs, GPUs, Blender nodes."""
        nodes = [n for n in self._ray.nodes() if n.get("Alive")]
        res = [n.get("Resources", {}) for n in nodes]
        blender = sum(1 for r in res if r.get(BLENDER_RESOURCE, 0) > 0)
        return (f"{len(nodes)} node(s), {sum(r.get('CPU', 0) for r in res):g} CPUs, "
                f"{sum(r.get('GPU', 0) for r in res):g} GPUs, {blender} with Blender")

    def running_on(self, job_id: str) -> dict[str, str]:
        """Which node each decoder of a running job was last started on (Ray node ids)."""
        return dict(self._ray.get(self._board.where.remote(job_id), timeout=10))

    def close(self) -> None:
        ray = self._ray
        if ray is None:
            return
        if self._board is not None and ray.is_initialized():
            try:
                ray.kill(self._board)
            except Exception:  # the cluster may be gone already
                log.debug("could not stop the progress actor", exc_info=True)
        self._board = None
        if self._owns_connection and ray.is_initialized():
            ray.shutdown()
        self._ray = None

    # ------------------------------------------------------------ jobs

    def run(self, job_id: str, prepared: PreparedJob, staging: Path, on_progress: ProgressFn,
            cancel: threading.Event, slot: int = 0) -> Outcome:
        ray = self._ray
        if ray is None or not ray.is_initialized():
            return FailedPrecondition("The engine is not connected to its Ray cluster any more; restart it.")
        problem = self._unplaceable(prepared.decoders)
        if problem is not None:
            return problem
        refs: dict[str, Any] = {}
        for name in prepared.decoders:
            deps = [n for n in registry.get(name).after if n in refs]
            refs[name] = self._task.options(**self._resources(name)).remote(
                prepared, name, job_id, self._board, str(self.shared_dir or ""), *[refs[n] for n in deps])
        try:
            results = self._follow(job_id, prepared, refs, on_progress, cancel)
            return results if isinstance(results, MotifError) else self._land(prepared.decoders, results, staging)
        finally:
            self._board.forget.remote(job_id)
            if self.shared_dir is not None:
                shutil.rmtree(self.shared_dir / job_id, ignore_errors=True)

    def _resources(self, name: str) -> dict[str, Any]:
        needs = needs_of(registry.get(name))
        options: dict[str, Any] = {"num_cpus": needs.cpus, "num_gpus": needs.gpus, "max_retries": self.max_retries,
                                   "retry_exceptions": False, "name": f"motif-{name}"}
        if needs.blender:
            options["resources"] = {BLENDER_RESOURCE: 1}
        return options

    def _unplaceable(self, decoders: Sequence[str]) -> MotifError | None:
        """A clear error when no live node could ever run one of the job's decoders (Ray would wait forever)."""
        totals = [n.get("Resources", {}) for n in self._ray.nodes() if n.get("Alive")]
        for name in decoders:
            needs = needs_of(registry.get(name))
            if not any(_fits(needs, r) for r in totals):
                return FailedPrecondition(
                    f"No node of the Ray cluster can run the {name} decoder: it needs {_needs_text(needs)}. Add such "
                    f"a node (`ray start --address HEAD:PORT --num-cpus N{_blender_flag(needs)}` on a machine with "
                    "this Motif installed), or leave this decoder out of the request.")
        return None

    def _follow(self, job_id: str, prepared: PreparedJob, refs: dict[str, Any], on_progress: ProgressFn,
                cancel: threading.Event) -> dict[str, NodeResult] | MotifError:
        """Wait for the job's tasks, forwarding progress; cancel them when asked or when one fails."""
        ray = self._ray
        weights = pipeline.decoder_weights(prepared)
        bases: dict[str, float] = {}
        total = 0.0
        for n, w in weights.items():  # where each decoder's share starts, as run_decoders counts it
            bases[n], total = total, total + w
        got = dict.fromkeys(weights, 0.0)  # seconds of each decoder done, as its task reports
        pending = {ref: name for name, ref in refs.items()}
        results: dict[str, NodeResult] = {}
        kill_at: float | None = None
        said: dict[str, str] = {}  # the last message of each decoder
        free_since: dict[str, float] = {}  # decoder -> when its upstream was done (it could run from then)
        started: set[str] = set()
        noticed: set[str] = set()

        def forward() -> None:
            try:
                events, where = ray.get(self._board.take.remote(job_id), timeout=10)
            except Exception:  # progress is best effort; the tasks' results are what count
                log.warning("job %s: progress from the cluster was lost", job_id, exc_info=True)
                return
            started.update(where)
            now = time.monotonic()
            for name in pending.values():
                after = [n for n in registry.get(name).after if n in refs]
                if name in started or name in noticed or any(n not in results for n in after):
                    continue
                since = free_since.setdefault(name, now)
                if now - since >= self.wait_notice_s:  # said once: the message stands until the task starts
                    noticed.add(name)
                    on_progress(name, min(sum(got.values()) / total, 1.0),
                                f"{name}: waiting for a Ray node with {_needs_text(needs_of(registry.get(name)))} free "
                                "(the cluster is busy; `ray status` shows what runs)")
            for stage, fraction, message in events:
                if stage in got:  # the task counts as if the decoders before it had run: keep its own share
                    got[stage] = min(weights[stage], max(got[stage], fraction * total - bases[stage]))
                said[stage] = message
                on_progress(stage, min(sum(got.values()) / total, 1.0), message)

        while pending:
            if cancel.is_set() and kill_at is None:
                for ref in pending:
                    ray.cancel(ref, force=False)  # KeyboardInterrupt in the task: it cleans up and stops
                kill_at = time.monotonic() + self.cancel_grace_s
            if kill_at is not None and time.monotonic() > kill_at:
                self._kill(pending)
                return Cancelled("The job was cancelled (its Ray tasks were stopped).")
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=self.poll_s)
            forward()
            for ref in ready:
                name = pending.pop(ref)
                try:
                    results[name] = ray.get(ref)
                except Exception as exc:
                    self._kill(pending)
                    if cancel.is_set():
                        return Cancelled("The job was cancelled.")
                    return self._task_error(name, exc)
                if got[name] < weights[name]:  # its last events were throttled away
                    got[name] = weights[name]
                    on_progress(name, min(sum(got.values()) / total, 1.0), said.get(name, f"{name}: done"))
                if results[name].engine_version != __version__:
                    self._kill(pending)
                    return FailedPrecondition(
                        f"Ray node {results[name].node_ip} runs Motif {results[name].engine_version}, this engine "
                        f"{__version__}: install the same version on every node (the same bytes depend on it).")
        return results

    def _kill(self, pending: dict[Any, str]) -> None:
        for ref in pending:
            try:
                self._ray.cancel(ref, force=True)
            except Exception:  # already finished or gone with its node
                log.debug("cancel of a finished task", exc_info=True)

    def _task_error(self, name: str, exc: BaseException) -> MotifError:
        """A failed task as the job's error: the decoder's own error, or what the cluster did to it."""
        from ray import exceptions as rx

        if isinstance(exc, rx.RayTaskError):
            cause = getattr(exc, "cause", None)
            if isinstance(cause, MotifError):
                return cause
            if isinstance(cause, MemoryError):
                return _out_of_memory(name, "the decoder's process could not get more memory")
            log.error("decoder %s failed on the cluster:\n%s", name, exc)
            return decoder_failure(cause if isinstance(cause, BaseException) else exc)
        if isinstance(exc, rx.OutOfMemoryError):
            return _out_of_memory(name, "Ray's memory monitor stopped it to keep the node alive")
        if isinstance(exc, rx.TaskCancelledError):
            return Cancelled("The job was cancelled.")
        if isinstance(exc, rx.WorkerCrashedError):
            return DecoderFailed(
                f"The {name} decoder crashed its Ray worker process {self.max_retries + 1} times; the job failed, the "
                "engine is still running. Try again, or another seed; if it repeats, run `motif doctor` on the nodes.")
        return DecoderFailed(
            f"The {name} decoder could not finish on the Ray cluster ({type(exc).__name__}: {clip(str(exc), 300)}); "
            f"it was re-run up to {self.max_retries} times. Check the cluster with `ray status`.")

    def _land(self, decoders: Sequence[str], results: dict[str, NodeResult], staging: Path) -> Outcome:
        """Write every task's files into staging (in the job's decoder order, as pack.json lists them locally)
        and check each against the sha256 its node computed."""
        staged: list[StagedFile] = []
        for name in decoders:
            result = results[name]
            for f, digest, data in result.files:
                target = staging / safe_relpath(f.path)
                result.put(f, data, target)
                if sha256_file(target) != digest:
                    return DecoderFailed(
                        f"{f.path} from the {name} decoder arrived from Ray node {result.node_ip} with other bytes "
                        "than the node wrote (sha256 mismatch); nothing was stored. Run the job again.")
                staged.append(StagedFile(f.role, f.path, f.media_type, f.decoder, {**f.meta, "node": result.node}))
        return staged


def _fits(needs: Needs, resources: dict[str, float]) -> bool:
    return (resources.get("CPU", 0.0) >= needs.cpus and resources.get("GPU", 0.0) >= needs.gpus
            and (not needs.blender or resources.get(BLENDER_RESOURCE, 0.0) >= 1))


def _needs_text(needs: Needs) -> str:
    parts = [f"{needs.cpus:g} CPU(s)"]
    if needs.gpus:
        parts.append(f"{needs.gpus:g} GPU(s)")
    if needs.blender:
        parts.append(f"the `{BLENDER_RESOURCE}` resource (Blender's bpy on that machine)")
    return ", ".join(parts)


def _blender_flag(needs: Needs) -> str:
    return f" --resources '{{\"{BLENDER_RESOURCE}\": 1}}'" if needs.blender else ""


def _out_of_memory(name: str, how: str) -> MotifError:
    return ResourceExhausted(
        f"The {name} decoder ran out of memory on its Ray node ({how}). Give the nodes more memory, ask for less "
        "(a smaller size, a shorter clip, draft quality), or run fewer jobs at once (--workers).")


def _check_reachable(address: str, timeout_s: float = 3.0) -> None:
    """Fail in seconds, with a sentence, when nothing listens at HOST:PORT (ray.init would retry for a minute)."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise FailedPrecondition(f"{clip(address, 80)!r} is not a Ray address. {ADDRESS_HELP}.")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            pass
    except OSError as exc:
        raise FailedPrecondition(
            f"No Ray cluster answers at {address} ({exc.strerror or exc}). Start its head there (`ray start "
            f"--head --port {port} --include-dashboard=false`), or serve with `--ray-address local`. {ADDRESS_HELP}."
        ) from None
