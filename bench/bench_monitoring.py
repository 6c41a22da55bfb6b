"""How fast the client learns that calls finished, and how many storage listings it costs,
with each monitor: `storage` polling alone (the localhost pool's pushes declined, as on a
backend that cannot push), `storage` with the pool's own push, and `rabbitmq` (a private
broker started from tests/servers/rabbitmq.py). Prints, per monitor, the median and 95th
percentile of worker_end_tstamp -> host_status_done_tstamp and the storage polls made.
Run it through hatch: `hatch run bench:monitoring -- --calls 400`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import wren
from wren.monitoring.setup import STORAGE_PACE
from wren.testing import functions as fn

from tests.servers.rabbitmq import RabbitMQServer


def run(label: str, calls: int, storage_dir: str, **options: Any) -> None:
    polling_only = options.pop("polling_only", False)
    with wren.FunctionExecutor(storage_dir=storage_dir, worker_processes=4, **options) as fexec:
        if polling_only:
            fexec._monitor.adapter_pushes = False
            fexec._monitor.set_pace(*STORAGE_PACE)
        fexec.get_result(fexec.map(fn.double, range(8)))  # warm the pool
        polls = fexec._monitor.polls
        started = time.perf_counter()
        futures = fexec.map(fn.sleep_then, [(0.01, i) for i in range(calls)], chunksize=1)
        fexec.wait(futures)
        elapsed = time.perf_counter() - started
        lags = sorted(f.stats["host_status_done_tstamp"] - f.stats["worker_end_tstamp"]
                      for f in futures)
        p95 = lags[int(0.95 * (len(lags) - 1))]
        print(f"  {label:<28} lag median {statistics.median(lags) * 1000:7.1f} ms, p95 "
              f"{p95 * 1000:7.1f} ms; job {elapsed:5.2f} s; storage polls "
              f"{fexec._monitor.polls - polls}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = RabbitMQServer(Path(tmp) / "rabbitmq")
        server.start()
        try:
            storage_dir = str(Path(tmp) / "storage")
            print(f"{args.calls} calls of 10 ms, one task each, 4 localhost workers")
            run("storage (polling only)", args.calls, storage_dir, polling_only=True)
            run("storage (pool push)", args.calls, storage_dir)
            run("rabbitmq", args.calls, storage_dir, monitoring="rabbitmq",
                config={"rabbitmq": {"amqp_url": server.url}})
        finally:
            server.stop()


if __name__ == "__main__":
    main()
