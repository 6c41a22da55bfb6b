"""The Container Apps management plane through the Azure SDK (Azure Resource Manager).

`ContainerAppsManager` deploys (create or replace), reads, deletes and lists the Container
Apps of wren runtimes in one resource group, creating the Container Apps environment when it
is missing. It authenticates with a service principal when the config names one (`tenant_id`,
`client_id`, `client_secret`), else with `DefaultAzureCredential` (environment, managed
identity, Azure CLI login). Refusals from ARM become `WrenError`s that quote its message.
A deploy waits for the new revision to be provisioned, and a failed revision raises
`RevisionFailed` with Azure's reason; an environment that Azure is still provisioning (which
takes minutes) is waited for, up to `provision_timeout`, and a failed one is an error.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Mapping
from typing import Any

from wren import ConfigError, WrenError
from wren.ports import RuntimeEntry

from wren_backend_azure import naming
from wren_backend_azure.app_spec import Registry, container_app
from wren_backend_azure.config import COMPUTE_SCHEMA, COMPUTE_SECTION
from wren_backend_azure.revisions import RevisionState, enum_text
from wren_backend_azure.settings import ConsumerSettings

#: Retries of one ARM request answered 429 or 5xx (each after its Retry-After); the SDK's
#: default (3) gives up within seconds of a throttling burst.
_ARM_RETRIES = 8
#: Environment provisioning states: usable, and failed for good (others are in progress).
_ENV_READY = {"succeeded"}
_ENV_FAILED = {"failed", "canceled"}
#: The workload profile of a new environment: the consumption plan (Azure's recommended
#: environment type for new environments, "workload profiles (v2)").
CONSUMPTION_PROFILE = "Consumption"


def _not_found(exc: Exception) -> bool:
    from azure.core.exceptions import ResourceNotFoundError

    return isinstance(exc, ResourceNotFoundError)


class ContainerAppsManager:
    """Container Apps of one resource group, seen as wren runtimes."""

    def __init__(self, config: Mapping[str, Any], credential: Any = None) -> None:
        self.config = COMPUTE_SCHEMA.validate(config)
        self.subscription_id = self.config.get("subscription_id") or os.environ.get(
            "AZURE_SUBSCRIPTION_ID")
        self.resource_group = self.config.get("resource_group")
        self._given_credential = credential

    @property
    def configured(self) -> bool:
        """Whether the config says where runtimes live (else nothing is deployed)."""
        return bool(self.resource_group)

    def _require(self, *names: str) -> None:
        values = {"subscription_id": self.subscription_id, **self.config}
        missing = [name for name in names if not values.get(name)]
        if missing:
            raise ConfigError(f"managing Container Apps needs {', '.join(missing)} in section "
                              f"{COMPUTE_SECTION!r} (subscription_id may also come from "
                              "AZURE_SUBSCRIPTION_ID)")

    def _credential(self) -> Any:
        if self._given_credential is not None:
            return self._given_credential
        from azure.identity import ClientSecretCredential, DefaultAzureCredential

        authority = self.config.get("authority_host")
        options: dict[str, Any] = {}
        if authority:  # a sovereign or private cloud: its authority is not in the public list
            options = {"authority": authority, "disable_instance_discovery": True}
        tenant, client, secret = (self.config.get(k) for k in ("tenant_id", "client_id",
                                                                "client_secret"))
        if tenant and client and secret:
            return ClientSecretCredential(tenant, client, secret, **options)
        return DefaultAzureCredential(**options)

    @functools.cached_property
    def client(self) -> Any:
        from azure.mgmt.appcontainers import ContainerAppsAPIClient

        self._require("subscription_id", "resource_group")
        endpoint = self.config["management_endpoint"]
        return ContainerAppsAPIClient(self._credential(), str(self.subscription_id),
                                      base_url=endpoint,
                                      credential_scopes=[endpoint.rstrip("/") + "/.default"],
                                      retry_total=_ARM_RETRIES, retry_status=_ARM_RETRIES)

    def _arm(self, action: str, call: Any, *args: Any) -> Any:
        """`call(*args)`, waiting for a long-running operation's result; a refusal becomes a
        `WrenError` (a missing resource stays `ResourceNotFoundError`)."""
        from azure.core.exceptions import HttpResponseError
        from azure.core.polling import LROPoller

        try:
            found = call(*args)
            if not isinstance(found, LROPoller):
                return found
            wait = self.config["provision_timeout"]
            result = found.result(timeout=wait)
            if not found.done():
                raise WrenError(f"Azure Resource Manager did not finish to {action} within "
                                f"{wait:g} s (provision_timeout); its state: {found.status()}")
            return result
        except HttpResponseError as exc:
            if _not_found(exc):
                raise
            if exc.status_code == 429:
                raise WrenError(
                    f"Azure Resource Manager is throttling this subscription's requests (429 "
                    f"TooManyRequests): wren could not {action} after {_ARM_RETRIES} retries, "
                    "each after the Retry-After it was given; wait a few minutes (ARM refills "
                    "its request budget continuously) and try again") from exc
            raise WrenError(f"Azure Resource Manager refused to {action}: "
                            f"{exc.message or exc}") from exc

    # Environment ----------------------------------------------------------------------
    def environment_id(self) -> str:
        """The resource id of the configured environment, created when missing and waited
        for while Azure provisions it."""
        from azure.mgmt.appcontainers import models

        m: Any = models  # flattened keywords: accepted by every SDK, typed only before 5.0
        self._require("environment", "region")
        name = str(self.config["environment"])
        envs = self.client.managed_environments
        deadline = time.monotonic() + self.config["provision_timeout"]
        try:
            env = self._arm(f"read environment {name!r}", envs.get, self.resource_group, name)
        except Exception as exc:
            if not _not_found(exc):
                raise
            env = self._arm(f"create environment {name!r}", envs.begin_create_or_update,
                            self.resource_group, name, m.ManagedEnvironment(
                                location=self.config["region"],
                                tags={naming.RUNTIME_TAG: "environment"},
                                workload_profiles=[m.WorkloadProfile(
                                    name=CONSUMPTION_PROFILE,
                                    workload_profile_type=CONSUMPTION_PROFILE)]))
        while True:
            state = enum_text(getattr(env, "provisioning_state", None)) or "Succeeded"
            if state.lower() in _ENV_READY:
                return str(env.id)
            if state.lower() in _ENV_FAILED:
                errors = getattr(env, "deployment_errors", None) or "Azure gave no reason"
                raise WrenError(f"Container Apps environment {name!r} in resource group "
                                f"{self.resource_group!r} is {state}: {errors}. Delete it "
                                f"(az containerapp env delete --name {name} --resource-group "
                                f"{self.resource_group}) or name another `environment`")
            if time.monotonic() >= deadline:
                raise WrenError(f"Container Apps environment {name!r} is still {state} after "
                                f"{self.config['provision_timeout']:g} s (provision_timeout)")
            time.sleep(self.config["status_poll_interval"])
            env = self._arm(f"read environment {name!r}", envs.get, self.resource_group, name)

    # Apps -----------------------------------------------------------------------------
    def registry(self) -> Registry | None:
        """How replicas pull the image, from the config (None: a public image)."""
        server, identity = self.config["docker_server"], self.config.get("registry_identity")
        password = self.config.get("docker_password")
        if identity and password:
            raise ConfigError(f"section {COMPUTE_SECTION!r} sets both `docker_password` and "
                              "`registry_identity`; keep one way to pull the image")
        if identity:
            if server in ("docker.io", "index.docker.io"):
                raise ConfigError(
                    "`registry_identity` pulls with a managed identity, which only Azure "
                    "Container Registry accepts: set `docker_server` to your registry (e.g. "
                    f"myregistry.azurecr.io) in section {COMPUTE_SECTION!r}")
            return Registry(server=server, identity=identity)
        if password:
            return Registry(server=server, user=self.config["docker_user"] or "",
                            password=password)
        return None

    def deploy(self, settings: ConsumerSettings, memory: int) -> RuntimeEntry:
        """Create or replace the Container App of a runtime and wait for its revision;
        return its entry (`RevisionFailed` when Azure reports the revision failed)."""
        self._require("region")
        app = container_app(settings, memory=memory, region=str(self.config["region"]),
                            environment_id=self.environment_id(),
                            max_workers=self.config["max_workers"],
                            tags=naming.runtime_tags(settings.runtime, memory),
                            registry=self.registry())
        deployed = self._arm(f"deploy Container App {settings.queue!r}",
                             self.client.container_apps.begin_create_or_update,
                             self.resource_group, settings.queue, app)
        self.wait_for_revision(settings.queue, deployed.latest_revision_name)
        return self._entry(deployed)

    # Revisions ------------------------------------------------------------------------
    def revision(self, app: str, name: str | None = None) -> RevisionState | None:
        """The state of revision `name` of `app` (its latest by default), None if none."""
        if name is None:
            found = self.get(app)
            name = found.latest_revision_name if found is not None else None
            if not name:
                return None
        try:
            revision = self._arm(f"read revision {name!r}",
                                 self.client.container_apps_revisions.get_revision,
                                 self.resource_group, app, name)
        except Exception as exc:
            if _not_found(exc):
                return None
            raise
        return RevisionState.of(revision)

    def check_revision(self, app: str) -> None:
        """Raise `RevisionFailed` if the latest revision of `app` failed."""
        state = self.revision(app)
        if state is not None and state.failed:
            raise state.failure(app, self.resource_group)

    def wait_for_revision(self, app: str, name: str | None) -> RevisionState:
        """Wait until revision `name` (the app's latest when None) is provisioned."""
        wait = self.config["provision_timeout"]
        deadline = time.monotonic() + wait
        while True:
            state = self.revision(app, name)
            if state is not None and state.failed:
                raise state.failure(app, self.resource_group)
            if state is not None and state.ready:
                return state
            if time.monotonic() >= deadline:
                seen = state.describe() if state else "no revision yet"
                raise WrenError(f"Container App {app!r} was not ready within {wait:g} s "
                                f"(provision_timeout): {seen}")
            time.sleep(self.config["status_poll_interval"])

    def get(self, name: str) -> Any | None:
        try:
            return self._arm(f"read Container App {name!r}", self.client.container_apps.get,
                             self.resource_group, name)
        except Exception as exc:
            if _not_found(exc):
                return None
            raise

    def delete(self, name: str) -> bool:
        """Delete a Container App; False when there was none."""
        try:
            self._arm(f"delete Container App {name!r}",
                      self.client.container_apps.begin_delete, self.resource_group, name)
        except Exception as exc:
            if _not_found(exc):
                return False
            raise
        return True

    def list_runtimes(self) -> list[RuntimeEntry]:
        apps = self._arm("list Container Apps",  # the pages are read inside, for its errors
                         lambda group: list(self.client.container_apps
                                            .list_by_resource_group(group)),
                         self.resource_group)
        return sorted((self._entry(app) for app in apps
                       if (app.tags or {}).get(naming.RUNTIME_TAG) == "true"),
                      key=lambda entry: (entry.name, entry.memory or 0))

    @staticmethod
    def _entry(app: Any) -> RuntimeEntry:
        tags = app.tags or {}
        memory = tags.get(naming.MEMORY_TAG)
        return RuntimeEntry(name=tags.get(naming.IMAGE_TAG, ""),
                            memory=int(memory) if memory else None,
                            wren_version=tags.get(naming.VERSION_TAG, ""), worker_name=app.name)
