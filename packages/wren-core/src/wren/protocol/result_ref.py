"""`ResultRef`: a call's argument that is the result of a call of an earlier job.

When futures are passed as `iterdata`, the client does not download their results: once
they are done it puts one `ResultRef` per call in the payload, naming the earlier call (job
key and call index) and the status document that completed it. The worker reads that
document and the result object it names, authenticates both with the executor key, and
passes the value on (see `wren.worker.upstream`).
"""

from __future__ import annotations

import attrs


@attrs.frozen
class ResultRef:
    """The result of call `index` of job `job_key`, reported in the status document
    stored under `status_key`."""

    job_key: str
    index: int
    status_key: str
