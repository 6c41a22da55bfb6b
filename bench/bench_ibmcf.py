"""`ibm_cf` dispatch and end-to-end time, against the OpenWhisk controller double on loopback
(a stand-in for IBM Cloud Functions' controller, tests/doubles) with `ibm_cos` on a real Ceph
RADOS Gateway, for the targets of the IBM Cloud issue.

Figures for a `--calls`-call map (default 10,000):
- dispatch: one activation per call (`chunksize=1`), from `map()` until the controller has
  accepted every invocation (HTTP 202), best of `--repeat` runs while the controller holds the
  activations queued (as a real controller does; its containers run elsewhere): the
  client-side dispatch rate, target >= 2,000 invocations/s (PyWren-IBM needed ~3 s for
  1,000); reported with and without the job's build time (pickling the arguments);
- the same dispatch while the activations run on this machine at the same time;
- end to end: that map until `get_result()` returns every value, and the same with wren's
  default chunking (a few calls per activation), which is how wren runs a map by default.
The controller double, its action containers (real runtimes/ibmcf action proxies) and Ceph
share these 2 cores with the client, so end-to-end times measure this machine, not a cloud.
Run it with `hatch run bench:ibmcf` (needs tests/bootstrap for Ceph); results go to
bench/results/.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import wren  # noqa: E402
from wren.testing import functions as fn  # noqa: E402
from wren_backend_ibmcf import IbmCosStorage  # noqa: E402

from tests.doubles.openwhisk_handle import OpenWhiskDouble  # noqa: E402
from tests.servers.ceph import start_gateway  # noqa: E402

RESULTS = REPO / "bench" / "results"
BUCKET = "wren-bench"


def dispatch_run(fexec: wren.FunctionExecutor, double: OpenWhiskDouble, calls: int,
                 hold: bool) -> dict[str, float]:
    """One `chunksize=1` map: build and dispatch times, and end to end unless held."""
    double.hold(hold)
    started = time.perf_counter()
    futures = fexec.map(fn.double, range(calls), chunksize=1)
    built = time.perf_counter()
    if not fexec.compute.wait_dispatched(600):
        raise RuntimeError("invocations were still being sent after 600 s")
    dispatched = time.perf_counter()
    double.hold(False)
    results = fexec.get_result(futures)
    finished = time.perf_counter()
    assert results == [2 * i for i in range(calls)], "wrong results"
    out = {"build_s": built - started, "dispatch_s": dispatched - started,
           "invoke_s": dispatched - built}
    if not hold:
        out["end_to_end_s"] = finished - started
    return out


def chunked_run(fexec: wren.FunctionExecutor, calls: int) -> dict[str, float]:
    started = time.perf_counter()
    futures = fexec.map(fn.double, range(calls))
    tasks = fexec.compute.dispatcher.delivered
    results = fexec.get_result(futures)
    assert results == [2 * i for i in range(calls)], "wrong results"
    return {"end_to_end_s": time.perf_counter() - started,
            "activations": fexec.compute.dispatcher.delivered - tasks}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--containers", type=int, default=4,
                        help="action containers the controller double may run at once")
    parser.add_argument("--threads", type=int, default=64, help="invoke_pool_threads")
    options = parser.parse_args(argv)
    gateway = start_gateway()
    # Namespace limits lifted: this measures the client's dispatch rate, not IBM's quota.
    double = OpenWhiskDouble.start(max_containers=options.containers, record=False,
                                   limits={"concurrent": 10**9, "minute_rate": 10**9})
    try:
        cos = gateway.ibm_cos_config(BUCKET)
        IbmCosStorage(cos | {"check_credentials": False}).create_bucket(BUCKET)
        config = {"ibm": {"iam_api_key": double.iam_api_key},
                  "ibm_cf": double.ibm_cf_config(invoke_pool_threads=options.threads),
                  "ibm_cos": cos, "wren": {"progress": False}}
        with wren.FunctionExecutor(backend="ibm_cf", storage="ibm_cos", config=config) as fexec:
            fexec.get_result(fexec.map(fn.double, range(8), chunksize=1))  # deploy and warm
            held = [dispatch_run(fexec, double, options.calls, hold=True)
                    for _ in range(options.repeat)]
            live = dispatch_run(fexec, double, options.calls, hold=False)
            chunked = chunked_run(fexec, options.calls)
        best = min(held, key=lambda r: r["dispatch_s"])
        report = {
            "calls": options.calls, "containers": options.containers,
            "invoke_pool_threads": options.threads,
            "dispatch_rate_per_s": options.calls / best["dispatch_s"],
            "dispatch_rate_without_build_per_s": options.calls / best["invoke_s"],
            "dispatch_s": best["dispatch_s"], "build_s": best["build_s"],
            "dispatch_rate_while_executing_per_s": options.calls / live["dispatch_s"],
            "end_to_end_one_call_per_activation_s": live["end_to_end_s"],
            "end_to_end_default_chunking_s": chunked["end_to_end_s"],
            "default_chunking_activations": chunked["activations"],
            "held_runs": held, "live_run": live, "controller": double.stats(),
        }
    finally:
        double.stop()
        gateway.stop()
    print(f"ibm_cf via the loopback controller double, {options.calls} calls "
          f"({options.containers} containers, {options.threads} invoker threads)")
    print(f"  dispatch, 1 call/activation  : {report['dispatch_s']:.2f} s = "
          f"{report['dispatch_rate_per_s']:,.0f} invocations/s (target >= 2,000); "
          f"{report['dispatch_rate_without_build_per_s']:,.0f}/s after the "
          f"{report['build_s']:.2f} s job build")
    print(f"  the same while executing here: "
          f"{report['dispatch_rate_while_executing_per_s']:,.0f} invocations/s")
    print(f"  end to end, 1 call/activation: "
          f"{report['end_to_end_one_call_per_activation_s']:.1f} s")
    print(f"  end to end, default chunking : {report['end_to_end_default_chunking_s']:.1f} s "
          f"({report['default_chunking_activations']} activations)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ibmcf.json").write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
