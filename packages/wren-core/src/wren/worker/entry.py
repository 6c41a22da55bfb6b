"""`handle(payload)`: the one worker entry every runtime's entry point calls.

A runtime receives a payload from the client (an activation's arguments, an HTTP body, a
queue message) and hands it here. The payload names what is asked with one field:
`wren_task` with `wren_key` (an `Invocation`: run the task with the executor's key), `wren_fanout` (a `FanoutRequest`: invoke the tasks it
names from here, see `wren.worker.fanout`) or `wren_runtime_info` (answer this runtime's
metadata, `wren.worker.metadata`). The answer is a JSON-ready dict. Credentials never come
from the payload: the entry point passes what its platform gave it (parameters bound at
deploy, a secret in the environment); without them the storage settings are read from
`WREN_STORAGE_CONFIG`. A runtime that runs tasks elsewhere than on the calling thread (a
supervised pool) passes `run`, which takes the invocation and returns once it is accepted.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from wren._errors import InvalidInputError, ProtocolVersionError
from wren.protocol.invocation import TASK_FIELD, Invocation
from wren.worker.fanout import FANOUT_FIELD, FanoutRequest, run_fanout
from wren.worker.metadata import runtime_metadata
from wren.worker.storage_access import open_storage, private_config_from_env

#: The payload field asking for the runtime's metadata (any true value).
INFO_FIELD = "wren_runtime_info"


class PayloadError(InvalidInputError):
    """The payload asks for nothing this runtime does, or comes from an incompatible wren."""


def decode_invocation(data: Mapping[str, Any]) -> Invocation:
    """The invocation of a payload, or a `PayloadError` saying why it is none (another wren's
    protocol is named with both versions, see `wren.protocol.version`)."""
    try:
        return Invocation.from_dict(data)
    except ProtocolVersionError as exc:
        raise PayloadError(str(exc)) from exc
    except Exception as exc:
        raise PayloadError(f"the payload is not a wren task: {type(exc).__name__}: {exc}") \
            from exc


def handle(payload: Mapping[str, Any], *, storage_config: Mapping[str, Any] | None = None,
           compute_config: Mapping[str, Any] | None = None, deadline: float | None = None,
           runtime_name: str = "", run: Callable[[Invocation], None] | None = None,
           **facts: Any) -> dict[str, Any]:
    """Do what `payload` asks; `storage_config` and `compute_config` are the private settings
    the platform gave this runtime, `deadline` the seconds a fan-out may take, `runtime_name`
    and `facts` what the metadata says of this runtime."""
    os.environ.setdefault("WREN_WORKER", "1")
    if payload.get(INFO_FIELD):
        return runtime_metadata(runtime_name, **facts).to_dict()
    private = dict(storage_config) if storage_config is not None else private_config_from_env()
    if FANOUT_FIELD in payload:
        request = FanoutRequest.from_dict(payload[FANOUT_FIELD])
        delivered = run_fanout(request, private, dict(compute_config or {}), deadline)
        return {"job_key": request.job_key, "tasks": request.count, "invoked": delivered}
    if TASK_FIELD not in payload:
        raise PayloadError(f"the payload has none of {TASK_FIELD!r}, {FANOUT_FIELD!r}, "
                           f"{INFO_FIELD!r}: this runtime runs wren tasks only")
    invocation = decode_invocation(payload)
    task = invocation.task
    if run is not None:
        run(invocation)
        return {"accepted": task.task_id, "job": task.job_key}
    from wren.worker.runner import run_task

    run_task(task, open_storage(task.storage_backend, task.storage_config, private),
             key=invocation.key)
    return {"job_key": task.job_key, "task_id": task.task_id, "calls": len(task.call_indices)}
