"""One fresh client process of bench:local's first-job table: `python first_job_client.py
LIBRARY CASE [SIZE]` creates LIBRARY's executor, runs CASE as the first job of this process,
and prints one JSON line of figures (seconds). bench/first_job_table.py starts one of these
per library, case and repetition.

Cases (timers start after the library is imported, by `load()`: for wren, `import wren`
and the first access to `wren.FunctionExecutor`, which is what imports wren's executor
modules since `import wren` is lazy; only `whole` counts imports):
- `first`: executor creation (`start_s`), the first call after it exists (`first_call_s`),
  both together (`start_first_call_s`), the second call (`second_call_s`), and the client
  CPU of creation + first call (`client_cpu_s`: user + system CPU time of this process,
  all its threads, from `time.process_time()`; the library's worker processes and daemons
  are not counted, nor interpreter start and imports);
- `whole`: nothing inside: the parent times this whole process (interpreter, import,
  executor, one call, exit);
- `map` SIZE no-op calls, `map_reduce` of SIZE calls and a sum, `args` (SIZE × 5 MB
  arguments), `results` (SIZE × 5 MB results): the first job in the process, timed from
  submission until every value is back (`took_s`);
- `any`: SIZE calls sleeping 0.3 s, seconds until the first one is done (`took_s`);
- `random`: 64 calls sleeping 10-500 ms (bench/schedule.py, fixed seed), all done (`took_s`).

Each process first gives its functions a docstring of its own (`fresh_functions`), so the
wren rows time the first job of functions the user's pool server has never loaded.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

MB5 = 5 * 1024 * 1024


def noop(x: Any) -> Any:
    return x


def sleep_for(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def big_size(data: bytes) -> int:
    return len(data)


def big_result(n: int) -> bytes:
    return b"r" * n


def total(values: list[Any]) -> Any:
    return sum(values)


def timed(library: Any, case: str, size: int) -> dict[str, float]:
    if case == "map":
        items: list[Any] = list(range(size))
        started = time.perf_counter()
        assert library.map(noop, items) == items
    elif case == "map_reduce":
        started = time.perf_counter()
        assert library.map_reduce(noop, list(range(size)), total) == size * (size - 1) // 2
    elif case == "args":
        args = [bytes([65 + i % 26]) * MB5 for i in range(size)]
        started = time.perf_counter()
        assert library.map(big_size, args) == [MB5] * size
    elif case == "results":
        started = time.perf_counter()
        assert [len(r) for r in library.map(big_result, [MB5] * size)] == [MB5] * size
    elif case == "any":
        return {"took_s": library.first_done(sleep_for, [0.3] * size)}
    elif case == "random":
        from schedule import random_durations

        durations = random_durations()
        started = time.perf_counter()
        assert library.map(sleep_for, durations) == durations
    else:
        raise SystemExit(f"unknown case {case!r}")
    return {"took_s": time.perf_counter() - started}


def first(library: Any) -> dict[str, float]:
    cpu, started = time.process_time(), time.perf_counter()
    library.start()
    created = time.perf_counter()
    assert library.call(noop, 1) == 1
    answered, cpu_used = time.perf_counter(), time.process_time() - cpu
    assert library.call(noop, 2) == 2
    return {"start_s": created - started, "first_call_s": answered - created,
            "start_first_call_s": answered - started,
            "second_call_s": time.perf_counter() - answered, "client_cpu_s": cpu_used}


def fresh_functions() -> None:
    """Give this process's functions a docstring of their own. Pickled by value, they then
    differ from the previous process's: wren's pool server keeps the functions its workers
    loaded (and storage the blobs), so without this each wren row would time the first job
    of a function the process before it had loaded already."""
    nonce = f"{os.getpid()}-{time.time_ns()}"
    for func in (noop, sleep_for, big_size, big_result, total):
        func.__doc__ = f"a benchmark function of process {nonce}"


def main() -> None:
    fresh_functions()
    name, case = sys.argv[1], sys.argv[2]
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    from first_job_libs import LIBRARIES

    library = LIBRARIES[name]()
    library.load()
    if case == "whole":
        library.start()
        assert library.call(noop, 1) == 1
        library.close()
        return
    if case == "first":
        figures = first(library)
    else:
        library.start()
        figures = timed(library, case, size)
    library.close()
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
