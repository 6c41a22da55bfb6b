"""Fixtures for `azure_containers` tests: the ARM double over TLS, and the config of a runtime
whose Container App the double "deploys" and whose replicas a `ConsumerFleet` plays.

`arm` starts the double (tests/doubles/azure_arm.py) for a module and points the HTTPS
clients of this process at its certificate through `REQUESTS_CA_BUNDLE` (`trusting`),
restored afterwards.
`runtime_setup` gives the executor config sections and the consumers' settings for one
runtime, both from the same values, as `wren runtime deploy` would.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import pytest
from wren.ports import WorkerStorage
from wren_backend_azure import ConsumerSettings
from wren_backend_azure.config import COMPUTE_SCHEMA, STORAGE_SCHEMA
from wren_backend_azure.naming import app_name

from tests.doubles.azure_arm import AzureResourceManagerDouble
from tests.servers.azurite import Azurite

BUCKET = "wren-azure-tests"


@contextlib.contextmanager
def trusting(double: AzureResourceManagerDouble) -> Iterator[AzureResourceManagerDouble]:
    """Trust a started double's certificate in this process until the block ends; then stop
    the double."""
    previous = os.environ.get("REQUESTS_CA_BUNDLE")
    os.environ["REQUESTS_CA_BUNDLE"] = str(double.cert_path)
    try:
        yield double
    finally:
        if previous is None:
            os.environ.pop("REQUESTS_CA_BUNDLE", None)
        else:
            os.environ["REQUESTS_CA_BUNDLE"] = previous
        double.stop()


@pytest.fixture(scope="module")
def arm() -> Iterator[AzureResourceManagerDouble]:
    with trusting(AzureResourceManagerDouble().start()) as double:
        yield double


def compute_section(arm: AzureResourceManagerDouble | None, runtime: str,
                    **overrides: Any) -> dict[str, Any]:
    """An `azure_containers` section; with `arm`, pointing at the double."""
    section: dict[str, Any] = {"runtime": runtime, "max_workers": 4}
    if arm is not None:
        section.update(subscription_id="00000000-0000-0000-0000-00000000beef",
                       resource_group="wren-tests", region="westeurope", environment="wren",
                       tenant_id=arm.tenant, client_id=arm.client_id,
                       client_secret=arm.client_secret, authority_host=arm.url,
                       management_endpoint=arm.url)
    return {**section, **overrides}


def runtime_setup(azurite: Azurite, arm: AzureResourceManagerDouble | None, runtime: str,
                  **overrides: Any) -> tuple[dict[str, Any], ConsumerSettings]:
    """Executor config (`config=`) and the matching consumers' settings for `runtime`."""
    storage = azurite.storage_config(BUCKET)
    compute = compute_section(arm, runtime, **overrides)
    validated = COMPUTE_SCHEMA.validate(compute)
    worker_storage = WorkerStorage("azure_storage", storage, STORAGE_SCHEMA.public(storage))
    queue = app_name(runtime, int(validated["runtime_memory"]))
    settings = ConsumerSettings.for_runtime(validated, worker_storage, queue, runtime)
    return {"azure_storage": storage, "azure_containers": compute}, settings
