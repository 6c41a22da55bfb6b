"""The worker side of an `ibm_cf` / `openwhisk` action: `main(args)`, called by the action
proxy once per activation (`wren_backend_ibmcf/runtime/action_proxy.py`).

`args` is the invocation payload merged with the action's default parameters; the payload
goes to wren's worker entry, `wren.worker.handle` (a task to run, a fan-out request, or the
runtime's metadata). Credentials come only from the parameters bound when the runtime was
deployed: `wren_storage` (the storage backend's secrets) and, for the remote invoker,
`wren_compute`; a runtime may instead set `WREN_STORAGE_CONFIG`. They are taken out of
`args` before the payload is handled.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from wren.protocol.invocation import TASK_FIELD
from wren.worker.entry import INFO_FIELD, PayloadError, handle
from wren.worker.storage_access import private_config_from_env

__all__ = ["COMPUTE_PARAM", "INFO_FIELD", "STORAGE_PARAM", "TASK_FIELD", "main"]

STORAGE_PARAM = "wren_storage"
COMPUTE_PARAM = "wren_compute"


def _private(args: Mapping[str, Any], param: str) -> dict[str, Any]:
    """The secrets bound to `param` at deploy; else the environment's (storage only)."""
    bound = args.get(param)
    if isinstance(bound, Mapping):
        return dict(bound.get("config") or {})
    return private_config_from_env() if param == STORAGE_PARAM else {}


def _deadline_seconds() -> float | None:
    deadline = os.environ.get("__OW_DEADLINE")  # milliseconds since the epoch
    if not deadline:
        return None
    return max(1.0, float(deadline) / 1000 - time.time() - 5)


def main(args: dict[str, Any]) -> dict[str, Any]:
    """Run what the payload asks for; the returned dict is the activation's result."""
    payload = {k: v for k, v in args.items() if k not in (STORAGE_PARAM, COMPUTE_PARAM)}
    try:
        return handle(payload, storage_config=_private(args, STORAGE_PARAM),
                      compute_config=_private(args, COMPUTE_PARAM),
                      deadline=_deadline_seconds())
    except PayloadError as exc:
        if TASK_FIELD in payload:  # a task this runtime cannot run fails its activation
            raise
        return {"error": str(exc)}
