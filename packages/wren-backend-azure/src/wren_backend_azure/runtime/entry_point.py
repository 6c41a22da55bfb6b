"""Entry point of wren's Azure Container Apps runtime: serve this runtime's task queue.

The Container App sets the queue, the storage backend and (as secrets) their credentials in
the environment; see `wren_backend_azure.settings`. Run it by hand with the same variables
to serve a queue from any machine.
"""

import sys

from wren_backend_azure.runtime_main import main

if __name__ == "__main__":
    sys.exit(main())
