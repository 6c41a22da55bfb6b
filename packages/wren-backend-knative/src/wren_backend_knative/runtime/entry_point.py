"""Entry point of wren's Knative runtime: the HTTP server Knative Serving runs in the container.

See `wren_backend_knative.runtime_server`: `POST /` takes a task and answers 202 once a worker
slot has it, `GET /metadata` describes the runtime, `GET /healthz` is the readiness probe.
"""

from wren_backend_knative.runtime_server import main

if __name__ == "__main__":
    main()
