"""Multipart upload of large bodies: parts read one at a time, sent by a few threads.

A body (bytes or a readable binary file) at least `threshold` bytes long is cut into parts
of `part_size` bytes (S3 wants at least 5 MiB per part but the last); at most `concurrency`
parts are in memory and in flight at once, so a file of any size streams through bounded
memory. The object appears atomically when the upload completes; on any failure the upload
is aborted so no orphaned parts are left behind (and billed).
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Iterator
from typing import IO, Any

Body = bytes | bytearray | memoryview | IO[bytes]


def iter_parts(body: Body, part_size: int, first: bytes = b"") -> Iterator[bytes | memoryview]:
    """The body's parts; `first` is data already read from a file body."""
    if isinstance(body, (bytes, bytearray, memoryview)):
        view = memoryview(body).cast("B")
        for start in range(0, len(view), part_size):
            yield view[start:start + part_size]
        return
    pending = first
    while True:
        while len(pending) < part_size:
            chunk = body.read(part_size - len(pending))
            if not chunk:
                break
            pending += chunk
        if not pending:
            return
        yield pending
        if len(pending) < part_size:
            return
        pending = b""


def upload(client: Any, bucket: str, key: str, parts: Iterator[bytes | memoryview],
           concurrency: int = 4) -> int:
    """Upload `parts` as one object; return the number of parts."""
    upload_id = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    done: dict[int, str] = {}
    slots = threading.Semaphore(concurrency)
    failed = threading.Event()

    def send(number: int, data: bytes | memoryview) -> None:
        try:
            answer = client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id,
                                        PartNumber=number, Body=bytes(data))
            done[number] = answer["ETag"]
        except BaseException:
            failed.set()
            raise
        finally:
            slots.release()

    try:
        with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
            futures = []
            for number, data in enumerate(parts, start=1):
                slots.acquire()
                if failed.is_set():
                    slots.release()
                    break
                futures.append(pool.submit(send, number, data))
            for future in futures:
                future.result()
        client.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": done[n]}
                                       for n in sorted(done)]})
    except BaseException:
        try:
            client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        except Exception:  # the original error matters more
            pass
        raise
    return len(done)
