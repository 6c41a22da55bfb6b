"""Functions the contract suite runs remotely.

They live in wren-core itself (and import nothing but the standard library at module level)
so every runtime can import them by reference, whatever test tools it lacks.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any


def add(x: int, y: int = 0) -> int:
    return x + y


def double(x: Any) -> Any:
    return x * 2


def echo(*args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return args, kwargs


def with_id(x: int, id: int) -> tuple[int, int]:
    return x, id


def id_first(id: int, x: int) -> tuple[int, int]:
    return id, x


def total(results: list[Any]) -> Any:
    return sum(results)


def ordered(results: list[Any]) -> list[Any]:
    return list(results)


def sleep_for(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def sleep_then(seconds: float, value: Any) -> Any:
    time.sleep(seconds)
    return value


def wait_for_object(bucket: str, key: str, value: Any, storage: Any,
                    timeout: float = 120.0) -> Any:
    """Return `value` once object `key` exists in `bucket` (a gate the test opens by writing
    it, from any machine): holds a call running for as long as a test needs."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            storage.head_object(bucket, key)
            return value
        except Exception:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the gate object {key!r} did not appear") from None
            time.sleep(0.05)


def fail_with(message: str) -> None:
    raise ValueError(message)


def fail_on(x: int, bad: int) -> int:
    if x == bad:
        raise KeyError(f"call {x} is the bad one")
    return x


def read_env(name: str) -> str | None:
    return os.environ.get(name)


def talk(x: int) -> int:
    """Print one line to stdout and one to stderr (none for 0); return `x`."""
    if x:
        print(f"out {x}")
        print(f"err {x}", file=sys.stderr)
    return x


def payload_size(data: bytes) -> int:
    return len(data)


def make_bytes(size: int) -> bytes:
    return b"x" * size


def exit_process(code: int) -> None:
    os._exit(code)


def raise_system_exit(code: int) -> None:
    """A function that calls `sys.exit`: its `SystemExit` must stay data on its future."""
    raise SystemExit(code)


def kill_self(signal_number: int) -> None:
    os.kill(os.getpid(), signal_number)


def segfault(_: Any = None) -> None:
    import ctypes

    ctypes.string_at(0)


def raise_memory_error(_: Any = None) -> None:
    raise MemoryError("the function ran out of memory")


def ignore_alarm_and_sleep(seconds: float) -> None:
    import signal

    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    time.sleep(seconds)


def catch_timeout_then_sleep(seconds: float) -> str:
    """Sleep `seconds`; when the call's timeout interrupts that, catch it and sleep again
    (a second interruption of the same call would escape)."""
    from wren._errors import FunctionTimeoutError

    try:
        time.sleep(seconds)
    except FunctionTimeoutError:
        time.sleep(seconds)
        return "caught once"
    return "not interrupted"


def unpicklable_result(_: Any = None) -> Any:
    import threading

    return threading.Lock()


def worker_pid(_: Any = None) -> int:
    return os.getpid()


def sleep_then_pid(seconds: float, value: Any) -> tuple[Any, int]:
    """`value` after `seconds`, with the pid of the worker that ran the call."""
    time.sleep(seconds)
    return value, os.getpid()


class Unpicklable:
    """An object that refuses to be pickled."""

    def __reduce__(self) -> Any:
        raise TypeError("this object refuses to be pickled")


# Data processing: functions whose `obj` parameter receives a chunk ----------------------------
def chunk_lines(obj: Any) -> list[bytes]:
    """The chunk's lines, read by iterating over its stream."""
    return list(obj.data_stream)


def chunk_bytes(obj: Any) -> bytes:
    return obj.data_stream.read()


def chunk_info(obj: Any) -> dict[str, Any]:
    """Where the chunk comes from and which part it is."""
    return {"bucket": obj.bucket, "key": obj.key, "url": obj.url, "path": obj.path,
            "part": obj.part, "total_parts": obj.total_parts,
            "data_byte_range": obj.data_byte_range, "chunk_size": obj.chunk_size}


def count_lines(obj: Any) -> int:
    """Lines in the chunk, read in blocks (how a real job scans big chunks)."""
    count = 0
    while block := obj.data_stream.read(1 << 20):
        count += block.count(b"\n")
    return count


def chunk_key_and_tag(obj: Any, tag: str) -> tuple[str, str]:
    return obj.key, tag


def chunk_with_storage(obj: Any, storage: Any) -> tuple[str, bytes]:
    """The injected client's type, and the whole object read again through it."""
    return type(storage).__name__, storage.get_object(obj.bucket, obj.key)


def store_text(text: str, storage: Any) -> Any:
    """Stores `text` as a CloudObject through the injected Storage client and returns it."""
    return storage.put_cloudobject(text)


def concat(results: list[list[Any]]) -> list[Any]:
    return [item for result in results for item in result]
