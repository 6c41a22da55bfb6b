"""A test double of the IBM Cloud Code Engine REST API v2 and of the IAM token endpoint.

It stands in for `https://api.<region>.codeengine.cloud.ibm.com/v2` (no Code Engine control
plane can run on these machines) and speaks the protocol `ibm-code-engine-sdk`'s
`CodeEngineV2` uses, as the API reference documents it (cloud.ibm.com/apidocs/codeengine/v2):
"Projects" (`GET/POST /projects`, `GET/DELETE /projects/{id}`; a new project is `creating`,
then `active`), "Jobs" (`GET/POST /projects/{id}/jobs`, `GET/PATCH/DELETE .../jobs/{name}`,
PATCH as `application/merge-patch+json` with `If-Match` = the job's `entity_tag`), "Job runs"
(`GET/POST /projects/{id}/job_runs`, `GET/DELETE .../job_runs/{name}`; a run named after
an existing one is 409) and "Secrets" (`GET/POST /projects/{id}/secrets`,
`GET/PUT/DELETE .../secrets/{name}`); lists are paged with `limit`/`start` and a
`next.start` token; errors are `{"errors": [{"code", "message"}], "status_code"}`. It checks
what the real API checks before accepting a job: names (lowercase, <= 63), the vCPU/memory
combination ("Supported memory and CPU combinations"), `run_mode`, the array spec and env
variable types. IAM: `POST /identity/token` with the `apikey` grant trades a known API key
for a bearer token (`expires_in`); anything else is 400, an unknown or expired token 401.
What runs is real: each array index of a job run is a container of the job's image in podman
(`tests.doubles.code_engine_runs`). `requests` records every request body (to prove no
secret travels where it must not), `inject` makes the next matching requests fail.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.doubles.code_engine_runs import JobRunner, Launcher, indices

_NAME = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
#: vCPU -> memory (GB) allowed with it: Code Engine's documented combinations.
COMBINATIONS = {0.125: (0.25, 0.5, 1), 0.25: (0.5, 1, 2), 0.5: (1, 2, 4), 1: (2, 4, 8),
                2: (4, 8, 16), 4: (8, 16, 32), 6: (12, 24), 8: (16, 32)}
_ENV_TYPES = ("literal", "secret_full_reference", "secret_key_reference",
              "config_map_full_reference", "config_map_key_reference")


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str = "bad_request") -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def _gigabytes(limit: str) -> float:
    found = re.fullmatch(r"([0-9.]+)\s*(G|M|Gi|Mi)", limit)
    if not found:
        raise ApiError(400, f"invalid memory limit {limit!r}")
    value = float(found.group(1))
    return value if found.group(2).startswith("G") else value / 1024


def check_job(body: Mapping[str, Any]) -> None:
    """What Code Engine checks in a job (or job run) prototype."""
    name = body.get("name")
    if name is not None and (len(name) > 63 or not _NAME.fullmatch(name)):
        raise ApiError(400, f"invalid name {name!r}: lowercase letters, digits and '-', "
                            "at most 63, starting with a letter")
    if body.get("run_mode", "task") not in ("task", "daemon"):
        raise ApiError(400, f"invalid run_mode {body['run_mode']!r}")
    cpu, memory = body.get("scale_cpu_limit"), body.get("scale_memory_limit")
    if cpu is not None and memory is not None:
        allowed = COMBINATIONS.get(float(cpu))
        if allowed is None or _gigabytes(memory) not in allowed:
            raise ApiError(400, f"invalid combination of CPU {cpu} and memory {memory}")
    if body.get("scale_array_spec") is not None:
        try:
            indices(body["scale_array_spec"])
        except ValueError as exc:
            raise ApiError(400, f"invalid scale_array_spec: {exc}") from None
    for env in body.get("run_env_variables") or []:
        if env.get("type", "literal") not in _ENV_TYPES:
            raise ApiError(400, f"invalid env variable type {env.get('type')!r}")


class CodeEngineState:
    """Projects, jobs, job runs and secrets of one account; IAM keys and tokens."""

    def __init__(self, api_key: str, runner: JobRunner, token_ttl: float) -> None:
        self.api_keys = {api_key}
        self.tokens: dict[str, float] = {}
        self.token_ttl, self.runner = token_ttl, runner
        self.projects: dict[str, dict[str, Any]] = {}
        self.items: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        self.lock = threading.RLock()
        self.requests: list[dict[str, Any]] = []
        self.faults: list[dict[str, Any]] = []
        self.tokens_issued = 0

    # IAM ----------------------------------------------------------------------------------
    def token(self, form: Mapping[str, str]) -> dict[str, Any]:
        if form.get("grant_type") != "urn:ibm:params:oauth:grant-type:apikey":
            raise ApiError(400, "Unsupported grant type", "BXNIM0102E")
        if form.get("apikey") not in self.api_keys:
            raise ApiError(400, "Provided API key could not be found.", "BXNIM0415E")
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = time.time() + self.token_ttl
            self.tokens_issued += 1
        return {"access_token": token, "token_type": "Bearer", "expires_in": self.token_ttl,
                "expiration": int(time.time() + self.token_ttl)}

    def authorize(self, header: str | None) -> None:
        kind, _, token = (header or "").partition(" ")
        if kind != "Bearer" or self.tokens.get(token, 0) < time.time():
            raise ApiError(401, "Unauthorized: the IAM token is missing, invalid or expired",
                           "authorization_failed")

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    # Resources ----------------------------------------------------------------------------
    def project(self, project_id: str) -> dict[str, Any]:
        found = self.projects.get(project_id)
        if found is None:
            raise ApiError(404, f"project {project_id} not found", "not_found")
        if found["status"] == "creating" and time.time() >= found["_ready_at"]:
            found["status"] = "active"
        return found

    def kind(self, project_id: str, kind: str) -> dict[str, dict[str, Any]]:
        self.project(project_id)
        return self.items.setdefault((project_id, kind), {})

    def get(self, project_id: str, kind: str, name: str) -> dict[str, Any]:
        found = self.kind(project_id, kind).get(name)
        if found is None:
            raise ApiError(404, f"{kind[:-1]} {name!r} not found", "not_found")
        return found

    def create(self, project_id: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        items = self.kind(project_id, kind)
        name = body.get("name") or f"{body.get('job_name', 'run')}-{uuid.uuid4().hex[:5]}"
        if name in items:
            raise ApiError(409, f"{kind[:-1]} {name!r} already exists", "already_exists")
        body = {**body, "name": name, "id": str(uuid.uuid4()), "project_id": project_id,
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "entity_tag": str(time.time_ns()), "resource_type": f"{kind[:-1]}_v2"}
        items[name] = body
        return body

    def environment(self, project_id: str, *lists: list[dict[str, Any]]) -> dict[str, str]:
        """The variables of env lists, in order (later ones win), secrets resolved."""
        env: dict[str, str] = {}
        for entries in lists:
            for entry in entries or []:
                kind = entry.get("type", "literal")
                if kind == "literal":
                    env[entry["name"]] = str(entry.get("value", ""))
                    continue
                source = self.get(project_id, "secrets" if "secret" in kind else
                                  "config_maps", entry["reference"]).get("data") or {}
                if kind.endswith("full_reference"):
                    env.update({f"{entry.get('prefix') or ''}{k}": v for k, v in source.items()})
                elif entry["key"] in source:
                    env[entry["name"]] = source[entry["key"]]
                else:
                    raise ApiError(400, f"key {entry['key']!r} not in {entry['reference']!r}")
        return env

    def start_run(self, project_id: str, body: dict[str, Any]) -> dict[str, Any]:
        check_job(body)
        job = self.get(project_id, "jobs", body["job_name"]) if body.get("job_name") else {}
        merged = {k: v for k, v in job.items()
                  if k.startswith(("scale_", "run_", "image_"))}
        merged.update({k: v for k, v in body.items() if k != "run_env_variables"})
        image = merged.get("image_reference")
        if not image:
            raise ApiError(400, "a job run needs `image_reference` or a `job_name`")
        env = self.environment(project_id, job.get("run_env_variables") or [],
                               body.get("run_env_variables") or [])
        run = self.create(project_id, "job_runs", {**merged, "run_env_variables":
                                                   body.get("run_env_variables") or []})
        self.runner.start(run, image, env)
        return run


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: CodeEngineState

    def log_message(self, *_: Any) -> None:
        pass

    def _send(self, status: int, body: Any) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _dispatch(self, method: str) -> None:
        url = urllib.parse.urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        state = self.state
        with state.lock:
            state.requests.append({"method": method, "path": url.path,
                                   "body": raw.decode(errors="replace")})
            fault = next((f for f in state.faults if f["method"] in (method, None)
                          and f["path"] in url.path and f["count"] > 0), None)
            if fault is not None:
                fault["count"] -= 1
        try:
            if fault is not None:
                raise ApiError(fault["status"], "injected fault", "injected")
            status, body = self._route(method, url.path, urllib.parse.parse_qs(url.query), raw)
        except ApiError as exc:
            status, body = exc.status, {"errors": [{"code": exc.code, "message": exc.message}],
                                        "status_code": exc.status, "trace": uuid.uuid4().hex}
        self._send(status, body)

    def _route(self, method: str, path: str, query: dict[str, list[str]],
               raw: bytes) -> tuple[int, Any]:
        state = self.state
        if path == "/identity/token" and method == "POST":
            form = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
            return 200, state.token(form)
        state.authorize(self.headers.get("Authorization"))
        body = json.loads(raw) if raw else {}
        parts = path.removeprefix("/v2/").strip("/").split("/")
        with state.lock:
            if parts == ["projects"]:
                if method == "POST":
                    return 202, self._new_project(body)
                return 200, _page("projects", list(state.projects.values()), query)
            project_id = parts[1]
            if len(parts) == 2:
                project = state.project(project_id)
                if method == "DELETE":
                    del state.projects[project_id]
                    return 202, None
                return 200, _public(project)
            kind = parts[2]
            if kind not in ("jobs", "job_runs", "secrets"):
                raise ApiError(404, f"no route {path}", "not_found")
            if len(parts) == 3:
                if method == "POST":
                    return 201, self._create(project_id, kind, body)
                items = list(state.kind(project_id, kind).values())
                if query.get("job_name"):
                    items = [i for i in items if i.get("job_name") == query["job_name"][0]]
                return 200, _page(kind, items, query)
            found = state.get(project_id, kind, parts[3])
            if method == "DELETE":
                del state.kind(project_id, kind)[parts[3]]
                return 202, None
            if method in ("PATCH", "PUT"):
                if self.headers.get("If-Match") not in (found["entity_tag"], "*"):
                    raise ApiError(412, "If-Match does not match the entity tag",
                                   "precondition_failed")
                check_job({**found, **body, "name": found["name"]})
                found.update(body)
                found["entity_tag"] = str(time.time_ns())
            return 200, _public(found)

    def _new_project(self, body: dict[str, Any]) -> dict[str, Any]:
        if not body.get("name"):
            raise ApiError(400, "a project needs a name")
        if any(p["name"] == body["name"] for p in self.state.projects.values()):
            raise ApiError(409, f"project {body['name']!r} already exists", "already_exists")
        project = {"id": str(uuid.uuid4()), "name": body["name"], "status": "creating",
                   "resource_group_id": body.get("resource_group_id") or "default",
                   "region": "local", "_ready_at": time.time() + 0.5}
        self.state.projects[project["id"]] = project
        return _public(project)

    def _create(self, project_id: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        if kind == "job_runs":
            return _public(self.state.start_run(project_id, body))
        if kind == "jobs":
            check_job(body)
            if not body.get("image_reference") or not body.get("name"):
                raise ApiError(400, "a job needs `image_reference` and `name`")
        elif body.get("format") not in ("generic", "registry", "ssh_auth", "tls",
                                         "basic_auth", "service_access", "other"):
            raise ApiError(400, f"invalid secret format {body.get('format')!r}")
        return _public(self.state.create(project_id, kind, body))

    do_GET = lambda self: self._dispatch("GET")  # noqa: E731
    do_POST = lambda self: self._dispatch("POST")  # noqa: E731
    do_PUT = lambda self: self._dispatch("PUT")  # noqa: E731
    do_PATCH = lambda self: self._dispatch("PATCH")  # noqa: E731
    do_DELETE = lambda self: self._dispatch("DELETE")  # noqa: E731


def _public(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if not k.startswith("_")}


def _page(kind: str, items: list[dict[str, Any]], query: dict[str, list[str]]
          ) -> dict[str, Any]:
    limit = int((query.get("limit") or ["50"])[0])
    start = int((query.get("start") or ["0"])[0])
    page: dict[str, Any] = {kind: [_public(i) for i in items[start:start + limit]],
                            "limit": limit}
    if start + limit < len(items):
        page["next"] = {"start": str(start + limit), "href": f"?start={start + limit}"}
    return page


class CodeEngineDouble:
    """The double, served on a free 127.0.0.1 port from a thread of this process."""

    def __init__(self, root: Path, launch: Launcher | None, *, slots: int = 6,
                 token_ttl: float = 3600) -> None:
        self.api_key = secrets.token_urlsafe(24)
        self.runner = JobRunner(launch, root, slots)
        self.state = CodeEngineState(self.api_key, self.runner, token_ttl)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.iam_url = f"{self.url}/identity/token"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                       name="code-engine-double")
        self.thread.start()

    def config(self, **extra: Any) -> dict[str, Any]:
        """A `code_engine` section that points at this double."""
        return {"endpoint": f"{self.url}/v2", "iam_endpoint": self.iam_url,
                "iam_api_key": self.api_key, **extra}

    def inject(self, status: int, count: int = 1, path: str = "", method: str | None = None
               ) -> None:
        with self.state.lock:
            self.state.faults.append({"status": status, "count": count, "path": path,
                                      "method": method})

    def runs(self) -> Iterator[dict[str, Any]]:
        with self.state.lock:
            for (_, kind), items in self.state.items.items():
                if kind == "job_runs":
                    yield from list(items.values())

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
