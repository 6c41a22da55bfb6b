"""Dispatch rate of `azure_containers`: a 10,000-call map put on an Azurite queue.

Starts Azurite (installed by tests/bootstrap), then for each setting times
`FunctionExecutor.map` of 10,000 calls (serializing, cutting tasks, and returning from
`invoke`) and the wait until every task message is on the queue, and checks the queue holds
at least one message per task (an SDK retry of a send whose reply was lost can add a
duplicate, which consumers absorb: a task whose status exists is not run again). No consumer runs, so nothing is taken off the queue; the
runtime's metadata is pre-stored so the executor does not wait for one.

    hatch run bench:azure                 # or: python bench/bench_azure.py --calls 10000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import wren
from wren.testing import functions as fn
from wren.worker.metadata import runtime_metadata
from wren_backend_azure import AzureBlobStorage
from wren_backend_azure.clients import ensure_queue
from wren_backend_azure.metadata import metadata_key
from wren_backend_azure.naming import app_name

from tests.servers.azurite import start_azurite

BUCKET = "wren-bench"


def run(connection: dict[str, str], calls: int, chunksize: int | None, threads: int) -> None:
    runtime = f"bench/dispatch-{threads}:1"
    storage = AzureBlobStorage(connection)
    storage.put_object(BUCKET, metadata_key(app_name(runtime, 512)),
                       runtime_metadata(runtime).encode())
    config = {"azure_storage": connection,
              "azure_containers": {"runtime": runtime, "max_workers": 100,
                                   "invoke_pool_threads": threads}}
    with wren.FunctionExecutor(backend="azure_containers", storage="azure_storage",
                               config=config, progress=False) as fexec:
        fexec.compute.runtime_info()
        queue = fexec.compute.queue()
        ensure_queue(queue)
        queue.clear_messages()
        started = time.perf_counter()
        fexec.map(fn.double, range(calls), chunksize=chunksize)
        returned = time.perf_counter() - started
        fexec.compute.wait_dispatched()
        total = time.perf_counter() - started
        queued = queue.get_queue_properties().approximate_message_count
        tasks = fexec.compute.dispatcher.delivered
        queue.clear_messages()
    assert queued >= tasks, f"only {queued} messages on the queue for {tasks} tasks"
    print(f"{calls:>6} calls, chunksize {chunksize or 'auto':>4}, {threads:>2} threads: "
          f"{tasks:>6} tasks; map() returned in {returned:6.2f} s; all queued in "
          f"{total:6.2f} s = {tasks / total:7.0f} messages/s, {calls / total:8.0f} calls/s"
          f" ({queued - tasks} duplicate messages from SDK retries)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    args = parser.parse_args()
    server = start_azurite()
    try:
        connection = server.storage_config(BUCKET)
        for chunksize, threads in ((None, 16), (1, 16)):
            run(connection, args.calls, chunksize, threads)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
