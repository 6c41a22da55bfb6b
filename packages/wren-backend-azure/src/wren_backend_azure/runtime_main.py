"""The process a runtime container starts: consumers of the runtime's queue.

With `worker_processes` 1 the process is the consumer. With more, it supervises that many
consumer processes (`python -m wren_backend_azure.runtime_main` each, one task at a time)
and starts a new one whenever one exits, for instance because a function crashed it.
SIGTERM, which Container Apps sends on scale-in, lets every consumer finish its current task.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading

from wren_backend_azure.consumer import Consumer, install_signal_handlers
from wren_backend_azure.settings import PROCESSES, ConsumerSettings

logger = logging.getLogger("wren.azure.consumer")


def supervise(processes: int, stop: threading.Event) -> None:
    command = [sys.executable, "-m", "wren_backend_azure.runtime_main"]
    env = {**os.environ, PROCESSES: "1"}
    children: list[subprocess.Popen[bytes]] = [subprocess.Popen(command, env=env)
                                               for _ in range(processes)]
    while not stop.wait(0.5):
        for slot, child in enumerate(children):
            code = child.poll()
            if code is not None:
                logger.warning("consumer %d exited with %d; starting another", child.pid, code)
                children[slot] = subprocess.Popen(command, env=env)
    for child in children:
        child.send_signal(signal.SIGTERM)
    for child in children:
        child.wait()


def main() -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(process)d %(levelname)s %(message)s")
    os.environ["WREN_WORKER"] = "1"
    settings = ConsumerSettings.from_env()
    stop = threading.Event()
    install_signal_handlers(stop)
    if settings.processes > 1:
        supervise(settings.processes, stop)
    else:
        Consumer(settings, stop).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
