"""Cost of wren's cloud path (issue 16): storage requests counted AT THE SERVERS and
invocations, for one no-op map of `--calls` calls (default 10,000) with wren's default
chunking, on
- `ibm_cf` + `ibm_cos`: the OpenWhisk controller double (tests/doubles; its action
  containers run the real runtimes/ibmcf action proxy here) and a real Ceph RADOS Gateway
  (tests/servers/ceph.py), requests read from RGW's access log;
- `azure_containers` + `azure_storage`: a real Azurite (blobs and the task queue), its
  Container App replicas played by consumer processes running the real azure runtime
  (tests/servers/azure_consumers.py), requests read from Azurite's access log.
The runtime is deployed / described once beforehand, untimed and uncounted (a one-time
cost). Then one executor is created, runs the map, reads every result and is closed (which
cleans the job's objects); the requests of each of those phases, from the client and from
the workers alike, are counted per operation (bench/server_logs.py) and printed per call,
next to issue 16's target of at most 0.2 storage requests per call. Queue requests (Azure)
are listed apart; they are not storage requests. Results go to bench/results/.

    hatch run bench:cloudcost                       # both, 10,000 calls
    hatch run bench:cloudcost --calls 1000 --only ibm
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import wren  # noqa: E402
from server_logs import LogSince, RgwLog, count, start_logged_azurite  # noqa: E402
from wren.testing import functions as fn  # noqa: E402

RESULTS = REPO / "bench" / "results"
TARGET_PER_CALL = 0.2
STORAGE_OPERATIONS = ("PUT", "GET", "HEAD", "LIST", "DELETE")
Counts = dict[str, int]


def delivered_tasks(fexec: wren.FunctionExecutor) -> int:
    """Tasks the backend has delivered so far (both backends dispatch through
    wren.dispatch, whose dispatcher counts them)."""
    return int(fexec.compute.dispatcher.delivered)  # type: ignore[attr-defined]


def measured_job(make_executor: Callable[[], wren.FunctionExecutor], log: LogSince,
                 container: str, calls: int, skip_users: tuple[str, ...] = ()
                 ) -> dict[str, Any]:
    """One executor's life around a `calls`-call map: requests per phase, and times."""
    phases: dict[str, Counts] = {}
    times: dict[str, float] = {}

    def close_phase(name: str, started: float) -> float:
        phases[name] = dict(count(log.lines(), container, skip_users))
        times[name] = time.perf_counter() - started
        log.mark()
        return time.perf_counter()

    log.mark()
    started = time.perf_counter()
    fexec = make_executor()
    started = close_phase("create executor", started)
    try:
        delivered = delivered_tasks(fexec)
        futures = fexec.map(fn.double, range(calls))
        assert fexec.get_result(futures) == [2 * i for i in range(calls)], "wrong results"
        tasks = delivered_tasks(fexec) - delivered
        started = close_phase("map + get_result", started)
    finally:
        fexec.close()
    close_phase("close (cleans the job)", started)
    return {"calls": calls, "tasks_delivered": tasks, "phases": phases, "seconds": times}


def summary(job: dict[str, Any]) -> dict[str, Any]:
    total: collections.Counter[str] = collections.Counter()
    for counts in job["phases"].values():
        total.update(counts)
    storage = sum(n for op, n in total.items() if not op.startswith("QUEUE"))
    return {"total": dict(total), "storage_requests": storage,
            "storage_requests_per_call": storage / job["calls"],
            "meets_target": storage / job["calls"] <= TARGET_PER_CALL}


def report(name: str, job: dict[str, Any], invocations: dict[str, int]) -> str:
    calls = job["calls"]
    seen = {op for counts in job["phases"].values() for op in counts}
    ops = [*STORAGE_OPERATIONS, *sorted(seen - set(STORAGE_OPERATIONS))]
    lines = [f"{name}: {calls:,} no-op calls, default chunking, {job['tasks_delivered']:,} "
             f"tasks; invocations {json.dumps(invocations)}",
             "  requests at the server   " + "".join(f"{op:>15}" for op in ops)]
    for phase, counts in job["phases"].items():
        lines.append(f"  {phase:<25}" + "".join(f"{counts.get(op, 0):>15,}" for op in ops)
                     + f"   ({job['seconds'][phase]:.1f} s)")
    total = job["summary"]["total"]
    lines.append(f"  {'total':<25}" + "".join(f"{total.get(op, 0):>15,}" for op in ops))
    lines.append(f"  {'per call':<25}" + "".join(f"{total.get(op, 0) / calls:>15.3f}"
                                                 for op in ops))
    verdict = "met" if job["summary"]["meets_target"] else "NOT met"
    lines.append(f"  storage requests per call: {job['summary']['storage_requests_per_call']:.3f}"
                 f" (target <= {TARGET_PER_CALL}: {verdict}); invocations per call: "
                 f"{job['tasks_delivered'] / calls:.3f}")
    return "\n".join(lines)


