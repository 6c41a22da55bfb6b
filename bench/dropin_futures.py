"""`ProcessPoolExecutor.map` of 10,000 no-op calls: the standard library against
`wren.concurrent.futures` (localhost), in the same run, for issue 14's target (wren within
2x of the standard library). `main()` prints one row per case — both times and their ratio —
and returns the rows; `bench/dropin.py` (`hatch run bench:dropin`) calls it, and
`python bench/dropin_futures.py` runs it alone.

Cases: the same line of code in both (`pool.map(noop, range(n))`, default `chunksize`), the
same with an explicit `chunksize` (n / (4 x workers), the standard library's best case), and
a whole `with` block (pool start, map, shutdown). Each time is the best of `--repeat` runs
on a warm pool, except the `with` block, which starts its pool every time.
"""

from __future__ import annotations

import argparse
import concurrent.futures as std
import os
from collections.abc import Callable, Sequence
from typing import Any

from bench_local import best  # bench/ is on the path: scripts run from there
from wren.concurrent import futures as wren_futures

CALLS = 10_000
TARGET = 2.0


def noop(x: Any) -> Any:
    return x


def _warm_map(pool_cls: Callable[..., Any], workers: int, n: int, chunksize: int,
              repeat: int) -> float:
    with pool_cls(max_workers=workers) as pool:
        list(pool.map(noop, range(workers * 4)))  # start every worker first
        return best(lambda: list(pool.map(noop, range(n), chunksize=chunksize)), repeat)


def _with_block(pool_cls: Callable[..., Any], workers: int, n: int, repeat: int) -> float:
    def run() -> None:
        with pool_cls(max_workers=workers) as pool:
            list(pool.map(noop, range(n)))

    return best(run, repeat)


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=CALLS)
    parser.add_argument("--repeat", type=int, default=3)
    args, _ = parser.parse_known_args(argv)  # bench/dropin.py may pass its own options
    n, workers = args.calls, os.cpu_count() or 1
    chunk = max(1, n // (workers * 4))
    cases: list[tuple[str, Callable[[Callable[..., Any]], float]]] = [
        (f"map {n} no-ops, chunksize=1 (default)",
         lambda cls: _warm_map(cls, workers, n, 1, args.repeat)),
        (f"map {n} no-ops, chunksize={chunk}",
         lambda cls: _warm_map(cls, workers, n, chunk, args.repeat)),
        (f"with-block: start + map {n} + shutdown",
         lambda cls: _with_block(cls, workers, n, args.repeat)),
    ]
    rows = []
    print(f"ProcessPoolExecutor, {workers} workers; target: wren <= {TARGET:g}x stdlib",
          flush=True)
    for name, measure in cases:
        stdlib = measure(std.ProcessPoolExecutor)
        wren = measure(wren_futures.ProcessPoolExecutor)
        row = {"case": name, "stdlib_s": round(stdlib, 4), "wren_s": round(wren, 4),
               "ratio": round(wren / stdlib, 2), "met": wren <= TARGET * stdlib}
        rows.append(row)
        print(f"  {name:45s} stdlib {stdlib:7.3f} s  wren {wren:7.3f} s  "
              f"ratio {row['ratio']:5.2f}  {'ok' if row['met'] else 'MISSED'}", flush=True)
    return rows


if __name__ == "__main__":
    main()
