"""The `ComputeBackend` port: run tasks on some platform and report what happened.

An adapter receives `Invocation`s (a `Task` plus the executor's key) through `invoke` and must
get each to a runtime whose entry point hands the payload to `wren.worker.handle` (which runs
`wren.worker.run_task`, the same code on every platform). It must return from `invoke`
quickly: the run itself is asynchronous. `Task`, `StatusDocument` and `Invocation` are
re-exported from `wren.ports`; the rest of the wire protocol is `wren.protocol`. Workers write status documents and results
to storage; an adapter with the `push_status` capability also hands each status document to
the `InvocationListener` as it is written, and one with `supervises_calls` reports calls whose
worker died, was killed or timed out through `calls_lost`, with a reason a user can act on.

Credentials: the adapter is given a `WorkerStorage` (storage backend name and full config,
secrets included) at construction and delivers it to its workers through the platform's own
secret mechanism. It must never copy it into a task payload. It delivers `config` whole: the
client may add the secrets of its other services there (under `wren_services`, such as the
AMQP URL of a RabbitMQ status monitor), which the worker's `open_storage` takes out.

Configuration: `config` is the adapter's validated section (`config_schema`), a flat mapping.
Users write it in their config file's section or pass its keys as flat keywords
(`FunctionExecutor(backend="foo", my_key=1)`): a keyword goes to the section whose schema
declares it, so an adapter's own keys must not collide with the storage section's.

Timeouts: `run_task` enforces a call's `timeout` only when it runs on a main thread (a signal
interrupts the call, `wren.worker.timeouts`); a runtime that runs tasks on other threads
relies on its platform's limit. A call stuck in C is not interrupted at all: only a
supervisor outside the process (`wren.worker.pool.WorkerPool`) can kill it.

`call_cost` optionally prices a finished call (for `job_summary`); the default cannot.

Runtime management (`default_runtime_name`, `build_runtime`, `deploy_runtime`,
`update_runtime`, `delete_runtime`, `list_runtimes`) is optional; the defaults raise
`NotSupportedError` naming the backend. The `wren runtime` verbs call them; a runtime name is
a container image name (`wren.ports.images.check_image_name`), and `default` stands for
`default_runtime_name()`. `build_runtime` gets an `ImageBuilder` from its caller, so a backend
never talks to a container engine itself. A backend ships its runtime's Dockerfiles and
entry points as package data (`runtime_dockerfile`), so `wren runtime build` needs no
source checkout; it builds for `build_platform()` (the `runtime_platform` key), never just for
the machine that builds.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import attrs

from wren.config.schema import ConfigSchema
from wren.ports import capabilities
from wren.ports._port import Port
from wren.ports.compute_config import COMPUTE_SCHEMA
from wren.protocol.invocation import Invocation
from wren.protocol.runtime import RuntimeInfo
from wren.protocol.task import Task

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    from wren.ports.images import ImageBuilder


class InvocationListener(Protocol):
    """Where an adapter reports what it learns about running tasks (thread-safe; call it
    from any thread). Every call of every task ends with exactly one report: a status
    document (stored by the worker, and pushed here by `push_status` adapters) or
    `calls_lost`. A runtime with nobody listening (a remote container) implements this
    protocol itself and stores what it is told: `wren.protocol.lost_calls_document` +
    `store_status` for lost calls, sealed with the invocation's key."""

    def status_pushed(self, document: bytes) -> None:
        """A status document a worker wrote to storage, as the sealed bytes it wrote (not
        decoded: the client checks the seal). `run_task(push=...)` hands its pusher
        `(StatusDocument, bytes)`; forward only the bytes. `StatusDocument.peek(bytes)`
        tells which calls it covers without the key, for bookkeeping.

        A listener with a true `reads_stored_statuses` attribute also takes
        `status_stored(key, job_key, call_indices)`: a document its worker stored under `key`
        and named instead of sending (a local pool's big documents), which it reads from
        storage itself."""

    def calls_lost(self, job_key: str, call_indices: Sequence[int], reason: str,
                   kind: str = "lost") -> None:
        """These calls will never report: `reason` says why in words a user can act on
        (word exits with `wren.worker.pool.describe_exit(returncode)` and overruns with
        `wren.worker.timeout_message(seconds)`: the worker-failure contract matches their
        wording). `kind` is one of `"lost"` (the worker died, was killed or vanished:
        `WorkerLostError` on each future), `"timeout"` (the call overran its timeout and was
        killed: `FunctionTimeoutError`) or `"system"` (the runtime could not run the task at
        all, e.g. storage or the function unreadable: `WorkerLostError` whose error kind is
        `system`). Report only the calls that truly will not run: after a worker crash,
        report the call it was running, and run the calls of its task that never reported
        again (`task.subset(indices, suffix)`), since status documents cover the task's
        `call_indices` in order, the calls after the last pushed document's are the
        unreported ones. `wren.worker.pool.WorkerPool` does all of this for you."""


