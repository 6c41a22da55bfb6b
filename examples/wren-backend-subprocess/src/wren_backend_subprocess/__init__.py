"""An example out-of-tree wren adapter: compute `subprocess` runs each task in a fresh local
process, as a cloud adapter runs it in a container (see docs/writing-a-backend.md). Names
load on first use, so the runtime process (`runner`) does not import the client's side."""

from typing import TYPE_CHECKING, Any

from wren_backend_subprocess.__about__ import __version__

if TYPE_CHECKING:
    from wren_backend_subprocess.compute import SubprocessCompute

__all__ = ["SubprocessCompute", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "SubprocessCompute":
        from wren_backend_subprocess.compute import SubprocessCompute

        return SubprocessCompute
    raise AttributeError(f"module 'wren_backend_subprocess' has no attribute {name!r}")
