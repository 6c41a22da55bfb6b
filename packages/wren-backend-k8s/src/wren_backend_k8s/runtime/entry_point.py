"""Entry point of wren's k8s runtime: each pod of a wren Job runs it once.

It is wren's array-task entry (`wren.worker.array_task`) with the task number Kubernetes sets
on an indexed Job's pods, `JOB_COMPLETION_INDEX` (or, in a validation pod, it writes the
runtime's metadata) and exits.
"""

import os
import sys

from wren.worker.array_task import main

if __name__ == "__main__":
    sys.exit(main("JOB_COMPLETION_INDEX", "k8s",
                  runtime_name=os.environ.get("WREN_RUNTIME_NAME", "")))
