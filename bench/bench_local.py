"""wren `localhost` against `multiprocessing.Pool`, `ProcessPoolExecutor`, Ray and Dask, for
issue 16 (speed of the first job). Run it with `hatch run bench:local` (`--quick`: one
process per figure; `--help` for the rest).

It prints the first-job table (bench/first_job_table.py): each figure from fresh client
processes (bench/first_job_client.py), one per library, row and repetition, median of 3,
with its ratio to the row's baseline and the issue's target. Ray and Dask columns appear
when they are installed (the bench env installs them). Then two warm-executor figures kept
from the foundation issue: a 10,000-call map in an executor that has already run a job
(against a warm ProcessPoolExecutor), and the client's peak RSS over a 100,000-call map.
The machine's load (`uptime`) is printed before and after; everything is saved as JSON (and
the table as Markdown) under bench/results/.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import wren
from first_job_libs import LIBRARIES, installed
from first_job_table import render, rows, run_table
from schedule import best_schedule

RESULTS = Path(__file__).parent / "results"


def noop(x: Any) -> Any:
    return x


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


def load() -> dict[str, Any]:
    """What else ran on this machine: `uptime` and the load averages."""
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    return {"uptime": uptime, "loadavg": list(os.getloadavg())}


def first_job_table(args: argparse.Namespace, report: dict[str, Any]) -> str:
    libraries = [name for name in args.libraries if installed(name)]
    missing = sorted(set(args.libraries) - set(libraries))
    table_rows = [row for row in rows() if not args.rows or row.key in args.rows]
    print(f"first-job table: {', '.join(libraries)}; median of {args.repeat} fresh "
          f"processes per figure" + (f" (not installed: {', '.join(missing)})"
                                     if missing else ""), flush=True)
    log = (lambda line: print("  " + line, flush=True)) if args.verbose else (lambda _: None)
    table = run_table(libraries, table_rows, args.repeat, log)
    workers = os.cpu_count() or 1
    report["first_job"] = {"libraries": libraries, "not_installed": missing,
                           "repeat": args.repeat, "workers": workers,
                           "best_schedule_random_64": best_schedule(workers), **table}
    return render(table_rows, libraries, table["medians"], workers)


def versions() -> dict[str, str]:
    found = {}
    for name in ("wren-core", "ray", "dask", "distributed"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="one process per figure, smaller warm extras")
    parser.add_argument("--repeat", type=int, help="processes per figure (default 3)")
    parser.add_argument("--libraries", nargs="+", default=list(LIBRARIES),
                        help="columns to run (default: all installed)")
    parser.add_argument("--rows", nargs="+", help="row keys to run (default: all)")
    parser.add_argument("--no-extras", action="store_true",
                        help="only the first-job table (skip the warm-executor figures)")
    parser.add_argument("--verbose", action="store_true", help="print every process's figures")
    args = parser.parse_args()
    args.repeat = args.repeat or (1 if args.quick else 3)
    report: dict[str, Any] = {"python": sys.version.split()[0], "cpus": os.cpu_count(),
                              "versions": versions(), "load_before": load()}
    print("load before:", report["load_before"]["uptime"], flush=True)
    table = first_job_table(args, report)
    print(table, flush=True)
    if not args.no_extras:
        repeat = 3 if args.quick else 7
        with tempfile.TemporaryDirectory(prefix="wren-bench-") as storage_dir, \
                wren.FunctionExecutor(storage_dir=storage_dir) as fexec:
            report["noop_map_10k_warm"] = bench_noop_map(10_000, repeat, fexec)
            print("warm executor, map of 10,000:", json.dumps(report["noop_map_10k_warm"]),
                  flush=True)
            report["rss_100k"] = bench_rss(20_000 if args.quick else 100_000, storage_dir)
            print("client peak RSS of a 100k-call map:", json.dumps(report["rss_100k"]),
                  flush=True)
    report["load_after"] = load()
    print("load after:", report["load_after"]["uptime"], flush=True)
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"local-{stamp}.json"
    out.write_text(json.dumps(report, indent=2))
    (RESULTS / f"local-{stamp}.md").write_text(
        f"{report['load_before']['uptime']}\n\n{table}\n")
    print(f"saved {out} (and the table as local-{stamp}.md)")


if __name__ == "__main__":
    main()
