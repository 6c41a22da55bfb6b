"""`wren.multiprocessing.Pool.map` against the standard library's `multiprocessing.Pool.map`:
10,000 no-op calls, both measured in the same run (best of a few repetitions), for the
target of the drop-in issue (wren ≤ 2× the standard library). Two figures: the map on a pool
already started, and a whole `with Pool() as pool: pool.map(...)` (pool start included;
wren's executor is shared by its pools, so only its first pool pays for it). Run it alone
with `python bench/dropin_pool.py [--quick]`, or with the other drop-in benches through
`hatch run bench:dropin`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import wren.multiprocessing as wren_mp

CALLS = 10_000
TARGET_RATIO = 2.0


def noop(x: Any) -> Any:
    return x


def best(func: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return min(times)


def _map_on(pool: Any, n: int) -> None:
    if pool.map(noop, range(n)) != list(range(n)):
        raise AssertionError("wrong results")


def _whole(pool_class: Callable[..., Any], n: int) -> None:
    with pool_class() as pool:
        _map_on(pool, n)


def bench(n: int = CALLS, repeat: int = 5) -> dict[str, Any]:
    with multiprocessing.Pool() as std_pool:
        _map_on(std_pool, 100)
        std_map = best(lambda: _map_on(std_pool, n), repeat)
    with wren_mp.Pool() as wren_pool:
        _map_on(wren_pool, 100)
        wren_map = best(lambda: _map_on(wren_pool, n), repeat)
    std_whole = best(lambda: _whole(multiprocessing.Pool, n), repeat)
    wren_whole = best(lambda: _whole(wren_mp.Pool, n), repeat)
    return {"calls": n, "cpus": os.cpu_count(), "stdlib_map_s": std_map,
            "wren_map_s": wren_map, "map_ratio": wren_map / std_map,
            "stdlib_with_pool_s": std_whole, "wren_with_pool_s": wren_whole,
            "with_pool_ratio": wren_whole / std_whole, "target_ratio": TARGET_RATIO,
            "checked": ["map_ratio", "with_pool_ratio"]}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args(argv)
    report = bench(CALLS, 3 if args.quick else 5)
    print("Pool.map of 10,000 no-op calls:", json.dumps(report), flush=True)
    return report


if __name__ == "__main__":
    report = main()
    sys.exit(0 if report["map_ratio"] <= TARGET_RATIO else 1)
