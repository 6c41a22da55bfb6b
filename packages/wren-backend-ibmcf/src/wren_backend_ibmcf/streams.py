"""A readable file over an S3 response body that closes the connection when done.

`get_object_stream` returns `io.BufferedReader(BodyReader(body))`: reads pull from the
socket as they go (nothing is loaded up front), `readline` and iteration over lines work,
and closing returns the connection to the pool.
"""

from __future__ import annotations

import io
from typing import Any


class BodyReader(io.RawIOBase):
    """Raw reader over a `StreamingBody` of the SDK."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._body.read(len(view))
        count = len(data)
        view[:count] = data
        return count

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()

