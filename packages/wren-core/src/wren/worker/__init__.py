"""The worker: the same code runs every task on every platform (`run_task`)."""

from wren.context import current_storage, current_task, in_worker
from wren.worker.runner import run_task
from wren.worker.storage_access import open_storage

__all__ = ["current_storage", "current_task", "in_worker", "open_storage", "run_task"]
