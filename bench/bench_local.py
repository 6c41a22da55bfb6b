"""wren `localhost` against `concurrent.futures.ProcessPoolExecutor` and
`multiprocessing.Pool`, side by side in one process tree, for the targets of the
foundation issue. Run it with `hatch run bench:local` (or `python bench/bench_local.py`);
`--quick` runs smaller sizes. Each figure is the best of a few repetitions, printed with
its ratio and the target, and saved as JSON under bench/results/.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import wren

RESULTS = Path(__file__).parent / "results"
MB5 = 5 * 1024 * 1024


def noop(x: Any) -> Any:
    return x


def sleep_half(x: Any) -> Any:
    time.sleep(0.5)
    return x


def big_size(data: bytes) -> int:
    return len(data)


def big_result(n: int) -> bytes:
    return b"r" * n


def best(func: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return min(times)


def bench_noop_map(n: int, repeat: int, fexec: wren.FunctionExecutor) -> dict[str, float]:
    workers = os.cpu_count() or 1
    chunk = max(1, n // (workers * 4))
    with cf.ProcessPoolExecutor(workers) as ppe:
        list(ppe.map(noop, range(workers * 4)))
        ppe_time = best(lambda: list(ppe.map(noop, range(n), chunksize=chunk)), repeat)
    fexec.get_result(fexec.map(noop, range(100)))
    wren_time = best(lambda: fexec.get_result(fexec.map(noop, range(n))), repeat)
    return {"calls": n, "wren_s": wren_time, "ppe_s": ppe_time, "ppe_chunksize": chunk,
            "ratio": wren_time / ppe_time, "target_ratio": 2.0}


COLD = """
import time, sys
t0 = time.perf_counter()
import wren
with wren.FunctionExecutor(storage_dir=sys.argv[1]) as fexec:
    assert fexec.call_async(abs, -3).result() == 3
print(time.perf_counter() - t0)
"""


def bench_cold_start(repeat: int, storage_dir: str) -> dict[str, float]:
    walls, inner = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", COLD, storage_dir], check=True,
                             capture_output=True, text=True).stdout
        walls.append(time.perf_counter() - started)
        inner.append(float(out.strip()))
    return {"process_wall_s_median": statistics.median(walls), "process_wall_s_best": min(walls),
            "in_process_s_median": statistics.median(inner), "target_s": 0.3}


def bench_sleeps(fexec: wren.FunctionExecutor, calls: int) -> dict[str, float]:
    workers = fexec.compute.max_workers
    ideal = calls * 0.5 / workers
    started = time.perf_counter()
    fexec.get_result(fexec.map(sleep_half, range(calls)))
    took = time.perf_counter() - started
    return {"calls": calls, "workers": workers, "wren_s": took, "ideal_s": ideal,
            "ratio": took / ideal, "target_ratio": 1.05}


def bench_big_data(fexec: wren.FunctionExecutor, calls: int, repeat: int) -> dict[str, float]:
    args = [b"a" * MB5 for _ in range(calls)]
    workers = os.cpu_count() or 1
    with mp.Pool(workers) as pool:
        pool.map(noop, range(workers))
        pool_args = best(lambda: pool.map(big_size, args, chunksize=1), repeat)
        pool_results = best(lambda: pool.map(big_result, [MB5] * calls, chunksize=1), repeat)
    fexec.get_result(fexec.map(noop, range(4)))
    wren_args = best(lambda: fexec.get_result(fexec.map(big_size, args)), repeat)
    wren_results = best(lambda: fexec.get_result(fexec.map(big_result, [MB5] * calls)), repeat)
    return {"calls": calls, "mp_pool_args_s": pool_args, "wren_args_s": wren_args,
            "args_ratio": wren_args / pool_args, "mp_pool_results_s": pool_results,
            "wren_results_s": wren_results, "results_ratio": wren_results / pool_results,
            "target_ratio": 1.5}


RSS = """
import sys, wren
def noop(x):
    return x
with wren.FunctionExecutor(storage_dir=sys.argv[2]) as fexec:
    n = int(sys.argv[1])
    results = fexec.get_result(fexec.map(noop, range(n)))
    assert results == list(range(n))
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork/exec.
peak = [line for line in open("/proc/self/status") if line.startswith("VmHWM")][0]
print(int(peak.split()[1]) / 1024)
"""


def bench_rss(calls: int, storage_dir: str) -> dict[str, float]:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", RSS, str(calls), storage_dir], check=True,
                         capture_output=True, text=True).stdout
    return {"calls": calls, "client_peak_rss_mb": float(out.strip()),
            "wall_s": time.perf_counter() - started, "target_mb": 200}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    args = parser.parse_args()
    repeat = 3 if args.quick else 7
    report: dict[str, Any] = {"python": sys.version.split()[0], "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="wren-bench-") as storage_dir, \
            wren.FunctionExecutor(storage_dir=storage_dir) as fexec:
        report["noop_map_10k"] = bench_noop_map(10_000, repeat, fexec)
        print("noop map:", json.dumps(report["noop_map_10k"]), flush=True)
        report["cold_start"] = bench_cold_start(repeat, storage_dir)
        print("cold start:", json.dumps(report["cold_start"]), flush=True)
        report["big_data"] = bench_big_data(fexec, 20, 2 if args.quick else 3)
        print("5 MB data:", json.dumps(report["big_data"]), flush=True)
        report["sleeps"] = bench_sleeps(fexec, 16 if args.quick else 64)
        print("sleeps:", json.dumps(report["sleeps"]), flush=True)
        report["rss_100k"] = bench_rss(20_000 if args.quick else 100_000, storage_dir)
        print("100k-call RSS:", json.dumps(report["rss_100k"]), flush=True)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"local-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"saved {out}")


if __name__ == "__main__":
    main()
