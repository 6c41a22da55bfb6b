"""The agent in a runtime container: `python3 -m wren_backend_local.agent`.

It connects back to the client that started the container (address and key in its
environment, see `agent_channel`), says hello with the runtime's facts, and serves tasks with
wren's supervised `wren.worker.pool.WorkerPool`, as the client does on the host, so a worker that crashes, is killed
or overruns its timeout is caught and named by the same code. Statuses and lost calls go back
over the channel, tagged with the executor (`owner`) they belong to. Messages from the
client: `("size", n)`, `("limit", owner, n)`, `("profile", id, backend, config)`,
`("tasks", owner, profile_id, [task dicts])`, `("stop",)`; to the client: `("hello",
facts)`, `("status", owner, document)`, `("lost", owner, job_key, indices, reason, kind)`.
The agent exits when the client goes away. `--info` prints the facts as JSON and exits.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

from wren_backend_local.agent_channel import ADDRESS_ENV, KEY_ENV, Channel, connect


def runtime_facts() -> dict[str, Any]:
    """What a client needs to know about this runtime before sending it functions: wren's
    runtime metadata document (`wren.worker.metadata`), with this package's version."""
    from wren.worker.entry import INFO_FIELD, handle

    from wren_backend_local.__about__ import __version__ as local_version

    return handle({INFO_FIELD: True}, wren_backend_local_version=local_version)


class _Relay:
    """The pool's listener for one owner: forwards what it learns to the client."""

    def __init__(self, channel: Channel, owner: int) -> None:
        self.channel, self.owner = channel, owner

    def status_pushed(self, document: bytes) -> None:
        self.channel.send(("status", self.owner, document))

    def calls_lost(self, job_key: str, call_indices: Sequence[int], reason: str,
                   kind: str = "lost") -> None:
        self.channel.send(("lost", self.owner, job_key, list(call_indices), reason, kind))


def serve(channel: Channel) -> None:
    """Answer the client's messages until it says stop or goes away."""
    from wren.protocol.invocation import Invocation
    from wren.worker.pool import get_pool

    pool = get_pool()
    profiles: dict[str, tuple[str, str, dict[str, Any]]] = {}
    relays: dict[int, _Relay] = {}
    channel.send(("hello", runtime_facts()))
    try:
        while True:
            try:
                message = channel.receive()
            except (EOFError, OSError):
                return
            kind = message[0]
            if kind == "stop":
                return
            if kind == "size":
                pool.ensure_size(int(message[1]))
            elif kind == "limit":
                pool.set_limit(message[1], int(message[2]))
            elif kind == "profile":
                profiles[message[1]] = (message[1], message[2], message[3])
            elif kind == "tasks":
                _, owner, profile_id, dicts = message
                relay = relays.setdefault(owner, _Relay(channel, owner))
                pool.submit([Invocation.from_dict(d) for d in dicts], relay,
                            profiles[profile_id], owner)
    finally:
        pool.shutdown()


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]  # only what the image installs counts as preinstalled
    if "--info" in args:
        print(json.dumps(runtime_facts()))
        return
    address = os.environ.pop(ADDRESS_ENV, "")
    key = os.environ.pop(KEY_ENV, "")  # never inherited by the workers running user code
    if not address or not key:
        sys.exit(f"wren agent: {ADDRESS_ENV} and {KEY_ENV} must be set; this program is "
                 "started by wren's localhost backend in a runtime container")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    channel = connect(address, bytes.fromhex(key))
    serve(channel)


if __name__ == "__main__":
    main()
