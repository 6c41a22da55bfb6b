"""`wren.protocol`: every object that crosses the client/storage/worker boundary.

Tasks, call bindings, status documents, lost-call reports, runtime metadata and the storage
key layout live here, at the bottom of wren-core: the client (`wren.client`) and the worker
(`wren.worker`) both stand on this package and never import each other. Each object has one
encoder and one decoder and carries the protocol version, so a client and a runtime of
different wren versions fail with a message that names both.
"""
