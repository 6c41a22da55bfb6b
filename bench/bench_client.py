"""The client's share of a first job, each figure from a fresh process: `import wren`,
executor creation, the first and second call, and the first map of 100 / 1,000 / 10,000
no-op calls and a map_reduce of 1,000, as wall time and as CPU time of the client process
alone (workers excluded), next to `multiprocessing.Pool` in the same run. Run it with
`hatch run bench:client` (`--repeat N`, median of N fresh processes; default 5).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

COMMON = """
def noop(x):
    return x
def add(xs):
    return sum(xs)
kind, n = sys.argv[1], int(sys.argv[2])
"""

WREN = COMMON.join(["""
import sys, time
c0, t0 = time.process_time(), time.perf_counter()
import wren
c1, t1 = time.process_time(), time.perf_counter()
""", """fexec = wren.FunctionExecutor()
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
print(c1 - c0, t1 - t0, c3 - c1, t3 - t1, t3 - t2, t4 - t3)
"""])

POOL = COMMON.join(["""
import sys, time, os
c0, t0 = time.process_time(), time.perf_counter()
import multiprocessing as mp
c1, t1 = time.process_time(), time.perf_counter()
""", """if __name__ == "__main__":
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
    print(c1 - c0, t1 - t0, c3 - c1, t3 - t1, t3 - t2, t4 - t3)
"""])

FIELDS = ("import_cpu_s", "import_wall_s", "job_cpu_s", "start_and_job_wall_s", "job_wall_s",
          "second_call_wall_s")


def fresh(script: str, kind: str, n: int) -> dict[str, float]:
    path = f"/tmp/wren-bench-client-{os.getpid()}.py"
    with open(path, "w") as out:
        out.write(script)
    started = time.perf_counter()
    printed = subprocess.run([sys.executable, path, kind, str(n)], check=True,
                             capture_output=True, text=True).stdout
    wall = time.perf_counter() - started
    values = dict(zip(FIELDS, map(float, printed.split()), strict=True))
    values["process_wall_s"] = wall
    return values


def median_of(script: str, kind: str, n: int, repeat: int) -> dict[str, float]:
    runs = [fresh(script, kind, n) for _ in range(repeat)]
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    args = parser.parse_args()
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    scenarios = [("call", 1), ("map", 100), ("map", 1000), ("map", 10000),
                 ("map_reduce", 1000)]
    wanted = set(filter(None, args.only.split(",")))
    for kind, n in scenarios:
        name = f"{kind}-{n}"
        if wanted and name not in wanted:
            continue
        wren_run = median_of(WREN, kind, n, args.repeat)
        pool_run = median_of(POOL, kind, n, args.repeat)
        print(f"{name:16} " + " ".join(
            f"{key}={wren_run[key] * 1000:.1f}ms(pool {pool_run[key] * 1000:.1f})"
            for key in wren_run), flush=True)
        print(json.dumps({"scenario": name, "wren": wren_run, "mp_pool": pool_run}),
              file=sys.stderr)
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
