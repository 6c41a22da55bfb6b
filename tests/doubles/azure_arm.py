"""A test double that stands in for Azure Resource Manager (and the Microsoft Entra token
endpoint) for Container Apps, because no real ARM can run on these machines.

It speaks the real protocol the Azure SDK uses, over HTTPS on 127.0.0.1 with a self-signed
certificate: OAuth2 client credentials at `/{tenant}/oauth2/v2.0/token` (with the OpenID
discovery document msal reads first), then bearer-authenticated `GET/PUT/DELETE` of
`/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.App/{containerApps|
managedEnvironments}/{name}?api-version=...` and the list of container apps. PUT bodies are
checked the way ARM checks them (name rules, cpu/memory pairs, secret references, scale
bounds, environment existence) and refused with ARM's error shape, so the app spec a client
would send to Azure is validated, and every request is recorded for assertions. Secret
values are never returned, as in ARM. It runs no containers: tests start the runtime's
consumer processes themselves.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import re
import ssl
import tempfile
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs

_RESOURCE = re.compile(r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
                       r"Microsoft\.App/(?P<kind>containerApps|managedEnvironments)"
                       r"(?:/(?P<name>[^/]+))?$", re.IGNORECASE)
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
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _check_app(body: Any, name: str, envs: dict[str, Any]) -> None:
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
    config = props.get("configuration") or {}
    secrets = {s.get("name") for s in config.get("secrets") or []}
    for secret in config.get("secrets") or []:
        if not _SECRET_NAME.match(secret.get("name") or "") or secret.get("value") is None:
            raise bad("ContainerAppSecretInvalid", f"Invalid secret '{secret.get('name')}'.")

    def need_secret(ref: Any, where: str) -> None:
        if ref not in secrets:
            raise bad("ContainerAppSecretRefNotFound",
                      f"SecretRef '{ref}' defined for {where} not found.")

    for registry in config.get("registries") or []:
        need_secret(registry.get("passwordSecretRef"), f"registry '{registry.get('server')}'")
    template = props.get("template") or {}
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
    if not (0 <= low <= high and 1 <= high <= 1000):
        raise bad("ContainerAppInvalidScaleRange",
                  f"Invalid scale range: minReplicas {low}, maxReplicas {high}.")
    for rule in scale.get("rules") or []:
        for auth in (rule.get("azureQueue") or rule.get("custom") or {}).get("auth") or []:
            need_secret(auth.get("secretRef"), f"scale rule '{rule.get('name')}'")


class AzureResourceManagerDouble:
    """Container Apps and environments of ARM, plus a token endpoint, in memory."""

    def __init__(self, tenant: str = "wren-tenant", client_id: str = "wren-client",
                 client_secret: str = "wren-secret") -> None:
        self.tenant, self.client_id, self.client_secret = tenant, client_id, client_secret
        self.resources: dict[str, dict[str, Any]] = {}
        self.requests: list[Recorded] = []
        self.tokens: set[str] = set()
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

    # Request handling -------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: Any = None) -> None:
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-ms-request-id", str(uuid.uuid4()))
                self.end_headers()
                self.wfile.write(data)

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                try:
                    status, body = double.dispatch(self.command, parts.path,
                                                   parse_qs(parts.query), raw,
                                                   self.headers.get("Authorization", ""))
                except ArmError as exc:
                    status, body = exc.status, {"error": {"code": exc.code,
                                                          "message": exc.message}}
                self._reply(status, body)

            do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _serve

        return Handler

    def dispatch(self, method: str, path: str, query: dict[str, list[str]], raw: bytes,
                 authorization: str) -> tuple[int, Any]:
        if method == "GET" and (found := _DISCOVERY.match(path)):
            return 200, self._discovery(found["tenant"])
        if method == "POST" and (found := _TOKEN.match(path)):
            return self._token(found["tenant"], parse_qs(raw.decode()))
        resource = _RESOURCE.match(path)
        if resource is None:
            raise ArmError(404, "InvalidResourceType", f"No route for {method} {path}")
        if authorization.removeprefix("Bearer ") not in self.tokens:
            raise ArmError(401, "InvalidAuthenticationToken",
                           "The access token is invalid or missing.")
        if not query.get("api-version"):
            raise ArmError(400, "MissingApiVersionParameter",
                           "The api-version query parameter (?api-version=) is required.")
        body = json.loads(raw) if raw else None
        with self._lock:
            self.requests.append(Recorded(method, path, query, body))
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

    def _resource(self, method: str, path: str, match: re.Match[str],
                  body: Any) -> tuple[int, Any]:
        kind, name = match["kind"], match["name"]
        key = path.lower()
        if name is None:
            if method != "GET":
                raise ArmError(405, "MethodNotAllowed", f"{method} is not allowed here")
            return 200, {"value": [self._public(r) for k, r in sorted(self.resources.items())
                                   if k.startswith(key + "/")]}
        if method == "GET":
            if key not in self.resources:
                raise ArmError(404, "ResourceNotFound",
                               f"The Resource 'Microsoft.App/{kind}/{name}' under resource "
                               f"group '{match['rg']}' was not found.")
            return 200, self._public(self.resources[key])
        if method == "DELETE":
            return (200 if self.resources.pop(key, None) is not None else 204), None
        if method != "PUT":
            raise ArmError(405, "MethodNotAllowed", f"{method} is not supported by this double")
        envs = {k for k, r in self.resources.items() if "/managedenvironments/" in k}
        if kind.lower() == "containerapps":
            _check_app(body, name, envs)
        elif not isinstance(body, dict) or not body.get("location"):
            raise ArmError(400, "LocationRequired", "The location property is required.")
        created = key not in self.resources
        stored = {**body, "id": path, "name": name, "type": f"Microsoft.App/{kind}",
                  "properties": {**(body.get("properties") or {}),
                                 "provisioningState": "Succeeded"}}
        self.resources[key] = stored
        return (201 if created else 200), self._public(stored)

    @staticmethod
    def _public(resource: dict[str, Any]) -> dict[str, Any]:
        """What GET returns: secret values withheld, as ARM does."""
        out = json.loads(json.dumps(resource))
        for secret in (out["properties"].get("configuration") or {}).get("secrets") or []:
            secret.pop("value", None)
        return out
