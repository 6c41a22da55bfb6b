"""`azure_containers`: tasks go through an Azure Storage Queue to Container Apps consumers.

Each runtime (image + memory) has one Container App and one queue of the same name in the
`azure_storage` account. `invoke` queues the tasks with wren's dispatch kit and returns; its
threads put one message per task on the queue (`deliver`; a task over the message limit goes
to a blob first, its message then carries the reference). The app's queue
scale rule starts containers whose consumers (the package's runtime/) run the tasks with wren's
worker and delete each message only after its results are stored, so a lost container loses
nothing. On first use the runtime is deployed when missing (if `resource_group` is set;
otherwise consumers are expected to serve the queue already) and asked for its metadata,
which the executor checks against this client's Python; while it waits for the answer it
reads the revision's status, so a revision Azure reports failed (an image that cannot be
pulled) is an error naming it at once, not a timeout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from wren import ConfigError, StorageNoSuchKeyError, WrenError, plugins
from wren.dispatch import DeliveringCompute, Refused
from wren.ports import RuntimeEntry, RuntimeInfo, StorageBackend, WorkerStorage
from wren.ports import capabilities as caps
from wren.protocol.invocation import Invocation, sealed_task
from wren.protocol.task import Task

from wren_backend_azure import metadata, naming
from wren_backend_azure.clients import (
    connection_string,
    delete_queue,
    ensure_queue,
    queue_client,
)
from wren_backend_azure.config import COMPUTE_SCHEMA, COMPUTE_SECTION
from wren_backend_azure.management import ContainerAppsManager
from wren_backend_azure.messages import (
    BlobRef,
    ref_message,
    task_message,
    visibility_for,
)
from wren_backend_azure.settings import ConsumerSettings

_POLL = 0.2


class AzureContainersCompute(DeliveringCompute):
    """Compute backend over Azure Container Apps fed by a Storage Queue."""

    name: ClassVar[str] = "azure_containers"
    capabilities = frozenset({caps.RUNTIME_MANAGEMENT})
    config_schema = COMPUTE_SCHEMA
    #: Inline argument data stays well under the queue's 64 KiB message limit.
    max_payload_bytes: ClassVar[int] = 32 * 1024

    def __init__(self, config: Mapping[str, Any], worker_storage: WorkerStorage,
                 credential: Any = None) -> None:
        super().__init__(COMPUTE_SCHEMA.validate(config), worker_storage)
        if worker_storage.backend != "azure_storage":
            raise ConfigError(f"{COMPUTE_SECTION} dispatches through a queue of the "
                              "`azure_storage` account, so it needs storage='azure_storage' "
                              f"(got {worker_storage.backend!r})")
        connection_string(worker_storage.config)  # the credentials must be there now
        self.bucket = str(worker_storage.config.get("storage_bucket") or "")
        self.memory = naming.check_memory(self.config["runtime_memory"])
        self.runtime = naming.runtime_name(self.config)
        self.app = naming.app_name(self.runtime, self.memory)
        self.manager = ContainerAppsManager(self.config, credential)
        self.manager.registry()  # a contradictory registry config fails here, not at deploy
        self._queues: dict[str, Any] = {}
        self._storage: StorageBackend | None = None
        self._lock = threading.RLock()

    # Plumbing -----------------------------------------------------------------------------
    def storage(self) -> StorageBackend:
        with self._lock:
            if self._storage is None:
                self._storage = plugins.storage_backend_class(self.worker_storage.backend)(
                    self.worker_storage.config)
            return self._storage

    def queue(self, app: str | None = None) -> Any:
        """The `QueueClient` of a runtime's queue (the configured runtime's by default)."""
        app = app or self.app
        with self._lock:
            found = self._queues.get(app)
            if found is None:
                found = self._queues[app] = queue_client(self.worker_storage.config, app)
            return found

    def _send_text(self, app: str, text: str) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        queue = self.queue(app)
        try:
            queue.send_message(text)
        except ResourceNotFoundError:  # the queue was never created, or deleted since
            ensure_queue(queue)
            queue.send_message(text)

    # Invocation ---------------------------------------------------------------------------
    def prepare_delivery(self, tasks: Sequence[Task]) -> None:
        for memory in {task.runtime_memory or self.memory for task in tasks}:
            naming.check_memory(memory)
            if memory != self.memory:
                self._ensure_deployed(self.runtime, memory)

    def deliver(self, invocation: Invocation) -> None:
        """Put one task on its runtime's queue (the SDK retries transient failures)."""
        task = invocation.task
        app = naming.app_name(self.runtime, task.runtime_memory or self.memory)
        try:
            text = task_message(invocation)
            if text is None:
                ref = BlobRef.for_task(task)
                self.storage().put_object(ref.bucket, ref.key,
                                          sealed_task(task, invocation.key, ref.key))
                text = ref_message("task", ref, invocation.key)
            self._send_text(app, text)
        except Exception as exc:
            raise Refused(f"the task could not be put on the Azure queue {app!r}: "
                          f"{type(exc).__name__}: {exc}") from exc

    def lost_deadline(self, task: Task, invoked_at: float) -> float | None:
        """Queue wait, then every delivery the consumers may make, each within its budget
        (plus one message lease: a lost consumer's message shows up again within it)."""
        config = self.config
        margin = config["visibility_margin"] + config["message_lease"]
        return (invoked_at + config["max_queue_wait"]
                + config["max_dequeue_count"] * visibility_for(task, margin))

    def close(self) -> None:
        super().close()
        with self._lock:
            queues, self._queues = list(self._queues.values()), {}
        for queue in queues:
            queue.close()
        if self._storage is not None:
            self._storage.close()

    # Runtime metadata ---------------------------------------------------------------------
    def runtime_info(self) -> RuntimeInfo:
        with self._lock:
            return metadata.cache.get(self.name, self._metadata_identity(self.app),
                                      self._read_metadata)

    def _metadata_identity(self, app: str) -> str:
        return metadata.identity(app, self.bucket, self.worker_storage)

    def _read_metadata(self) -> RuntimeInfo:
        key = metadata.metadata_key(self.app)
        try:
            raw = self.storage().get_object(self.bucket, key)
        except StorageNoSuchKeyError:
            self._ensure_deployed(self.runtime, self.memory)
            raw = self._ask_runtime(key)
        return RuntimeInfo.decode(raw, self.runtime)

    def _ask_runtime(self, key: str) -> bytes:
        ref = BlobRef(self.worker_storage.backend, dict(self.worker_storage.public_config),
                      self.bucket, key)
        self._send_text(self.app, ref_message("metadata", ref))
        wait = self.config["runtime_start_timeout"]
        deadline = time.monotonic() + wait
        next_check = time.monotonic() + self.config["status_poll_interval"]
        while True:
            try:
                return self.storage().get_object(self.bucket, key)
            except StorageNoSuchKeyError:
                if time.monotonic() >= deadline:
                    break
                if self.manager.configured and time.monotonic() >= next_check:
                    # a revision that cannot pull its image never answers: say so now
                    self.manager.check_revision(self.app)
                    next_check = time.monotonic() + self.config["status_poll_interval"]
                time.sleep(_POLL)
        where = (f"Container App {self.app!r} in resource group "
                 f"{self.manager.resource_group!r}" if self.manager.configured
                 else f"any consumer of queue {self.app!r} (no resource_group is set, so wren "
                      "deploys nothing)")
        raise WrenError(f"runtime {self.runtime!r} did not answer within {wait:g} s: no reply "
                        f"from {where}. Check that its containers start (image, registry "
                        "credentials, logs), or raise runtime_start_timeout")

    def _ensure_deployed(self, image: str, memory: int) -> None:
        if self.manager.configured and self.manager.get(naming.app_name(image, memory)) is None:
            self.deploy_runtime(image, memory)

    def _forget_metadata(self, app: str) -> None:
        self.storage().delete_object(self.bucket, metadata.metadata_key(app))
        metadata.cache.forget(self.name, self._metadata_identity(app))

    # Runtime management -------------------------------------------------------------------
    def deploy_runtime(self, name: str, memory: int | None = None,
                       timeout: float | None = None) -> RuntimeEntry:
        image = naming.runtime_name(self.config, name)
        memory = naming.check_memory(memory or self.memory)
        app = naming.app_name(image, memory)
        settings = ConsumerSettings.for_runtime(self.config, self.worker_storage, app, image,
                                                timeout)
        ensure_queue(self.queue(app))
        entry = self.manager.deploy(settings, memory)
        self._forget_metadata(app)
        return entry

    def _deployed(self, name: str, memory: int | None) -> list[RuntimeEntry]:
        image = naming.runtime_name(self.config, name)
        return [entry for entry in self.manager.list_runtimes()
                if entry.name == image and memory in (None, entry.memory)]

    def update_runtime(self, name: str) -> None:
        entries = self._deployed(name, None)
        if not entries:
            raise WrenError(f"runtime {naming.runtime_name(self.config, name)!r} is not "
                            f"deployed; deploy it with: wren runtime deploy {name} -b "
                            f"{self.name} -s azure_storage")
        for entry in entries:
            self.deploy_runtime(entry.name, entry.memory)

    def delete_runtime(self, name: str, memory: int | None = None) -> None:
        for entry in self._deployed(name, memory):
            self.manager.delete(entry.worker_name)
            with self._lock:
                queue = self._queues.pop(entry.worker_name, None)
            queue = queue or queue_client(self.worker_storage.config, entry.worker_name)
            delete_queue(queue)
            queue.close()
            self._forget_metadata(entry.worker_name)

    def list_runtimes(self) -> list[RuntimeEntry]:
        return self.manager.list_runtimes()