def reads_stored_statuses(listener: InvocationListener) -> bool:
    """Whether `listener` takes status documents named by their storage key
    (`status_stored(key, job_key, indices)`) as well as pushed ones: it says so with a true
    `reads_stored_statuses` attribute (the executor's monitor, and the pool server's relay
    of a client whose monitor does)."""
    return getattr(listener, "reads_stored_statuses", False) is True


@attrs.frozen
class WorkerStorage:
    """How a worker reaches storage: backend name and config, secrets included (and the
    secrets of the client's other services, under `wren_services`)."""

    backend: str
    config: Mapping[str, Any]
    public_config: Mapping[str, Any]


@attrs.frozen
class RuntimeEntry:
    """One deployed runtime, as `list_runtimes` reports it: its image name, memory in MB
    (None where the platform sets none), the wren version it runs, and the platform's own
    name for the deployment (action, service, container app, image id)."""

    name: str
    memory: int | None
    wren_version: str
    worker_name: str


class ComputeBackend(Port, abc.ABC):
    """Port for compute. Subclasses are registered in the `wren.compute_backends` entry-point
    group under the name users type in `backend=`."""

    #: The adapter's section: `COMPUTE_SCHEMA.extend(...)`, so the common keys (`runtime`,
    #: `runtime_memory`, `runtime_timeout`, `max_workers`, `worker_processes`) are the port's.
    config_schema: ClassVar[ConfigSchema] = COMPUTE_SCHEMA
    #: Tasks a worker slot should get on average when wren chooses the chunksize.
    tasks_per_worker: ClassVar[int] = 1
    #: Largest inline argument data a task payload may carry.
    max_payload_bytes: ClassVar[int] = 256 * 1024
    #: Largest argument data (estimated) wren puts in one task when it chooses the
    #: chunksize; None: the client's default (`wren.client.builder.TARGET_TASK_BYTES`).
    task_bytes: ClassVar[int | None] = None

    def __init__(self, config: Mapping[str, Any], worker_storage: WorkerStorage) -> None:
        """`config`: this adapter's section, validated against `config_schema` (flat keys;
        defaults are filled in here). `worker_storage`: what its workers need to open
        storage, secrets included: deliver it through the platform's secret mechanism."""
        self.config = self.config_schema.with_defaults(config)
        self.worker_storage = worker_storage

    @property
    def max_workers(self) -> int:
        """How many tasks may run at once."""
        return int(self.config.get("max_workers") or 1)

    def plan_chunksize(self, n_calls: int) -> int:
        """Calls per task when the user gives no `chunksize`."""
        slots = max(1, self.max_workers * self.tasks_per_worker)
        return max(1, math.ceil(n_calls / slots))

    @abc.abstractmethod
    def invoke(self, invocations: Sequence[Invocation], listener: InvocationListener) -> None:
        """Start the invocations' tasks; return without waiting for them to run (nor for them
        to reach the platform: an adapter that sends each task over the network subclasses
        `wren.dispatch.DeliveringCompute` and writes only `deliver(invocation)`). A task that
        cannot be started is reported through `listener.calls_lost`, never dropped.

        Each `Invocation` is a task plus the executor's key; deliver `invocation.to_dict()`
        (its wire form) through the platform's invocation channel, and never write the key to
        storage or logs (an adapter that must park a task in storage stores
        `wren.protocol.invocation.sealed_task` there and sends the key in the message)."""

    def runtime_info(self) -> RuntimeInfo:
        """Python and wren versions of the configured runtime, read from the runtime itself:
        ask it to answer `wren.worker.handle({"wren_runtime_info": True})` (which is
        `wren.worker.runtime_metadata().to_dict()`) and decode that with
        `RuntimeInfo.from_dict`. `python_version` is `"MAJOR.MINOR"` (`"3.11"`, never
        `"3.11.4"`), `wren_version` wren's full version."""
        self.unsupported("runtime_info")

    def lost_deadline(self, task: Task, invoked_at: float) -> float | None:
        """When the client may give up on a task that never reported (None = never:
        the adapter supervises its calls itself). A backend without `supervises_calls` gets
        its task's `timeout` for each of its calls plus a grace of max(30 s, 10 % of the
        timeout) after `invoked_at`; then the client reports the calls lost itself. A
        runtime that reports its lost calls through storage ends them much sooner."""
        if self.supports(capabilities.SUPERVISES_CALLS):
            return None
        grace = max(30.0, 0.1 * task.timeout)
        return invoked_at + task.timeout * len(task.call_indices) + grace

    def wait_dispatched(self, timeout: float | None = None) -> bool:
        """Block until every task given to `invoke` was handed to the platform or reported
        through `calls_lost`; False if `timeout` passed first. Adapters whose `invoke`
        delivers in the background must override it (`wren.dispatch.DeliveringCompute`
        does); the remote invoker's worker waits on it before it exits."""
        return True

    def call_cost(self, stats: Mapping[str, Any], runtime_memory: int | None) -> float | None:
        """The price in US dollars of one finished call, from its `future.stats` and the
        job's runtime memory in MB (None: the backend's default); None when this backend
        cannot price calls. A price per invocation is shared by the calls of the task."""
        return None

    def warm_up(self) -> None:
        """Optional: start what the first job will need (workers, connections) without
        waiting for it. `FunctionExecutor` calls it once, right after creating the adapter;
        adapters used only to manage runtimes are never warmed up."""

    def close(self) -> None:
        """Release resources; in-flight tasks may still finish."""

    def clean_finished(self) -> list[str]:
        """Delete what wren's ended jobs left on the platform (Kubernetes Jobs, Code Engine
        job runs and the like; never a runtime, never work still running) and return a
        line per kind of thing removed, e.g. `["3 finished Jobs in namespace ns"]`. `wren
        clean` calls it; the default has nothing to delete."""
        return []

    def build_platform(self) -> str | None:
        """The os/arch (`linux/amd64`) `wren runtime build` builds this backend's images for:
        the `runtime_platform` key; None means the container engine's own platform."""
        platform = self.config.get("runtime_platform")
        return str(platform) if platform else None

    @classmethod
    def runtime_dockerfile(cls, python_version: str) -> Traversable | None:
        """The Dockerfile `wren runtime build` uses when none is given, for a client running
        Python `python_version` (`"3.11"`); None when the backend ships none. The files it
        copies lie beside it: its directory is the build context (plus `wren-wheels/`, the
        wren wheels the image installs). The default finds them as package data of the
        distribution that defines the backend class: `<top package>/runtime/Dockerfile.py311`
        for that Python if there is one, else `<top package>/runtime/Dockerfile`."""
        import importlib.resources  # only `wren runtime build` needs it

        try:
            directory = importlib.resources.files(cls.__module__.split(".")[0]) / "runtime"
        except (ImportError, TypeError):  # not defined in a package
            return None
        major, minor = python_version.split(".")[:2]
        for name in (f"Dockerfile.py{major}{minor}", "Dockerfile"):
            if (directory / name).is_file():
                return directory / name
        return None

    # Runtime management: optional, see `capabilities.RUNTIME_MANAGEMENT`.
    def default_runtime_name(self) -> str:
        """The image the runtime name `default` stands for: this backend's runtime for the
        client's Python version and wren version."""
        self.unsupported("a default runtime")

    def build_runtime(self, name: str, dockerfile: str | None = None, *,
                      builder: ImageBuilder, **options: Any) -> None:
        """Build image `name` with `builder` (from `dockerfile`, or the backend's default
        Dockerfile when None) and push it where the backend's platform pulls from."""
        self.unsupported("build_runtime")

    def deploy_runtime(self, name: str, memory: int | None = None,
                       timeout: float | None = None) -> RuntimeEntry:
        """Make runtime `name` ready to run calls (with `memory` MB and `timeout` s where the
        platform sets them per runtime); return what `list_runtimes` will show for it."""
        self.unsupported("deploy_runtime")

    def update_runtime(self, name: str) -> None:
        """Redeploy every deployment of runtime `name` with this client's wren."""
        self.unsupported("update_runtime")

    def delete_runtime(self, name: str, memory: int | None = None) -> None:
        """Remove runtime `name` (only its `memory` MB deployment when given)."""
        self.unsupported("delete_runtime")

    def list_runtimes(self) -> list[RuntimeEntry]:
        """Every runtime deployed on this backend."""
        self.unsupported("list_runtimes")
