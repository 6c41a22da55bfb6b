"""The storage key layout of wren's own objects, in one place.

```
wren.funcs/<sha256>.fn                               a function and its shipped modules,
                                                     content-addressed, shared by all jobs
wren.jobs/<executor_id>/<job_id>/data                the calls' arguments, when not inline
wren.jobs/<executor_id>/<job_id>/status/<task>.<part>.status statuses of a batch of calls
wren.jobs/<executor_id>/<job_id>/result/<task>.<part>.bin    their results, concatenated
wren.cloudobjects/<uuid>                             bodies stored by `Storage.put_cloudobject`
                                                     (kept until `delete_cloudobject(s)`)
wren.cloudobjects/<executor_id>/<job_id>/<uuid>      the same, stored by a call of that job
                                                     (also deleted by its executor's `clean()`)
wren.logs/<executor_id>/<job_id>/<task>.<part>.log   what those calls printed (only if any)
```

A job key is `<executor_id>/<job_id>`. Everything under `wren.jobs/<job key>/` is temporary
and deleted once the results are read; logs outlive it (for `wren logs`) until an explicit
`clean`. Function blobs are kept so the same function is uploaded once.
"""

from __future__ import annotations

JOBS_PREFIX = "wren.jobs/"
FUNCS_PREFIX = "wren.funcs/"
CLOUDOBJECTS_PREFIX = "wren.cloudobjects/"
LOGS_PREFIX = "wren.logs/"


def job_prefix(job_key: str) -> str:
    return f"{JOBS_PREFIX}{job_key}/"


def executor_prefix(executor_id: str) -> str:
    return f"{JOBS_PREFIX}{executor_id}/"


def data_key(job_key: str) -> str:
    return f"{JOBS_PREFIX}{job_key}/data"


def status_prefix(job_key: str) -> str:
    return f"{JOBS_PREFIX}{job_key}/status/"


def status_key(job_key: str, task_id: str, part: int) -> str:
    return f"{JOBS_PREFIX}{job_key}/status/{task_id}.{part:04d}.status"


def result_key(job_key: str, task_id: str, part: int) -> str:
    return f"{JOBS_PREFIX}{job_key}/result/{task_id}.{part:04d}.bin"


def func_key(digest: str) -> str:
    return f"{FUNCS_PREFIX}{digest}.fn"


def func_digest(key: str) -> str:
    """The sha256 a function key names (the inverse of `func_key`)."""
    if not (key.startswith(FUNCS_PREFIX) and key.endswith(".fn")):
        raise ValueError(f"{key!r} is not a function key ({FUNCS_PREFIX}<sha256>.fn)")
    return key[len(FUNCS_PREFIX):-len(".fn")]


def cloudobject_key(name: str) -> str:
    return f"{CLOUDOBJECTS_PREFIX}{name}"


def job_cloudobjects_prefix(job_key: str) -> str:
    """Where the anonymous cloud objects stored by the calls of one job go."""
    return f"{CLOUDOBJECTS_PREFIX}{job_key}/"


def logs_prefix(job_key: str) -> str:
    return f"{LOGS_PREFIX}{job_key}/"


def logs_key(job_key: str, task_id: str, part: int) -> str:
    return f"{LOGS_PREFIX}{job_key}/{task_id}.{part:04d}.log"
