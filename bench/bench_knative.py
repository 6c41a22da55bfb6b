"""Dispatch rate of `knative` compute: a 10,000-call map sent to the loopback runtime.

Run it with `hatch run bench:knative` (or `python bench/bench_knative.py`; `--quick` sends
2,000 calls). Three figures, each the best of a few repetitions:

- `dispatch_direct`: the adapter's dispatcher (pooled session, `invoke_pool_threads`
  threads) sends one request per call (`chunksize=1`) straight to a runtimes/knative process
  on loopback whose queue takes them all, so the client is what is measured: calls/s from
  `invoke` until every request was answered 202.
- `dispatch_via_cluster`: the whole adapter through the Kubernetes API test double and its
  ingress gateway (an extra HTTP hop, routing by `Host`), to a runtime with `concurrency`
  worker processes that holds requests while its slots are full, so this rate is bounded by
  how fast the loopback runtime runs the calls; plus the end-to-end time.
- `map_default_chunking`: the same map with wren's own chunking (end to end).

Results are printed and saved as JSON under bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
import wren  # noqa: E402
from wren.client.futures import futures_of  # noqa: E402
from wren.dispatch import Dispatcher  # noqa: E402
from wren.protocol.invocation import Invocation  # noqa: E402
from wren.protocol.task import JobKind  # noqa: E402
from wren_backend_knative.delivery import HttpDeliverer  # noqa: E402
from wren_backend_knative.ingress import Route  # noqa: E402
from wren_backend_knative.runtime_auth import new_token  # noqa: E402

from tests.doubles.knative_serving import RUNTIME_ENTRY  # noqa: E402
from tests.servers.knative_cluster import start_cluster, stop_cluster  # noqa: E402
from tests.servers.ports import free_port, stop_process  # noqa: E402

RESULTS = Path(__file__).parent / "results"
THREADS = 64


def noop(x: Any) -> Any:
    return x


class Listener:
    """Counts calls reported lost (there must be none)."""

    lost = 0

    def status_pushed(self, document: bytes) -> None:
        pass

    def calls_lost(self, job_key: str, call_indices: Any, reason: str,
                   kind: str = "lost") -> None:
        self.lost += len(call_indices)
        print("lost:", reason, file=sys.stderr)


#: The direct runtime's bearer token (it refuses to start without one).
BENCH_TOKEN = new_token()


def start_runtime(storage_dir: str, port: int, workdir: Path) -> subprocess.Popen[bytes]:
    env = {"PATH": os.environ["PATH"], "PORT": str(port), "WREN_LISTEN_HOST": "127.0.0.1",
           "WREN_WORKER_PROCESSES": "2", "WREN_QUEUED_TASKS": "1000000",
           "WREN_STORAGE_CONFIG": json.dumps({"storage_dir": storage_dir}),
           "WREN_RUNTIME_TOKEN": BENCH_TOKEN}
    process = subprocess.Popen([sys.executable, str(RUNTIME_ENTRY)], env=env, cwd=workdir)
    for _ in range(300):
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).raise_for_status()
            return process
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError("the runtime did not start")


def bench_direct(calls: int, repeat: int, workdir: Path) -> dict[str, Any]:
    port = free_port()
    storage_dir = str(workdir / "direct-storage")
    process = start_runtime(storage_dir, port, workdir)
    rates, walls = [], []
    try:
        with wren.FunctionExecutor(backend="localhost", storage_dir=storage_dir,
                                   worker_processes=1) as fexec:
            route = Route("bench", f"http://127.0.0.1:{port}", "bench.example.com",
                          token=BENCH_TOKEN)
            dispatcher = Dispatcher(HttpDeliverer(lambda task: route, threads=THREADS,
                                                  read_timeout=600),
                                    threads=THREADS, retries=5)
            for _ in range(repeat):
                job, tasks = fexec._prepare(noop, range(calls), JobKind.MAP, chunksize=1)
                listener = Listener()
                started = time.perf_counter()
                dispatcher.submit([Invocation(t, fexec._key) for t in tasks], listener)
                dispatcher.wait()
                sent = time.perf_counter() - started
                assert listener.lost == 0
                assert fexec.get_result(futures_of(job)) == list(range(calls))
                walls.append(time.perf_counter() - started)
                rates.append(calls / sent)
            dispatcher.close()
    finally:
        stop_process(process, 60)
    return {"calls": calls, "requests": calls, "threads": THREADS,
            "dispatch_calls_per_s": max(rates), "end_to_end_s": min(walls)}


def bench_cluster(calls: int, repeat: int, workdir: Path,
                  mode: str | None = None) -> dict[str, Any]:
    cluster = start_cluster(workdir / "cluster")
    # `invoke_mode` (issue 15): `hold` keeps each task's request open while it runs
    extra = {"invoke_mode": mode} if mode else {}
    try:
        config = {"knative": cluster.knative_config(concurrency=4, max_workers=100,
                                                    invoke_pool_threads=THREADS, **extra),
                  "localhost": {"storage_dir": str(workdir / "cluster-storage")}}
        rates, walls, chunked = [], [], []
        for _ in range(repeat):
            # A fresh executor per map: wren-core's monitor does not yet snap back to its
            # fastest polling when a new job starts after an idle spell (fixed on another
            # branch), which would add up to 2 s to every map after the first.
            with wren.FunctionExecutor(backend="knative", storage="localhost", config=config,
                                       progress=False) as fexec:
                fexec.compute.runtime_info()
                started = time.perf_counter()
                futures = fexec.map(noop, range(calls), chunksize=1)
                fexec.compute.wait_dispatched()
                rates.append(calls / (time.perf_counter() - started))
                assert fexec.get_result(futures) == list(range(calls))
                walls.append(time.perf_counter() - started)
            with wren.FunctionExecutor(backend="knative", storage="localhost", config=config,
                                       progress=False) as fexec:
                fexec.compute.runtime_info()
                started = time.perf_counter()
                assert fexec.get_result(fexec.map(noop, range(calls))) == list(range(calls))
                chunked.append(time.perf_counter() - started)
    finally:
        stop_cluster(cluster)
    return {"dispatch_via_cluster": {"calls": calls, "requests": calls, "threads": THREADS,
                                     "runtime_worker_processes": 4,
                                     "dispatch_calls_per_s": max(rates),
                                     "end_to_end_s": min(walls)},
            "map_default_chunking": {"calls": calls, "requests": 100,
                                     "end_to_end_s": min(chunked)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 calls, fewer repeats")
    parser.add_argument("--invoke-mode", choices=("auto", "hold", "async"), default=None,
                        help="the knative `invoke_mode` of the cluster figures")
    args = parser.parse_args()
    calls, repeat = (2_000, 1) if args.quick else (10_000, 3)
    report: dict[str, Any] = {"python": sys.version.split()[0], "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="wren-bench-knative-") as tmp:
        report["dispatch_direct"] = bench_direct(calls, repeat, Path(tmp))
        report.update(bench_cluster(calls, repeat, Path(tmp), args.invoke_mode))
    report["invoke_mode"] = args.invoke_mode or "default"
    for key in ("dispatch_direct", "dispatch_via_cluster", "map_default_chunking"):
        print(f"{key}: {json.dumps(report[key])}")
    RESULTS.mkdir(exist_ok=True)
    saved = RESULTS / time.strftime("knative-%Y%m%d-%H%M%S.json")
    saved.write_text(json.dumps(report, indent=2))
    print("saved", saved)

if __name__ == "__main__":
    main()
