"""The Code Engine REST API v2 through `ibm-code-engine-sdk`, with IAM tokens and wren's errors.

`CodeEngineApi.call(operation, ...)` runs one SDK operation of `CodeEngineV2` with a bearer
token from the IBM package's `IamAuth` (renewed once when the API answers 401) and returns
the result as a dict (None for 404 when asked). Answers become the dispatch kit's outcomes:
429 is `Throttled` (honouring `Retry-After`), 5xx and connection errors are `Unavailable`,
any other error is `Refused` carrying the API's message. `project_id` finds the project by
name (paging `list_projects`), creates it when it is missing and waits until it is active.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import requests
from ibm_cloud_sdk_core import ApiException
from ibm_cloud_sdk_core.authenticators import Authenticator
from ibm_code_engine_sdk.code_engine_v2 import CodeEngineV2
from wren import ConfigError, WrenError
from wren.dispatch import DeliveryProblem, Unavailable, outcome_of_status

from wren_backend_ibmcf.auth import IamAuth

#: The API version (a date) the requests ask for.
API_VERSION = "2025-01-10"
#: Seconds to wait for a new project to become active.
PROJECT_READY_TIMEOUT = 600.0


class CodeEngineError(WrenError):
    """The Code Engine API refused a request that manages runtimes; the message says why."""


class _Bearer(Authenticator):
    """The SDK's authenticator interface over the IBM package's token cache."""

    def __init__(self, iam: IamAuth) -> None:
        self.iam = iam

    def authenticate(self, req: dict[str, Any]) -> None:
        req["headers"]["Authorization"] = self.iam.header()

    def validate(self) -> None:
        """The API key is checked by IAM on the first request."""

    def authentication_type(self) -> str:
        return "bearerToken"


class CodeEngineApi:
    """One Code Engine endpoint, one IAM identity; thread-safe."""

    def __init__(self, endpoint: str, iam: IamAuth, *, insecure: bool = False,
                 pool_size: int = 16) -> None:
        self.iam, self.endpoint = iam, endpoint
        self.service = CodeEngineV2(authenticator=_Bearer(iam), version=API_VERSION)
        self.service.set_service_url(endpoint)
        session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=pool_size,
                                                pool_maxsize=pool_size)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        self.service.set_http_client(session)
        self.service.set_disable_ssl_verification(insecure)
        self._lock = threading.Lock()

    def call(self, operation: str, *args: Any, missing_ok: bool = False,
             **kwargs: Any) -> dict[str, Any] | None:
        """The result of `CodeEngineV2.<operation>(*args, **kwargs)` (None: 404 and
        `missing_ok`), or a dispatch outcome saying why not."""
        method = getattr(self.service, operation)
        for attempt in (1, 2):
            stale = self.iam.header()
            try:
                result = method(*args, **kwargs).get_result()
                return result if isinstance(result, dict) else {}
            except ApiException as exc:
                if exc.status_code == 401 and attempt == 1:
                    self.iam.renew(stale)
                    continue
                if exc.status_code == 404 and missing_ok:
                    return None
                raise _outcome(operation, exc) from None
            except requests.RequestException as exc:
                raise Unavailable(f"Code Engine API {self.endpoint} unreachable during "
                                  f"{operation}: {exc}") from None
        raise AssertionError("unreachable")

    def manage(self, operation: str, *args: Any, missing_ok: bool = False,
               **kwargs: Any) -> dict[str, Any] | None:
        """`call` for runtime management: a refusal is a `CodeEngineError`."""
        try:
            return self.call(operation, *args, missing_ok=missing_ok, **kwargs)
        except DeliveryProblem as exc:
            raise CodeEngineError(exc.detail) from None

    def pages(self, operation: str, *args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every item of a paged list operation (`projects`, `jobs`, `secrets`, ...)."""
        start: str | None = None
        while True:
            page = self.manage(operation, *args, limit=100, start=start, **kwargs) or {}
            for field, value in page.items():
                if isinstance(value, list) and field not in ("next", "first"):
                    yield from value
            start = (page.get("next") or {}).get("start")
            if not start:
                return

    def project_id(self, name: str, resource_group_id: str | None) -> str:
        """The id of the project called `name`, created (and waited for) when missing."""
        found = [p for p in self.pages("list_projects") if p.get("name") == name]
        if found:
            project = found[0]
        else:
            project = self.manage("create_project", name, resource_group_id=resource_group_id,
                                tags=["wren"]) or {}
        deadline = time.monotonic() + PROJECT_READY_TIMEOUT
        while project.get("status") not in ("active", None):
            if project.get("status") in ("failed", "hard_deleted", "soft_deleted"):
                raise ConfigError(f"Code Engine project {name!r} is {project['status']}: "
                                  "choose another `project_name` or restore it")
            if time.monotonic() > deadline:
                raise ConfigError(f"Code Engine project {name!r} was not active after "
                                  f"{PROJECT_READY_TIMEOUT:.0f} s")
            time.sleep(2.0)
            project = self.manage("get_project", project["id"]) or {}
        return str(project["id"])


def _outcome(operation: str, exc: ApiException) -> Exception:
    response = exc.http_response
    return outcome_of_status(
        exc.status_code, f"Code Engine refused {operation} (HTTP {exc.status_code}): "
                         f"{exc.message}",
        response.headers.get("Retry-After") if response is not None else None)
