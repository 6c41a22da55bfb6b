"""`azure_containers` runtime management through the Azure SDK, against the ARM double
(tests/doubles/azure_arm.py), checking the Container App spec that Azure would receive.
Queues and metadata live in a real Azurite."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
import wren
from wren.ports import WorkerStorage
from wren_backend_azure import AzureContainersCompute
from wren_backend_azure.clients import queue_client
from wren_backend_azure.config import COMPUTE_SCHEMA, STORAGE_SCHEMA
from wren_backend_azure.metadata import metadata_key
from wren_backend_azure.naming import app_name

from tests.doubles.azure_arm import AzureResourceManagerDouble
from tests.servers.azure_runtime import BUCKET, arm, compute_section  # noqa: F401 - fixture
from tests.servers.azurite import Azurite, azurite  # noqa: F401 - the fixture

IMAGE = "wrenuser/wren-azure-v311:mgmt"


@pytest.fixture
def make_compute(azurite: Azurite, arm: AzureResourceManagerDouble  # noqa: F811
                 ) -> Iterator[Any]:
    made: list[AzureContainersCompute] = []

    def make(**overrides: Any) -> AzureContainersCompute:
        storage = azurite.storage_config(BUCKET)
        config = COMPUTE_SCHEMA.validate(compute_section(arm, IMAGE, **overrides))
        compute = AzureContainersCompute(
            config, WorkerStorage("azure_storage", storage, STORAGE_SCHEMA.public(storage)))
        made.append(compute)
        return compute

    yield make
    for compute in made:
        compute.close()


def _last_put(arm: AzureResourceManagerDouble, name: str) -> dict[str, Any]:  # noqa: F811
    puts = [r for r in arm.writes() if r.method == "PUT" and r.path.endswith("/" + name)]
    assert puts, f"no PUT of container app {name}"
    return puts[-1].body


def test_deploy_sends_the_app_spec(make_compute: Any, azurite: Azurite,  # noqa: F811
                                   arm: AzureResourceManagerDouble) -> None:  # noqa: F811
    compute = make_compute(max_workers=7, worker_processes=2)
    entry = compute.deploy_runtime(IMAGE, 2048)
    name = app_name(IMAGE, 2048)
    assert (entry.name, entry.memory, entry.worker_name) == (IMAGE, 2048, name)
    body = _last_put(arm, name)
    props = body["properties"]
    assert body["location"] == "westeurope"
    assert body["tags"] == {"wren-runtime": "true", "wren-image": IMAGE, "wren-memory": "2048",
                            "wren-version": wren.__version__}
    assert props["environmentId"].endswith("/providers/Microsoft.App/managedEnvironments/wren")
    (container,) = props["template"]["containers"]
    assert container["image"] == IMAGE
    assert container["resources"] == {"cpu": 1.0, "memory": "2Gi"}
    scale = props["template"]["scale"]
    assert (scale["minReplicas"], scale["maxReplicas"]) == (0, 7)
    (rule,) = scale["rules"]
    assert rule["azureQueue"]["queueName"] == name and rule["azureQueue"]["queueLength"] == 2
    assert rule["azureQueue"]["auth"] == [{"secretRef": "queue-connection",
                                           "triggerParameter": "connection"}]
    secrets = {s["name"]: s["value"] for s in props["configuration"]["secrets"]}
    assert set(secrets) == {"queue-connection", "storage-config"}
    assert json.loads(secrets["storage-config"]) == azurite.storage_config(BUCKET)
    env = {v["name"]: v for v in container["env"]}
    assert env["WREN_AZURE_QUEUE_CONNECTION"] == {"name": "WREN_AZURE_QUEUE_CONNECTION",
                                                  "secretRef": "queue-connection"}
    assert env["WREN_STORAGE_CONFIG"] == {"name": "WREN_STORAGE_CONFIG",
                                          "secretRef": "storage-config"}
    assert env["WREN_AZURE_QUEUE"]["value"] == name
    plain = json.dumps([v for v in container["env"] if "value" in v])
    assert "AccountKey" not in plain, "a credential is in a plain environment variable"
    queue = queue_client(azurite.storage_config(), name)
    assert queue.get_queue_properties().name == name  # the queue exists


def test_registry_password_is_a_secret(make_compute: Any,
                                       arm: AzureResourceManagerDouble) -> None:  # noqa: F811
    compute = make_compute(docker_server="myregistry.azurecr.io", docker_user="me",
                           docker_password="hunter2")
    compute.deploy_runtime(IMAGE)
    config = _last_put(arm, app_name(IMAGE, 512))["properties"]["configuration"]
    assert config["registries"] == [{"server": "myregistry.azurecr.io", "username": "me",
                                     "passwordSecretRef": "registry-password"}]
    assert {"name": "registry-password", "value": "hunter2"} in config["secrets"]


def test_list_update_and_delete(make_compute: Any, azurite: Azurite,  # noqa: F811
                                arm: AzureResourceManagerDouble) -> None:  # noqa: F811
    compute = make_compute()
    compute.deploy_runtime(IMAGE, 512)
    compute.deploy_runtime(IMAGE, 1024)
    other = "someone/else:1"
    compute.manager.client.container_apps.begin_create_or_update(
        "wren-tests", "not-wren", {**_last_put(arm, app_name(IMAGE, 512)), "tags": {}}).result()
    listed = [(e.name, e.memory) for e in compute.list_runtimes()]
    assert (IMAGE, 512) in listed and (IMAGE, 1024) in listed
    assert all(e.worker_name != "not-wren" for e in compute.list_runtimes())

    storage = compute.storage()
    name = app_name(IMAGE, 512)
    storage.put_object(BUCKET, metadata_key(name), b"{}")
    puts = len([r for r in arm.writes() if r.method == "PUT"])
    deployed = len([e for e in compute.list_runtimes() if e.name == IMAGE])
    compute.update_runtime(IMAGE)
    assert len([r for r in arm.writes() if r.method == "PUT"]) == puts + deployed
    assert not storage.exists(BUCKET, metadata_key(name)), "stale metadata survived an update"

    compute.delete_runtime(IMAGE, 1024)
    assert (IMAGE, 1024) not in [(e.name, e.memory) for e in compute.list_runtimes()]
    assert any(r.method == "DELETE" and r.path.endswith(app_name(IMAGE, 1024))
               for r in arm.writes())
    from azure.core.exceptions import ResourceNotFoundError

    with pytest.raises(ResourceNotFoundError):
        queue_client(azurite.storage_config(), app_name(IMAGE, 1024)).get_queue_properties()
    with pytest.raises(wren.WrenError, match="not deployed"):
        compute.update_runtime(other)


def test_bad_memory_fails_before_any_request(make_compute: Any,
                                             arm: AzureResourceManagerDouble) -> None:  # noqa: F811
    before = len(arm.requests)
    with pytest.raises(wren.ConfigError, match="multiple of 512"):
        make_compute(runtime_memory=700)
    compute = make_compute()
    with pytest.raises(wren.ConfigError, match="multiple of 512"):
        compute.deploy_runtime(IMAGE, 9000)
    assert len(arm.requests) == before


def test_arm_refusal_is_a_clear_error(make_compute: Any,
                                      arm: AzureResourceManagerDouble) -> None:  # noqa: F811
    # Changed by issue 15: a scale range over the platform's 1000 replicas is now refused by
    # the config (test_platform_limits_fail_before_any_request); a body that the SDK's
    # models do not know is what ARM refuses here.
    compute = make_compute()
    compute.deploy_runtime(IMAGE)
    body = json.loads(json.dumps(_last_put(arm, app_name(IMAGE, 512))))
    body["properties"]["template"]["scale"]["maxReplicaz"] = 3
    with pytest.raises(wren.WrenError, match=r"refused to deploy.*Could not find member "
                                             r"'maxReplicaz'.*properties\.template\.scale"):
        # raw JSON: an SDK before 5.0 would drop the unknown member from a dict itself
        compute.manager._arm("deploy it", compute.manager.client.container_apps
                             .begin_create_or_update, "wren-tests", "wren-bogus",
                             io.BytesIO(json.dumps(body).encode()))


def test_wrong_credentials_are_refused(make_compute: Any) -> None:
    compute = make_compute(client_secret="not-the-secret")
    with pytest.raises(Exception, match="AADSTS7000215"):
        compute.list_runtimes()


def test_other_storage_is_a_clear_error() -> None:
    storage = WorkerStorage("localhost", {}, {})
    with pytest.raises(wren.ConfigError, match="storage='azure_storage'"):
        AzureContainersCompute(COMPUTE_SCHEMA.validate({}), storage)
