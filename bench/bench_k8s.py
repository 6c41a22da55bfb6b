"""Dispatch rate of `k8s` compute: calls handed to Kubernetes through the API test double.

Run it with `hatch run bench:k8s-dispatch` (or `python bench/bench_k8s.py`; `--quick` sends
2,000 calls). The adapter stages each job's tasks in storage (`localhost`, one object per
job), then the dispatcher creates the job's Secret and its indexed Job and makes the Secret
the Job's own: three API requests per wren job, whatever its size. Two figures, each the best
of a few repetitions, in calls/s from `invoke` until the platform accepted every Job:

- `one_job`: one map of N calls with `chunksize=1` (one Job with N completions).
- `many_jobs`: 20 maps of N/20 calls each, invoked back to back (20 Jobs).

The Jobs run an image the double cannot pull, so no pod runs during the measurement; they
are deleted after each repetition. Results are printed and saved as JSON under bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import wren  # noqa: E402
from wren.ports.compute import WorkerStorage  # noqa: E402
from wren.protocol.invocation import Invocation  # noqa: E402
from wren.protocol.task import JobKind  # noqa: E402
from wren_backend_k8s import K8sCompute  # noqa: E402
from wren_backend_k8s.config import SCHEMA  # noqa: E402

from tests.servers.knative_cluster import start_cluster, stop_cluster  # noqa: E402

RESULTS = Path(__file__).parent / "results"
IMAGE = "wren-bench/never-pulled:1"


def noop(x: Any) -> Any:
    return x


class Listener:
    """Takes the reports of pods that cannot start (expected here) without acting."""

    def status_pushed(self, document: bytes) -> None:
        pass

    def calls_lost(self, job_key: str, call_indices: Any, reason: str,
                   kind: str = "lost") -> None:
        pass


def measure(compute: K8sCompute, fexec: wren.FunctionExecutor, calls: int, jobs: int,
            repeat: int) -> dict[str, Any]:
    rates = []
    for _ in range(repeat):
        batches = []
        for _ in range(jobs):
            _, tasks = fexec._prepare(noop, range(calls // jobs), JobKind.MAP, chunksize=1)
            batches.append([Invocation(t, fexec._key) for t in tasks])
        started = time.perf_counter()
        for batch in batches:
            compute.invoke(batch, Listener())
        assert compute.wait_dispatched(120)
        rates.append(calls / (time.perf_counter() - started))
        assert compute.dispatcher.lost == 0, "a Job was not created"
        for job in compute.runtimes.cluster.list_jobs(f"wren.dev/client={compute.client_id}"):
            compute.runtimes.cluster.delete_job(job.metadata.name)
    return {"calls": calls, "jobs": jobs, "calls_per_s": round(max(rates)),
            "all": [round(r) for r in rates]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 calls, one repetition")
    args = parser.parse_args()
    calls, repeat = (2_000, 1) if args.quick else (10_000, 3)
    report: dict[str, Any] = {"python": sys.version.split()[0], "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="wren-bench-k8s-") as tmp:
        cluster = start_cluster(Path(tmp) / "cluster")
        storage = {"storage_dir": str(Path(tmp) / "storage")}
        config = SCHEMA.validate({"kubecfg_path": str(cluster.kubeconfig), "runtime": IMAGE,
                                  "max_workers": 1})
        compute = K8sCompute(config, WorkerStorage("localhost", storage, storage))
        try:
            with wren.FunctionExecutor(backend="localhost", **storage) as fexec:
                measure(compute, fexec, 200, 1, 1)  # connections, the pull secret, storage
                report["one_job"] = measure(compute, fexec, calls, 1, repeat)
                report["many_jobs"] = measure(compute, fexec, calls, 20, repeat)
        finally:
            compute.close()
            stop_cluster(cluster)
    for key in ("one_job", "many_jobs"):
        print(f"{key}: {json.dumps(report[key])}")
    RESULTS.mkdir(exist_ok=True)
    saved = RESULTS / time.strftime("k8s-dispatch-%Y%m%d-%H%M%S.json")
    saved.write_text(json.dumps(report, indent=2))
    print("saved", saved)


if __name__ == "__main__":
    main()
