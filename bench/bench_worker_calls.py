"""Per-call cost of the worker's hot path (`wren.worker.run_task`), measured in-process.

Runs one task of N calls against `localhost` storage in a temporary directory, several
times, and prints the best microseconds per call for: a function that prints nothing, one
that prints a line per call. Run it through hatch: `hatch run bench:worker -- --calls 100000`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
import time
from typing import Any

from wren.client.binding import ArgumentBinder
from wren.protocol.task import Task, TaskOptions
from wren.serialize.cloudpickle_serializer import CloudpickleSerializer
from wren.testing import TEST_KEY
from wren.worker import run_task


def silent(x: int) -> int:
    return x


def chatty(x: int) -> int:
    print("call", x)
    return x


def _task(storage: Any, bucket: str, func: Any, n: int, options: dict[str, Any]) -> Task:
    serializer = CloudpickleSerializer()
    key = f"wren.funcs/bench-{func.__name__}.fn"
    from wren.serialize.function_blob import pack_function

    blob = pack_function(func, serializer, None, (), frozenset())
    key = f"wren.funcs/{blob.digest}.fn"
    storage.put_object(bucket, key, blob.data)
    calls = ArgumentBinder(func).bind_all(list(range(n)))
    data = serializer.dumps(calls.payloads)
    return Task(job_key="bench-0/M000", task_id="t00000", func_key=key,
                call_indices=range(n), data_range=(0, len(data)), storage_backend="localhost",
                storage_config=dict(storage.config), bucket=bucket, binding=calls.binding,
                inline_data=data, timeout=60,
                options=TaskOptions(**dict(options, flush_interval=3600)))


def measure(func: Any, n: int, repeat: int, options: dict[str, Any] | None = None) -> float:
    from wren_backend_local import LocalhostStorage

    best = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        storage = LocalhostStorage({"storage_dir": tmp, "storage_bucket": "bench"})
        storage.create_bucket("bench")
        task = _task(storage, "bench", func, n, options or {})
        sink = io.StringIO()
        for _ in range(repeat):
            started = time.perf_counter()
            with contextlib.redirect_stdout(sink):
                run_task(task, storage, key=TEST_KEY)
            best = min(best, time.perf_counter() - started)
            sink.seek(0)
            sink.truncate()
    return best / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{args.calls} calls in one task, best of {args.repeat}")
    print(f"  silent function : {measure(silent, args.calls, args.repeat):6.2f} us/call")
    print(f"  printing function: {measure(chatty, args.calls, args.repeat):6.2f} us/call")


if __name__ == "__main__":
    main()
