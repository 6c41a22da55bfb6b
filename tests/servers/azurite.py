"""Azurite, Microsoft's Azure Blob + Queue emulator, as a pytest fixture.

tests/bootstrap.d/30-azurite.sh installs the pinned version into tests/.node. The session
fixture `azurite` starts one in-memory server on free loopback ports, waits until the blob
and queue services listen, and stops it by PID at the end. If it cannot start, the tests
that need it fail with the reason and the fix; they never skip.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from tests.servers.ports import free_port, wait_listening

ROOT = Path(__file__).resolve().parents[2]
AZURITE = ROOT / "tests" / ".node" / "node_modules" / ".bin" / "azurite"
ACCOUNT = "devstoreaccount1"
#: The development account key Microsoft publishes for the storage emulators.
ACCOUNT_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
               "KBHBeksoGMGw==")


@attrs.frozen
class Azurite:
    """A running Azurite: its ports, process and a connection string for the dev account."""

    blob_port: int
    queue_port: int
    process: subprocess.Popen[bytes]

    @property
    def connection_string(self) -> str:
        return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
                f"BlobEndpoint=http://127.0.0.1:{self.blob_port}/{ACCOUNT};"
                f"QueueEndpoint=http://127.0.0.1:{self.queue_port}/{ACCOUNT};")

    def storage_config(self, bucket: str = "wren-tests") -> dict[str, str]:
        """An `azure_storage` config section for this server."""
        return {"connection_string": self.connection_string, "storage_bucket": bucket}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def start_azurite() -> Azurite:
    if not AZURITE.exists():
        pytest.fail(f"Azurite is not installed at {AZURITE}; run ./tests/bootstrap (it runs "
                    "tests/bootstrap.d/30-azurite.sh)")
    blob, queue, table = free_port(), free_port(), free_port()
    log = tempfile.NamedTemporaryFile(prefix="azurite-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        [str(AZURITE), "--silent", "--disableTelemetry", "--skipApiVersionCheck", "--loose",
         "--inMemoryPersistence", "--blobHost", "127.0.0.1", "--blobPort", str(blob),
         "--queueHost", "127.0.0.1", "--queuePort", str(queue), "--tableHost", "127.0.0.1",
         "--tablePort", str(table)],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        cwd=tempfile.gettempdir(), env={**os.environ, "AZURITE_ACCEPT_EULA": "true"})
    server = Azurite(blob, queue, process)
    alive = lambda: process.poll() is None  # noqa: E731
    if not (wait_listening(blob, 60, alive) and wait_listening(queue, 60, alive)):
        server.stop()
        output = Path(log.name).read_text(errors="replace")[-2000:]
        pytest.fail(f"Azurite did not start on 127.0.0.1:{blob}/{queue}:\n{output}")
    return server


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    server = start_azurite()
    try:
        yield server
    finally:
        server.stop()
