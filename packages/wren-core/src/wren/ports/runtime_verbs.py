"""`ManagedRuntimes`: the `wren runtime` verbs of a compute backend, over its runtime manager.

Most adapters keep their deployments in a manager object with `deploy(image, memory,
timeout)`, `list()` and `delete(image, memory)`; this mixin turns it into the port's
`deploy_runtime`, `update_runtime` (every deployment of an image, or of all with `all`),
`delete_runtime` and `list_runtimes`, with `default` meaning the configured `runtime`. The
adapter sets `runtime` (its image) and `memory` (MB), and gives `runtimes`.
"""

from __future__ import annotations

from typing import Protocol

from wren.ports.compute import RuntimeEntry


class RuntimeManager(Protocol):
    """What `ManagedRuntimes` needs of an adapter's runtime manager."""

    def deploy(self, image: str, memory: int, timeout: int | None = None) -> RuntimeEntry: ...

    def list(self) -> list[RuntimeEntry]: ...

    def delete(self, image: str, memory: int | None = None) -> None: ...


class ManagedRuntimes:
    """Mixin of the runtime verbs for a `ComputeBackend` with `runtime`, `memory` and
    `runtimes` (a `RuntimeManager`)."""

    runtime: str
    memory: int

    @property
    def _manager(self) -> RuntimeManager:
        """The adapter's `runtimes` (an attribute or a property)."""
        return self.runtimes  # type: ignore[attr-defined]

    def _image(self, name: str | None) -> str:
        return self.runtime if name in ("default", "", None) else str(name)

    def deploy_runtime(self, name: str, memory: int | None = None,
                       timeout: float | None = None) -> RuntimeEntry:
        return self._manager.deploy(self._image(name), int(memory or self.memory),
                                    int(timeout) if timeout else None)

    def update_runtime(self, name: str) -> None:
        image = self._image(name)
        for entry in self._manager.list():
            if entry.name == image or name == "all":
                self._manager.deploy(entry.name, int(entry.memory or self.memory))

    def delete_runtime(self, name: str, memory: int | None = None) -> None:
        images = {e.name for e in self._manager.list()} if name == "all" else {self._image(name)}
        for image in images:
            self._manager.delete(image, memory)

    def list_runtimes(self) -> list[RuntimeEntry]:
        return self._manager.list()
