"""A test double that stands in for Azure Resource Manager (and the Microsoft Entra token
endpoint) for Container Apps, because no real ARM can run on these machines.

It speaks the real protocol the Azure SDK uses, over HTTPS on 127.0.0.1 with a self-signed
certificate: OAuth2 client credentials at `/{tenant}/oauth2/v2.0/token` (with the OpenID
discovery document msal reads first), then bearer-authenticated `GET/PUT/DELETE` of
`/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.App/{containerApps|
managedEnvironments}/{name}?api-version=...`, the list of container apps, and the revisions
of an app (`.../containerApps/{app}/revisions[/{revision}]`). What it follows:

- Every PUT body is first read through the installed `azure-mgmt-appcontainers` models (the
  SDK generated from the Microsoft.App REST specification; tests/doubles/azure_arm_models.py):
  an unknown member, a value of the wrong type or a missing required member is refused as
  ARM refuses it, 400 `InvalidRequestContent` with the member's path. CI runs this at the
  oldest and the newest SDK version wren-backend-azure allows (tests/oldest-pins).
- Then the service's own rules for the fields wren sends (name rules, CPU/memory pairs of
  "Containers in Azure Container Apps", secret references, scale bounds and the 1000-replica
  limit of "Quotas for Azure Container Apps", `terminationGracePeriodSeconds` of
  "Application lifecycle management: shutdown", a registry `identity` the app holds), with
  ARM's error shape `{"error": {"code", "message"}}`.
- Long-running operations as "Track asynchronous Azure operations" describes them: a new
  environment answers 201 with `provisioningState` in progress and an `Azure-AsyncOperation`
  status URL (`InProgress`, then `Succeeded`) with `Retry-After`; it takes
  `environment_seconds` to provision (minutes on Azure; seconds here so tests stay fast) and
  refuses apps until then.
- Revisions as "Revisions in Azure Container Apps" shows them: each app PUT makes a revision
  `{app}--{suffix}`, `Provisioning` for `revision_seconds`, then `Provisioned`/`Running`, or,
  for an image registered with `fail_image`, `Failed` with the platform's reason in
  `provisioningError` (as a failed image pull is reported), while the app itself succeeds.
- Throttling as "Understand how Azure Resource Manager throttles requests" describes: after
  `throttle(n, retry_after)`, n requests get 429 `TooManyRequests` with `Retry-After`.

Every request is recorded for assertions. Secret values are never returned, as in ARM. It
runs no containers: tests start the runtime's consumer processes themselves.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import re
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs

from tests.doubles.azure_arm_models import InvalidContent, check_body

_RESOURCE = re.compile(r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
                       r"Microsoft\.App/(?P<kind>containerApps|managedEnvironments)"
                       r"(?:/(?P<name>[^/]+))?(?:/revisions(?:/(?P<revision>[^/]+))?"
                       r"(?P<revisions>))?$", re.IGNORECASE)
_OPERATION = re.compile(r"^/subscriptions/(?P<sub>[^/]+)/providers/Microsoft\.App/locations/"
                        r"(?P<loc>[^/]+)/managedEnvironmentOperationStatuses/(?P<op>[^/]+)$",
                        re.IGNORECASE)
_TOKEN = re.compile(r"^/(?P<tenant>[^/]+)/oauth2/v2\.0/token$")
_DISCOVERY = re.compile(r"^/(?P<tenant>[^/]+)/v2\.0/\.well-known/openid-configuration$")
_APP_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
_SECRET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
_BAD_TAG = re.compile(r"[<>%&\\?/]")


@attrs.define
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any


def _self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "arm.crt", directory / "arm.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class ArmError(Exception):
    def __init__(self, status: int, code: str, message: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


#: "Application lifecycle management: shutdown": the longest grace period (consumption plan).
MAX_GRACE_SECONDS = 600
#: "Quotas for Azure Container Apps": replicas per revision, configurable at most.
MAX_REPLICAS = 1000


def _check_app(body: Any, name: str, envs: dict[str, bool]) -> None:
    """ARM's validation of a container app PUT, for the fields wren sends."""
    def bad(code: str, message: str) -> ArmError:
        return ArmError(400, code, message)

    if not _APP_NAME.match(name) or "--" in name:
        raise bad("ContainerAppInvalidName", f"Invalid ContainerApp name '{name}'. A name must "
                  "consist of lower case alphanumeric characters or '-', start with a letter, "
                  "end with an alphanumeric character, not have '--', and be at most 32 long.")
    if not isinstance(body, dict) or not body.get("location"):
        raise bad("LocationRequired", "The location property is required for this definition.")
    for tag, value in (body.get("tags") or {}).items():
        if _BAD_TAG.search(tag) or len(tag) > 512 or len(str(value)) > 256:
            raise bad("InvalidTagNameCharacters", f"The tag name '{tag}' is not valid.")
    props = body.get("properties") or {}
    env_id = props.get("environmentId") or props.get("managedEnvironmentId")
    if not env_id or env_id.lower() not in envs:
        raise bad("ManagedEnvironmentNotFound", f"Managed environment '{env_id}' not found.")
    if not envs[env_id.lower()]:
        raise bad("ManagedEnvironmentNotReady", f"Managed environment '{env_id}' is still "
                  "being provisioned; retry when its provisioningState is Succeeded.")
    config = props.get("configuration") or {}
    secrets = {s.get("name") for s in config.get("secrets") or []}
    for secret in config.get("secrets") or []:
        if not _SECRET_NAME.match(secret.get("name") or "") or secret.get("value") is None:
            raise bad("ContainerAppSecretInvalid", f"Invalid secret '{secret.get('name')}'.")

    def need_secret(ref: Any, where: str) -> None:
        if ref not in secrets:
            raise bad("ContainerAppSecretRefNotFound",
                      f"SecretRef '{ref}' defined for {where} not found.")

    identity = body.get("identity") or {}
    held = {key.lower() for key in identity.get("userAssignedIdentities") or {}}
    for registry in config.get("registries") or []:
        if registry.get("identity"):
            wanted = str(registry["identity"]).lower()
            ok = ("SystemAssigned" in str(identity.get("type")) if wanted == "system"
                  else wanted in held)
            if not ok:
                raise bad("InvalidRegistryIdentity",
                          f"The registry '{registry.get('server')}' names the identity "
                          f"'{registry['identity']}', which the container app does not have.")
            continue
        need_secret(registry.get("passwordSecretRef"), f"registry '{registry.get('server')}'")
    template = props.get("template") or {}
    grace = template.get("terminationGracePeriodSeconds")
    if grace is not None and not 0 <= grace <= MAX_GRACE_SECONDS:
        raise bad("ContainerAppInvalidTerminationGracePeriod",
                  f"terminationGracePeriodSeconds {grace} is invalid: it must be between 0 "
                  f"and {MAX_GRACE_SECONDS}.")
    containers = template.get("containers") or []
    if not containers:
        raise bad("ContainerAppInvalidTemplate", "At least one container is required.")
    for container in containers:
        if not container.get("name") or not container.get("image"):
            raise bad("ContainerAppInvalidTemplate", "Each container needs a name and image.")
        for var in container.get("env") or []:
            if "secretRef" in var:
                need_secret(var["secretRef"], f"environment variable '{var.get('name')}'")
            elif "value" not in var:
                raise bad("ContainerAppInvalidEnv", f"'{var.get('name')}' has no value.")
        resources = container.get("resources") or {}
        cpu, memory = resources.get("cpu"), str(resources.get("memory", ""))
        match = re.fullmatch(r"(\d+(?:\.\d+)?)Gi", memory)
        if cpu is None or match is None or float(cpu) * 4 % 1 or not 0.25 <= float(cpu) <= 4 \
                or float(match.group(1)) != float(cpu) * 2:
            raise bad("ContainerAppInvalidResourceTotal",
                      f"The total requested CPU and memory resources for this application "
                      f"(CPU: {cpu}, memory: {memory}) is invalid. Total CPU and memory for "
                      "all containers defined in a Container App must add up to one of the "
                      "following CPU - Memory combinations: [cpu: 0.25, memory: 0.5Gi]; "
                      "[cpu: 0.5, memory: 1.0Gi]; ... [cpu: 4.0, memory: 8.0Gi]")
    scale = template.get("scale") or {}
    low, high = scale.get("minReplicas", 0), scale.get("maxReplicas", 10)
    if not (0 <= low <= high and 1 <= high <= MAX_REPLICAS):
        raise bad("ContainerAppInvalidScaleRange",
                  f"Invalid scale range: minReplicas {low}, maxReplicas {high}.")
    for rule in scale.get("rules") or []:
        for auth in (rule.get("azureQueue") or rule.get("custom") or {}).get("auth") or []:
            need_secret(auth.get("secretRef"), f"scale rule '{rule.get('name')}'")


