"""The client's share of a first job, each figure from a fresh process: `import wren`,
the executor stack's import, executor creation, the first and second call, and the first
map of 100 / 1,000 / 10,000 no-op calls and a map_reduce of 1,000, as wall time and as CPU
time of the client process alone (workers excluded), next to `multiprocessing.Pool` in the
same run. `job_cpu_excl_imports_s` is the same job's client CPU in a process that imported
every module the job needs beforehand (what executor creation and the calls themselves
cost). Run it with `hatch run bench:client` (`--repeat N`: median of N fresh processes;
`--before-src DIR`: also run the wren sources under DIR, e.g. an export of main, first on
`sys.path`, for before/after figures from one run).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMON = """
import os, sys, time
def noop(x):
    return x
def add(xs):
    return sum(xs)
kind, n, preload = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if preload != "-":  # import what the job will need first: its CPU is then the job's own
    import importlib, json
    for name in json.load(open(preload)):
        try:
            importlib.import_module(name)
        except Exception:
            pass
"""

WREN = COMMON + """
c0, t0 = time.process_time(), time.perf_counter()
import wren
c1, t1 = time.process_time(), time.perf_counter()
wren.FunctionExecutor
c1b = time.process_time()
fexec = wren.FunctionExecutor()
c2, t2 = time.process_time(), time.perf_counter()
if kind == "call":
    assert fexec.call_async(abs, -1).result() == 1
elif kind == "map":
    assert fexec.get_result(fexec.map(noop, range(n))) == list(range(n))
else:
    assert fexec.get_result(fexec.map_reduce(noop, range(n), add)) == sum(range(n))
c3, t3 = time.process_time(), time.perf_counter()
assert fexec.call_async(abs, -2).result() == 2
t4 = time.perf_counter()
if len(sys.argv) > 4:
    import json
    names = [m for m in sys.modules if m not in ("__main__", "__mp_main__")]
    json.dump(names, open(sys.argv[4], "w"))
print(c1 - c0, t1 - t0, c1b - c1, c3 - c1, t3 - t1, t3 - t2, t4 - t3)
"""

POOL = COMMON + """
c0, t0 = time.process_time(), time.perf_counter()
import multiprocessing as mp
c1, t1 = time.process_time(), time.perf_counter()
if __name__ == "__main__":
    with mp.Pool(os.cpu_count()) as pool:
        c2, t2 = time.process_time(), time.perf_counter()
        if kind == "call":
            assert pool.apply(abs, (-1,)) == 1
        elif kind == "map":
            assert pool.map(noop, range(n)) == list(range(n))
        else:
            assert pool.apply(add, (pool.map(noop, range(n)),)) == sum(range(n))
        c3, t3 = time.process_time(), time.perf_counter()
        assert pool.apply(abs, (-2,)) == 2
        t4 = time.perf_counter()
    print(c1 - c0, t1 - t0, 0.0, c3 - c1, t3 - t1, t3 - t2, t4 - t3)
"""

FIELDS = ("import_cpu_s", "import_wall_s", "executor_import_cpu_s", "job_cpu_s",
          "start_and_job_wall_s", "job_wall_s", "second_call_wall_s")


def fresh(script: Path, kind: str, n: int, env: dict[str, str], preload: str = "-",
          dump: str | None = None) -> dict[str, float]:
    started = time.perf_counter()
    command = [sys.executable, str(script), kind, str(n), preload, *([dump] if dump else [])]
    printed = subprocess.run(command, check=True, capture_output=True, text=True,
                             env=env).stdout
    wall = time.perf_counter() - started
    values = dict(zip(FIELDS, map(float, printed.split()), strict=True))
    values["process_wall_s"] = wall
    return values


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--before-src", default="", help="a tree whose packages/*/src to run "
                        "as 'before'")
    args = parser.parse_args()
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    variants = {"wren": dict(os.environ)}
    if args.before_src:
        src = sorted(str(p) for p in Path(args.before_src).glob("packages/*/src"))
        variants = {"before": dict(os.environ, PYTHONPATH=os.pathsep.join(src)), **variants}
    scenarios = [("call", 1), ("map", 100), ("map", 1000), ("map", 10000),
                 ("map_reduce", 1000)]
    wanted = set(filter(None, args.only.split(",")))
    report = []
    with tempfile.TemporaryDirectory(prefix="wren-bench-client-") as scratch:
        wren_script, pool_script = Path(scratch, "wren_job.py"), Path(scratch, "pool_job.py")
        wren_script.write_text(WREN)
        pool_script.write_text(POOL)
        for kind, n in scenarios:
            name = f"{kind}-{n}"
            if wanted and name not in wanted:
                continue
            row: dict[str, dict[str, float]] = {}
            runs: dict[str, list[dict[str, float]]] = {label: [] for label in variants}
            runs["mp_pool"] = []
            for _ in range(args.repeat):  # interleaved, so load changes hit all alike
                for label, env in variants.items():
                    runs[label].append(fresh(wren_script, kind, n, env))
                runs["mp_pool"].append(fresh(pool_script, kind, n, dict(os.environ)))
            for label, env in variants.items():
                modules = str(Path(scratch, f"modules-{label}.json"))
                fresh(wren_script, kind, n, env, dump=modules)
                own = median_of([fresh(wren_script, kind, n, env, preload=modules)
                                 for _ in range(args.repeat)])
                row[label] = median_of(runs[label])
                row[label]["job_cpu_excl_imports_s"] = own["job_cpu_s"]
            row["mp_pool"] = median_of(runs["mp_pool"])
            for label, values in row.items():
                print(f"{name:16} {label:8} " + " ".join(
                    f"{key.removesuffix('_s')}={values[key] * 1000:.1f}" for key in values),
                    flush=True)
            report.append({"scenario": name, **row})
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    print(json.dumps(report), file=sys.stderr)


if __name__ == "__main__":
    main()
