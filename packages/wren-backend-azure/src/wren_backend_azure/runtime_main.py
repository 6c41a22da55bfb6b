"""The process a runtime container starts: the consumer of the runtime's queue.

One consumer per container serves the queue with `worker_processes` supervised worker
processes (`wren.worker.pool`), so a function that crashes or hangs its worker is reported
on its call and the consumer goes on. SIGTERM, which Container Apps sends on scale-in, lets
the tasks in flight finish.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

from wren_backend_azure.consumer import Consumer, install_signal_handlers
from wren_backend_azure.settings import ConsumerSettings


def main() -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(process)d %(levelname)s %(message)s")
    os.environ["WREN_WORKER"] = "1"
    settings = ConsumerSettings.from_env()
    stop = threading.Event()
    install_signal_handlers(stop)
    Consumer(settings, stop).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
