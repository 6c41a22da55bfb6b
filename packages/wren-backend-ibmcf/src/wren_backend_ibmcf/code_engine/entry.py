"""The worker side of `code_engine`: each instance of a job run runs wren's array-task entry
(`wren.worker.array_task`) with its task number in `JOB_INDEX`, which Code Engine sets."""

from __future__ import annotations

import os
import sys

from wren.worker.array_task import main

if __name__ == "__main__":
    sys.exit(main("JOB_INDEX", "code_engine", runtime_name=os.environ.get("CE_JOB", ""),
                  deadline_reason="the Code Engine job run reached its time limit "
                                  "(`runtime_timeout`) before the call reported, so its worker "
                                  "process was stopped"))
