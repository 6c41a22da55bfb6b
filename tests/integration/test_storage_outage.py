"""Bounded failure on a real storage that dies mid-job: with its Azurite stopped for good,
every future of a localhost job over `azure_storage` resolves with an error that names the
storage within `execution_timeout` + 60 s, and one request to a dead endpoint fails fast."""

from __future__ import annotations

import threading
import time

import pytest
import wren
from wren.testing import functions as fn
from wren_backend_azure import AzureBlobStorage

from tests.servers.azurite import ACCOUNT, ACCOUNT_KEY, start_azurite
from tests.servers.ports import free_port

EXECUTION_TIMEOUT = 10


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_every_future_resolves_with_an_error_after_azurite_stops_for_good() -> None:
    server = start_azurite()
    config = {"azure_storage": server.storage_config("outage"),
              "wren": {"execution_timeout": EXECUTION_TIMEOUT},
              "localhost": {"worker_processes": 4}}
    try:
        with wren.FunctionExecutor(backend="localhost", storage="azure_storage",
                                   config=config) as fexec:
            futures = fexec.map(fn.sleep_then, [(1.0, i) for i in range(20)])
            time.sleep(1.5)  # some calls are done, some run, most wait
            server.stop()
            stopped = time.monotonic()
            outcomes: dict[int, tuple[str, float]] = {}

            def resolve(index: int, future: wren.ResponseFuture) -> None:
                try:
                    future.result()
                    outcome = "ok"
                except Exception as exc:
                    outcome = f"{type(exc).__name__}: {exc}"
                outcomes[index] = (outcome, time.monotonic() - stopped)

            threads = [threading.Thread(target=resolve, args=(i, f), daemon=True)
                       for i, f in enumerate(futures)]
            for thread in threads:
                thread.start()
            limit = stopped + EXECUTION_TIMEOUT + 60
            for thread in threads:
                thread.join(max(0.0, limit - time.monotonic()))
            assert len(outcomes) == 20, f"unresolved: {sorted(set(range(20)) - set(outcomes))}"
            failed = {i: o for i, (o, _) in outcomes.items() if o != "ok"}
            assert len(failed) >= 10, "the storage died before most calls could report"
            endpoint = f"127.0.0.1:{server.blob_port}"
            for index, outcome in failed.items():
                assert "azure_storage" in outcome or endpoint in outcome, (index, outcome)
    finally:
        server.stop()


def test_a_request_to_a_dead_endpoint_fails_within_seconds_naming_it() -> None:
    port = free_port()  # nothing listens there
    storage = AzureBlobStorage({
        "connection_string": f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};"
                             f"AccountKey={ACCOUNT_KEY};"
                             f"BlobEndpoint=http://127.0.0.1:{port}/{ACCOUNT};",
        "storage_bucket": "dead"})
    started = time.monotonic()
    with pytest.raises(wren.StorageError, match=rf"get dead/k failed: cannot reach .*"
                                                rf"http://127\.0\.0\.1:{port}/{ACCOUNT}"):
        storage.get_object("dead", "k")
    assert time.monotonic() - started < 10
    storage.close()
