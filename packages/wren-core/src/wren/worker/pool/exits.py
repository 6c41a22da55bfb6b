"""Say in words how a worker process ended: exit code, or signal with its usual meaning."""

from __future__ import annotations

import signal

_MEANING = {
    "SIGKILL": "sent by another process, or by the system when memory runs out",
    "SIGSEGV": "segmentation fault",
    "SIGBUS": "bus error",
    "SIGABRT": "aborted",
    "SIGFPE": "floating-point exception",
    "SIGILL": "illegal instruction",
    "SIGTERM": "terminated",
}


def describe_exit(returncode: int | None) -> str:
    """E.g. "exited with code 3" or "was killed by signal SIGSEGV (segmentation fault)"."""
    if returncode is None:
        return "stopped responding"
    if returncode >= 0:
        return f"exited with code {returncode}"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        return f"was killed by signal {-returncode}"
    meaning = _MEANING.get(name)
    return f"was killed by signal {name}" + (f" ({meaning})" if meaning else "")
