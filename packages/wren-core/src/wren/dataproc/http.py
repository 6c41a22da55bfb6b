"""Public URLs as map inputs, through `requests`.

On the client, `probe` asks the server with HEAD for the size and whether it accepts byte
ranges (`Accept-Ranges: bytes`); a server that does not is read in one call for the whole
object. In the worker, `url_opener` reads a range with a streamed `Range` GET; when a server
answers 200 to it anyway, the reader skips to the start itself, so the result is right even
then. Compressed transfer is refused (`Accept-Encoding: identity`) so offsets are bytes of
the object.
"""

from __future__ import annotations

import io
import threading
from typing import IO, Any

from wren._errors import InvalidInputError, StorageError
from wren.ports.partitioner import RangeOpener
from wren.streams import LimitedRaw, skip

TIMEOUT = (10.0, 120.0)
_HEADERS = {"Accept-Encoding": "identity"}
_local = threading.local()


def _session() -> Any:
    import requests

    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def probe(url: str) -> tuple[int, bool]:
    """`(size, accepts_ranges)` of a URL, or a clear error saying why it cannot be read."""
    import requests

    try:
        response = _session().head(url, headers=_HEADERS, allow_redirects=True,
                                   timeout=TIMEOUT)
        if response.status_code in (405, 501):  # no HEAD: ask with a GET, read nothing
            response = _session().get(url, headers=_HEADERS, stream=True, timeout=TIMEOUT)
            response.close()
    except requests.RequestException as exc:
        raise InvalidInputError(f"cannot reach map input {url}: {exc}") from exc
    if response.status_code >= 400:
        raise InvalidInputError(f"cannot read map input {url}: the server answered HTTP "
                                f"{response.status_code} {response.reason}")
    length = response.headers.get("Content-Length")
    if length is None or not length.isdigit():
        raise InvalidInputError(f"cannot process map input {url}: the server does not tell "
                                "its size (no Content-Length); download it and store it first")
    ranges = response.headers.get("Accept-Ranges", "").strip().lower() == "bytes"
    return int(length), ranges


def url_opener(url: str, ranges: bool) -> RangeOpener:
    """Opens byte ranges of `url` as streamed GETs."""

    def open_range(start: int, end: int) -> IO[bytes]:
        if end <= start:
            return io.BytesIO(b"")
        headers = dict(_HEADERS)
        if ranges:
            headers["Range"] = f"bytes={start}-{end - 1}"
        response = _session().get(url, headers=headers, stream=True, timeout=TIMEOUT)
        if response.status_code == 416:  # the range starts past the end
            response.close()
            return io.BytesIO(b"")
        if response.status_code >= 400:
            response.close()
            raise StorageError(f"reading {url} failed: HTTP {response.status_code} "
                               f"{response.reason}")
        body = response.raw
        if response.status_code != 206:
            skip(body, start)
        return io.BufferedReader(LimitedRaw(_Closing(body, response), end - start),
                                 buffer_size=1 << 20)

    return open_range


class _Closing:
    """A response body whose close also releases the response's connection."""

    def __init__(self, body: Any, response: Any) -> None:
        self._body, self._response = body, response

    def read(self, count: int) -> bytes:
        return self._body.read(count)

    def close(self) -> None:
        self._response.close()