@contextmanager
def ibm_setup(containers: int) -> Iterator[tuple[Callable[[], wren.FunctionExecutor], LogSince,
                                                 Callable[[], dict[str, int]]]]:
    from wren_backend_ibmcf import IbmCosStorage

    from tests.doubles.openwhisk_handle import OpenWhiskDouble
    from tests.servers.ceph import start_gateway

    gateway = start_gateway()
    double = None
    try:
        double = OpenWhiskDouble.start(max_containers=containers, record=False)
        cos = gateway.ibm_cos_config("wren-bench")
        IbmCosStorage(cos | {"check_credentials": False}).create_bucket("wren-bench")
        config = {"ibm": {"iam_api_key": double.iam_api_key}, "ibm_cf": double.ibm_cf_config(),
                  "ibm_cos": cos, "wren": {"progress": False}}

        def make() -> wren.FunctionExecutor:
            return wren.FunctionExecutor(backend="ibm_cf", storage="ibm_cos", config=config)

        with make() as fexec:  # deploys the action: a one-time cost, not counted
            fexec.get_result(fexec.map(fn.double, range(4)))
        yield make, RgwLog(gateway), double.stats
    finally:
        if double is not None:
            double.stop()
        gateway.stop()


@contextmanager
def azure_setup(consumers: int) -> Iterator[tuple[Callable[[], wren.FunctionExecutor],
                                                  LogSince, Callable[[], dict[str, int]]]]:
    from tests.servers.azure_consumers import ConsumerFleet
    from tests.servers.azure_runtime import runtime_setup

    runtime = "bench/cloudcost:1"
    server, log = start_logged_azurite()
    fleet = None
    try:
        config, settings = runtime_setup(server, None, runtime)
        del config["azure_containers"]["max_workers"]  # the tests' 4; users get the default
        config["wren"] = {"progress": False}
        fleet = ConsumerFleet(settings.environ(), consumers).start()

        def make() -> wren.FunctionExecutor:
            return wren.FunctionExecutor(backend="azure_containers", storage="azure_storage",
                                         config=config)

        with make() as fexec:  # the consumers describe the runtime once: not counted
            fexec.get_result(fexec.map(fn.double, range(4)))
        yield make, log, lambda: {}
    finally:
        if fleet is not None:
            fleet.stop()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--only", choices=("ibm", "azure"), help="run one platform only")
    parser.add_argument("--workers", type=int, default=4,
                        help="action containers (ibm) / consumer processes (azure)")
    args = parser.parse_args()
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print("load:", uptime, flush=True)
    out: dict[str, Any] = {"calls": args.calls, "load_before": uptime}
    platforms = {"ibm": ("ibm_cf + ibm_cos (OpenWhisk double, Ceph RGW)", ibm_setup,
                         "wren-bench", ("anonymous",)),
                 "azure": ("azure_containers + azure_storage (Azurite)", azure_setup,
                           "wren-azure-tests", ())}
    for key, (name, setup, container, skip) in platforms.items():
        if args.only and key != args.only:
            continue
        with setup(args.workers) as (make, log, stats):
            before = stats()
            job = measured_job(make, log, container, args.calls, skip)
            after = stats()
        invocations = {k: after[k] - before.get(k, 0) for k in ("invocations", "completed")
                       if isinstance(after.get(k), int)}
        job["controller"] = invocations
        job["summary"] = summary(job)
        out[key] = job
        print(report(name, job, invocations or {"tasks_delivered": job["tasks_delivered"]}),
              flush=True)
    out["load_after"] = subprocess.run(["uptime"], capture_output=True, text=True
                                       ).stdout.strip()
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"cloudcost-{args.calls}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(out, indent=2))
    print(f"saved {path}")


if __name__ == "__main__":
    main()
