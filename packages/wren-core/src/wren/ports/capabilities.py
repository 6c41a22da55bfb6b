"""Names of the optional abilities an adapter may declare in its `capabilities` set.

Core code asks `backend.supports(X)` before relying on an optional behaviour, and an
operation an adapter lacks raises `NotSupportedError` naming the backend.
"""

from __future__ import annotations

# Compute backends
PUSH_STATUS = "push_status"
"""Workers push each status document to the client as it is written (no polling needed)."""
SUPERVISES_CALLS = "supervises_calls"
"""The backend itself reports dead, killed or timed-out workers through `calls_lost`."""
RUNTIME_MANAGEMENT = "runtime_management"
"""`deploy_runtime`, `update_runtime`, `delete_runtime` and `list_runtimes` work."""
RUNTIME_BUILD = "runtime_build"
"""`build_runtime` builds a container image."""
REMOTE_INVOKER = "remote_invoker"
"""One invocation can fan out the rest of a job from inside the platform: the adapter reads
the `remote_invoker` config key and uses `wren.worker.fanout`."""
SHARED_FILESYSTEM = "shared_filesystem"
"""Workers run on the client's machine and can read its local files (map over local paths)."""
SHARED_MEMORY = "shared_memory"
"""Compute: workers run on the client's machine, as its user and outside any container, so
they read what the client keeps in shared memory. Storage: `put_shared` keeps big buffers
in this machine's shared memory (`wren.serialize.out_of_band`)."""

# Storage backends
BYTE_RANGE = "byte_range"
"""`get_object(..., byte_range=(start, end))` reads only that range."""
STREAMING = "streaming"
"""`get_object_stream` reads incrementally instead of loading the object into memory."""
MULTIPART_UPLOAD = "multipart_upload"
"""Large bodies are uploaded in parts."""
PUBLIC_URL = "public_url"
"""Objects can be reached through a URL without credentials (presigned or public)."""
