"""The Container Apps management plane through the Azure SDK (Azure Resource Manager).

`ContainerAppsManager` deploys (create or replace), reads, deletes and lists the Container
Apps of wren runtimes in one resource group, creating the Container Apps environment when it
is missing. It authenticates with a service principal when the config names one (`tenant_id`,
`client_id`, `client_secret`), else with `DefaultAzureCredential` (environment, managed
identity, Azure CLI login). Refusals from ARM become `WrenError`s that quote its message.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import Any

from wren import ConfigError, WrenError
from wren.ports import RuntimeEntry

from wren_backend_azure import naming
from wren_backend_azure.app_spec import container_app
from wren_backend_azure.config import COMPUTE_SCHEMA, COMPUTE_SECTION
from wren_backend_azure.settings import ConsumerSettings


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
                                      credential_scopes=[endpoint.rstrip("/") + "/.default"])

    def _arm(self, action: str, call: Any, *args: Any) -> Any:
        """`call(*args)`, waiting for a long-running operation's result; a refusal becomes a
        `WrenError` (a missing resource stays `ResourceNotFoundError`)."""
        from azure.core.exceptions import HttpResponseError
        from azure.core.polling import LROPoller

        try:
            found = call(*args)
            return found.result() if isinstance(found, LROPoller) else found
        except HttpResponseError as exc:
            if _not_found(exc):
                raise
            raise WrenError(f"Azure Resource Manager refused to {action}: "
                            f"{exc.message or exc}") from exc

    # Environment ----------------------------------------------------------------------
    def environment_id(self) -> str:
        """The resource id of the configured environment, created when missing."""
        from azure.mgmt.appcontainers import models as m

        self._require("environment", "region")
        name = str(self.config["environment"])
        envs = self.client.managed_environments
        try:
            return str(self._arm(f"read environment {name!r}", envs.get, self.resource_group,
                                 name).id)
        except Exception as exc:
            if not _not_found(exc):
                raise
        created = self._arm(f"create environment {name!r}", envs.begin_create_or_update,
                            self.resource_group, name,
                            m.ManagedEnvironment(location=self.config["region"],
                                                 tags={naming.RUNTIME_TAG: "environment"}))
        return str(created.id)

    # Apps -----------------------------------------------------------------------------
    def deploy(self, settings: ConsumerSettings, memory: int) -> RuntimeEntry:
        """Create or replace the Container App of a runtime; return its entry."""
        self._require("region")
        registry = None
        if self.config.get("docker_password"):
            registry = (self.config["docker_server"], self.config["docker_user"] or "",
                        self.config["docker_password"])
        app = container_app(settings, memory=memory, region=str(self.config["region"]),
                            environment_id=self.environment_id(),
                            max_workers=self.config["max_workers"],
                            tags=naming.runtime_tags(settings.runtime, memory),
                            registry=registry)
        deployed = self._arm(f"deploy Container App {settings.queue!r}",
                             self.client.container_apps.begin_create_or_update,
                             self.resource_group, settings.queue, app)
        return self._entry(deployed)

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
        apps = self._arm("list Container Apps",
                         self.client.container_apps.list_by_resource_group,
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