class AzureResourceManagerDouble:
    """Container Apps, their revisions and environments of ARM, plus a token endpoint, in
    memory. `environment_seconds` and `revision_seconds` are how long provisioning takes;
    `fail_image` and `throttle` set up the failure paths."""

    def __init__(self, tenant: str = "wren-tenant", client_id: str = "wren-client",
                 client_secret: str = "wren-secret", *, environment_seconds: float = 0.0,
                 revision_seconds: float = 0.0, retry_after: int = 1) -> None:
        self.tenant, self.client_id, self.client_secret = tenant, client_id, client_secret
        self.environment_seconds, self.revision_seconds = environment_seconds, revision_seconds
        self.retry_after = retry_after
        self.resources: dict[str, dict[str, Any]] = {}
        self.revisions: dict[str, dict[str, dict[str, Any]]] = {}
        self.requests: list[Recorded] = []
        self.tokens: set[str] = set()
        self.image_failures: dict[str, str] = {}
        self.throttled: list[Recorded] = []
        self._ready_at: dict[str, float] = {}
        self._operations: dict[str, str] = {}
        self._throttle = (0, 0)
        self._lock = threading.Lock()
        self._dir = Path(tempfile.mkdtemp(prefix="arm-double-"))
        self.cert_path, key_path = _self_signed(self._dir)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_path, key_path)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> AzureResourceManagerDouble:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def writes(self, kind: str = "containerApps") -> Iterator[Recorded]:
        """Recorded PUT/PATCH/DELETE requests on one kind of resource."""
        return (r for r in list(self.requests) if r.method != "GET" and f"/{kind}/" in r.path)

    # Failure paths ----------------------------------------------------------------------
    def fail_image(self, image: str, reason: str | None = None) -> None:
        """Revisions of `image` fail, as when Azure cannot pull it."""
        self.image_failures[image] = reason or (
            f"Failed to provision revision: the image '{image}' could not be pulled: "
            "ImagePullBackOff (manifest unknown or unauthorized)")

    def fail_revision(self, app: str, reason: str) -> None:
        """The latest revision of `app` fails now (its replicas cannot start)."""
        with self._lock:
            for app_key, revisions in self.revisions.items():
                if app_key.endswith(f"/containerapps/{app.lower()}"):
                    latest = self.resources[app_key]["properties"]["latestRevisionName"]
                    revisions[latest.lower()]["properties"].update(
                        provisioningState="Failed", runningState="Failed",
                        healthState="Unhealthy", provisioningError=reason)

    def throttle(self, count: int, retry_after: int = 1) -> None:
        """Answer the next `count` ARM requests with 429 and `Retry-After: retry_after`."""
        with self._lock:
            self._throttle = (count, retry_after)

    # Request handling -------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: Any, headers: dict[str, str]) -> None:
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-ms-request-id", str(uuid.uuid4()))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                headers: dict[str, str] = {}
                try:
                    status, body, headers = double.dispatch(
                        self.command, parts.path, parse_qs(parts.query), raw,
                        self.headers.get("Authorization", ""))
                except ArmError as exc:
                    status, body = exc.status, {"error": {"code": exc.code,
                                                          "message": exc.message}}
                    headers = exc.headers
                self._reply(status, body, headers)

            do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _serve

        return Handler

    def dispatch(self, method: str, path: str, query: dict[str, list[str]], raw: bytes,
                 authorization: str) -> tuple[int, Any, dict[str, str]]:
        if method == "GET" and (found := _DISCOVERY.match(path)):
            return 200, self._discovery(found["tenant"]), {}
        if method == "POST" and (found := _TOKEN.match(path)):
            return (*self._token(found["tenant"], parse_qs(raw.decode())), {})
        resource, operation = _RESOURCE.match(path), _OPERATION.match(path)
        if resource is None and operation is None:
            raise ArmError(404, "InvalidResourceType", f"No route for {method} {path}")
        if authorization.removeprefix("Bearer ") not in self.tokens:
            raise ArmError(401, "InvalidAuthenticationToken",
                           "The access token is invalid or missing.")
        if not query.get("api-version"):
            raise ArmError(400, "MissingApiVersionParameter",
                           "The api-version query parameter (?api-version=) is required.")
        body = json.loads(raw) if raw else None
        with self._lock:
            recorded = Recorded(method, path, query, body)
            count, wait = self._throttle
            if count > 0:
                self._throttle = (count - 1, wait)
                self.throttled.append(recorded)
                raise ArmError(429, "TooManyRequests",
                               "The request is being throttled: too many requests for this "
                               f"subscription. Retry after {wait} seconds.",
                               {"Retry-After": str(wait)})
            self.requests.append(recorded)
            if operation is not None:
                return 200, self._operation(operation["op"]), self._poll_headers()
            assert resource is not None
            if resource["revisions"] is not None:
                return 200, self._revision(method, path, resource), {}
            return self._resource(method, path, resource, body)

    def _discovery(self, tenant: str) -> dict[str, Any]:
        base = f"{self.url}/{tenant}"
        return {"token_endpoint": f"{base}/oauth2/v2.0/token",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "issuer": f"{base}/v2.0", "jwks_uri": f"{base}/discovery/v2.0/keys",
                "response_types_supported": ["code", "token"],
                "token_endpoint_auth_methods_supported": ["client_secret_post"]}

    def _token(self, tenant: str, form: dict[str, list[str]]) -> tuple[int, Any]:
        given = {k: v[0] for k, v in form.items()}
        if tenant != self.tenant or given.get("client_id") != self.client_id \
                or given.get("client_secret") != self.client_secret:
            return 401, {"error": "invalid_client",
                         "error_description": "AADSTS7000215: Invalid client secret provided."}
        token = uuid.uuid4().hex
        self.tokens.add(token)
        return 200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                     "access_token": token}

    # Provisioning over time ---------------------------------------------------------------
    def _poll_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}

    def _settle(self) -> None:
        """Move what finished provisioning to its final state."""
        now = time.monotonic()
        for key, ready_at in list(self._ready_at.items()):
            if ready_at > now:
                continue
            del self._ready_at[key]
            if "/revisions/" in key:
                app_key, name = key.split("/revisions/")
                revision = self.revisions.get(app_key, {}).get(name)
                if revision is not None:
                    self._finish_revision(app_key, revision)
            elif key in self.resources:
                self.resources[key]["properties"]["provisioningState"] = "Succeeded"

    def _operation(self, op: str) -> dict[str, Any]:
        self._settle()
        key = self._operations.get(op)
        if key is None:
            raise ArmError(404, "OperationNotFound", f"Operation '{op}' not found.")
        done = key not in self._ready_at
        return {"id": op, "name": op, "status": "Succeeded" if done else "InProgress"}

    # Resources ----------------------------------------------------------------------------
    def _resource(self, method: str, path: str, match: re.Match[str],
                  body: Any) -> tuple[int, Any, dict[str, str]]:
        self._settle()
        kind, name = match["kind"], match["name"]
        key = path.lower()
        if name is None:
            if method != "GET":
                raise ArmError(405, "MethodNotAllowed", f"{method} is not allowed here")
            return 200, {"value": [self._public(r) for k, r in sorted(self.resources.items())
                                   if k.startswith(key + "/")]}, {}
        if method == "GET":
            if key not in self.resources:
                raise ArmError(404, "ResourceNotFound",
                               f"The Resource 'Microsoft.App/{kind}/{name}' under resource "
                               f"group '{match['rg']}' was not found.")
            return 200, self._public(self.resources[key]), {}
        if method == "DELETE":
            self.revisions.pop(key, None)
            return (200 if self.resources.pop(key, None) is not None else 204), None, {}
        if method != "PUT":
            raise ArmError(405, "MethodNotAllowed", f"{method} is not supported by this double")
        is_app = kind.lower() == "containerapps"
        try:
            check_body("ContainerApp" if is_app else "ManagedEnvironment", body)
        except InvalidContent as exc:
            raise ArmError(400, "InvalidRequestContent",
                           "The request content was invalid and could not be deserialized: "
                           f"'{exc}'.") from None
        envs = {k: r["properties"].get("provisioningState") == "Succeeded"
                for k, r in self.resources.items() if "/managedenvironments/" in k}
        if is_app:
            _check_app(body, name, envs)
        elif not body.get("location"):
            raise ArmError(400, "LocationRequired", "The location property is required.")
        created = key not in self.resources
        stored = {**body, "id": path, "name": name, "type": f"Microsoft.App/{kind}",
                  "properties": {**(body.get("properties") or {}),
                                 "provisioningState": "Succeeded"}}
        self.resources[key] = stored
        if is_app:
            self._new_revision(key, stored)
            return (201 if created else 200), self._public(stored), {}
        if created and self.environment_seconds > 0:
            stored["properties"]["provisioningState"] = "InitializationInProgress"
            self._ready_at[key] = time.monotonic() + self.environment_seconds
            op = uuid.uuid4().hex
            self._operations[op] = key
            location = re.sub(r"\s", "", str(body["location"])).lower()
            status_url = (f"{self.url}/subscriptions/{match['sub']}/providers/Microsoft.App/"
                          f"locations/{location}/managedEnvironmentOperationStatuses/{op}"
                          "?api-version=2023-05-01")
            return 201, self._public(stored), {"Azure-AsyncOperation": status_url,
                                               **self._poll_headers()}
        return (201 if created else 200), self._public(stored), {}

    # Revisions ----------------------------------------------------------------------------
    def _new_revision(self, app_key: str, app: dict[str, Any]) -> None:
        name = f"{app['name']}--{uuid.uuid4().hex[:7]}"
        template = app["properties"].get("template") or {}
        revision = {"id": f"{app['id']}/revisions/{name}", "name": name,
                    "type": "Microsoft.App/containerApps/revisions",
                    "properties": {"createdTime": datetime.datetime.now(
                        datetime.timezone.utc).isoformat(), "template": template,
                        "active": True, "replicas": 0, "trafficWeight": 100,
                        "healthState": "None", "provisioningState": "Provisioning",
                        "runningState": "Processing"}}
        self.revisions.setdefault(app_key, {})[name.lower()] = revision
        app["properties"]["latestRevisionName"] = name
        if self.revision_seconds > 0:
            self._ready_at[f"{app_key}/revisions/{name.lower()}"] = (
                time.monotonic() + self.revision_seconds)
        else:
            self._finish_revision(app_key, revision)

    def _finish_revision(self, app_key: str, revision: dict[str, Any]) -> None:
        props = revision["properties"]
        images = [c.get("image") for c in props["template"].get("containers") or []]
        failure = next((self.image_failures[i] for i in images if i in self.image_failures),
                       None)
        if failure is not None:
            props.update(provisioningState="Failed", runningState="Failed",
                         healthState="Unhealthy", provisioningError=failure)
            return
        props.update(provisioningState="Provisioned", runningState="Running",
                     healthState="Healthy")
        app = self.resources.get(app_key)
        if app is not None:
            app["properties"]["latestReadyRevisionName"] = revision["name"]

    def _revision(self, method: str, path: str, match: re.Match[str]) -> Any:
        self._settle()
        if method != "GET":
            raise ArmError(405, "MethodNotAllowed", f"{method} is not supported by this double")
        app_key = path.lower().split("/revisions")[0]
        if app_key not in self.resources:
            raise ArmError(404, "ResourceNotFound",
                           f"The Resource 'Microsoft.App/containerApps/{match['name']}' under "
                           f"resource group '{match['rg']}' was not found.")
        revisions = self.revisions.get(app_key, {})
        if match["revision"] is None:
            return {"value": list(revisions.values())}
        found = revisions.get(match["revision"].lower())
        if found is None:
            raise ArmError(404, "ContainerAppRevisionNotFound",
                           f"Revision '{match['revision']}' was not found.")
        return found

    @staticmethod
    def _public(resource: dict[str, Any]) -> dict[str, Any]:
        """What GET returns: secret values withheld, as ARM does."""
        out = json.loads(json.dumps(resource))
        for secret in (out["properties"].get("configuration") or {}).get("secrets") or []:
            secret.pop("value", None)
        return out
