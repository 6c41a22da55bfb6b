"""`azure_containers` against what Azure does on a first real deploy (issue 15): platform limits
refused by the config before any request, a revision that cannot pull its image, a runtime
whose revision fails while the client waits for it, an environment that takes time to
provision, a storm of 429s, pulling from ACR with a managed identity, and the grace period a
replica gets on scale-in. ARM is the double of tests/doubles/azure_arm.py (bodies checked
through the installed SDK's models); queues and metadata live in a real Azurite."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import wren
from wren.ports import WorkerStorage
from wren_backend_azure import AzureContainersCompute
from wren_backend_azure.config import COMPUTE_SCHEMA, STORAGE_SCHEMA
from wren_backend_azure.naming import app_name
from wren_backend_azure.revisions import RevisionFailed

from tests.doubles.azure_arm import AzureResourceManagerDouble
from tests.servers.azure_runtime import BUCKET, compute_section, trusting
from tests.servers.azurite import Azurite, azurite  # noqa: F401 - the fixture

IMAGE = "wrenuser/wren-azure-v311:platform"
FAST = {"status_poll_interval": 0.1}


@pytest.fixture
def slow_arm() -> Iterator[AzureResourceManagerDouble]:
    """A double whose environments take 2 s and revisions 1 s to provision."""
    double = AzureResourceManagerDouble(environment_seconds=2.0, revision_seconds=1.0)
    with trusting(double.start()):
        yield double


@pytest.fixture
def fresh_arm() -> Iterator[AzureResourceManagerDouble]:
    double = AzureResourceManagerDouble()
    with trusting(double.start()):
        yield double


def _compute(azurite: Azurite, arm: AzureResourceManagerDouble,  # noqa: F811
             **overrides: Any) -> AzureContainersCompute:
    storage = azurite.storage_config(BUCKET)
    config = COMPUTE_SCHEMA.validate(compute_section(arm, IMAGE, **{**FAST, **overrides}))
    return AzureContainersCompute(
        config, WorkerStorage("azure_storage", storage, STORAGE_SCHEMA.public(storage)))


def _puts(arm: AzureResourceManagerDouble, name: str) -> list[dict[str, Any]]:
    return [r.body for r in arm.writes() if r.method == "PUT" and r.path.endswith("/" + name)]


@pytest.mark.parametrize(("key", "value", "said"), [
    ("max_workers", 5000, r"between 1 and 1000 \(Azure Container Apps quotas"),
    ("runtime_memory", 9216, r"between 512 and 8192 \(Azure Container Apps: containers"),
    ("termination_grace_period", 900, r"between 0 and 600 \(Azure Container Apps "
                                      r"application lifecycle"),
    ("message_lease", 8 * 24 * 3600, r"at most 7 days"),
])
def test_platform_limits_fail_before_any_request(
        azurite: Azurite, fresh_arm: AzureResourceManagerDouble,  # noqa: F811
        key: str, value: int, said: str) -> None:
    with pytest.raises(wren.ConfigError, match=said):
        _compute(azurite, fresh_arm, **{key: value})
    assert fresh_arm.requests == []


def test_cpu_memory_pairs_are_checked_with_the_documented_figure(
        azurite: Azurite, fresh_arm: AzureResourceManagerDouble) -> None:  # noqa: F811
    with pytest.raises(wren.ConfigError, match=r"multiple of 512 MB.*0\.25 vCPU"):
        _compute(azurite, fresh_arm, runtime_memory=1000)
    assert fresh_arm.requests == []


def test_a_revision_that_cannot_pull_its_image_fails_the_deploy_at_once(
        azurite: Azurite, slow_arm: AzureResourceManagerDouble) -> None:  # noqa: F811
    bad = "wrenuser/not-there:1"
    slow_arm.fail_image(bad)
    compute = _compute(azurite, slow_arm, runtime_start_timeout=600)
    started = time.monotonic()
    with pytest.raises(RevisionFailed) as caught:
        compute.deploy_runtime(bad)
    message = str(caught.value)
    assert f"revision '{app_name(bad, 512)}--" in message
    assert "could not be pulled: ImagePullBackOff" in message
    assert "az containerapp logs show --name" in message
    assert time.monotonic() - started < 30
    compute.close()


def test_a_revision_that_fails_while_the_client_waits_is_an_error_not_a_timeout(
        azurite: Azurite, fresh_arm: AzureResourceManagerDouble) -> None:  # noqa: F811
    compute = _compute(azurite, fresh_arm, runtime_start_timeout=600)
    compute.deploy_runtime(IMAGE)  # deployed and ready; no consumer ever answers
    fresh_arm.fail_revision(app_name(IMAGE, 512), "container exited with code 1 (CrashLoop)")
    started = time.monotonic()
    with pytest.raises(RevisionFailed, match=r"failed: container exited with code 1"):
        compute.runtime_info()
    assert time.monotonic() - started < 30, "waited for runtime_start_timeout"
    compute.close()


def test_an_environment_that_takes_time_is_waited_for(
        azurite: Azurite, slow_arm: AzureResourceManagerDouble) -> None:  # noqa: F811
    compute = _compute(azurite, slow_arm)
    started = time.monotonic()
    entry = compute.deploy_runtime(IMAGE)
    assert time.monotonic() - started >= 2.0
    assert entry.worker_name == app_name(IMAGE, 512)
    methods = [(r.method, r.path.rsplit("/", 2)[-2]) for r in slow_arm.requests]
    polls = [m for m in methods if m == ("GET", "managedEnvironmentOperationStatuses")]
    assert polls, "the SDK did not follow the Azure-AsyncOperation status"
    env_put = next(r.body for r in slow_arm.writes("managedEnvironments"))
    assert env_put["properties"]["workloadProfiles"] == [
        {"name": "Consumption", "workloadProfileType": "Consumption"}]
    compute.close()


def test_a_storm_of_429s_is_ridden_out_with_retry_after(
        azurite: Azurite, fresh_arm: AzureResourceManagerDouble) -> None:  # noqa: F811
    compute = _compute(azurite, fresh_arm)
    fresh_arm.throttle(4, retry_after=1)
    started = time.monotonic()
    compute.deploy_runtime(IMAGE)
    assert len(fresh_arm.throttled) == 4
    assert time.monotonic() - started >= 3.5, "Retry-After was not honoured"
    fresh_arm.throttle(20, retry_after=1)
    with pytest.raises(wren.WrenError, match=r"throttling.*429.*after 8 retries"):
        compute.list_runtimes()
    assert len(fresh_arm.throttled) == 4 + 9
    fresh_arm.throttle(0)
    compute.close()


@pytest.mark.parametrize(("identity", "kind"), [
    ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/"
     "userAssignedIdentities/wren-pull", "UserAssigned"),
    ("system", "SystemAssigned"),
])
def test_acr_pull_with_a_managed_identity(
        azurite: Azurite, fresh_arm: AzureResourceManagerDouble,  # noqa: F811
        identity: str, kind: str) -> None:
    compute = _compute(azurite, fresh_arm, docker_server="wrenacr.azurecr.io",
                       registry_identity=identity)
    compute.deploy_runtime(IMAGE)
    (body,) = _puts(fresh_arm, app_name(IMAGE, 512))
    config = body["properties"]["configuration"]
    assert config["registries"] == [{"server": "wrenacr.azurecr.io", "identity": identity}]
    assert "registry-password" not in {s["name"] for s in config["secrets"]}
    assert body["identity"]["type"] == kind
    if kind == "UserAssigned":
        assert list(body["identity"]["userAssignedIdentities"]) == [identity]
    compute.close()


def test_registry_settings_that_contradict_fail_before_any_request(
        azurite: Azurite, fresh_arm: AzureResourceManagerDouble) -> None:  # noqa: F811
    with pytest.raises(wren.ConfigError, match="both `docker_password` and"):
        _compute(azurite, fresh_arm, docker_server="wrenacr.azurecr.io", docker_user="u",
                 docker_password="p", registry_identity="system")
    with pytest.raises(wren.ConfigError, match="only Azure Container Registry"):
        _compute(azurite, fresh_arm, registry_identity="system")
    assert fresh_arm.requests == []


def test_replicas_get_a_grace_period_and_the_consumer_its_lease(
        azurite: Azurite, fresh_arm: AzureResourceManagerDouble) -> None:  # noqa: F811
    compute = _compute(azurite, fresh_arm, termination_grace_period=420, message_lease=45)
    compute.deploy_runtime(IMAGE)
    (body,) = _puts(fresh_arm, app_name(IMAGE, 512))
    template = body["properties"]["template"]
    assert template["terminationGracePeriodSeconds"] == 420
    env = {v["name"]: v.get("value") for v in template["containers"][0]["env"]}
    assert (env["WREN_GRACE_PERIOD"], env["WREN_MESSAGE_LEASE"]) == ("420", "45")
    compute.close()
