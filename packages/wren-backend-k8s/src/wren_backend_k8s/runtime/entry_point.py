"""Entry point of wren's k8s runtime: each pod of a wren Job runs it once.

See `wren_backend_k8s.pod_main`: it runs the task `JOB_COMPLETION_INDEX` selects (or, in a
validation pod, writes the runtime's metadata) and exits.
"""

import sys

from wren_backend_k8s.pod_main import main

if __name__ == "__main__":
    sys.exit(main())
