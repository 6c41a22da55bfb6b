"""Routes of the OpenWhisk controller double (see `openwhisk_controller`, which stands in for
the OpenWhisk / IBM Cloud Functions controller): packages, actions, invocations,
activations, namespaces, the IAM token endpoint and the `/_double/` admin routes."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any
from urllib.parse import parse_qs

import attrs

from tests.doubles.openwhisk_containers import ActionRunner, ActionSpec
from tests.doubles.openwhisk_state import Controller, error

NOT_FOUND = "The requested resource does not exist."
Answer = tuple[int, Any]


@attrs.define
class Request:
    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    headers: Any
    raw: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.raw) if self.raw else {}
        except ValueError:
            raise error(400, "The request content was malformed: not JSON") from None

    def flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() == "true"


def _pairs(values: Any) -> list[dict[str, Any]]:
    if values is None:
        return []
    if not isinstance(values, list) or not all(isinstance(p, dict) and "key" in p
                                               for p in values):
        raise error(400, "The request content was malformed: parameters and annotations "
                         "must be lists of {key, value}")
    return [{"key": p["key"], "value": p.get("value")} for p in values]


class Routes(Controller):
    """The route handlers; each takes a `Request` and returns (status, JSON body)."""

    # IAM and namespaces -------------------------------------------------------------------
    def token(self, request: Request) -> Answer:
        return 200, self.issue_token(parse_qs(request.raw.decode()))

    def namespaces(self, request: Request) -> Answer:
        kind, who = self.principal(request.headers)
        if kind == "basic":
            return 200, [who]
        ids = self.iam_keys.get(who, [])
        page = self.page(request.query, ids, "namespaces", skip_name="offset")
        return 200, {"namespaces": [{"id": i, "name": self.iam_names.get(i, i),
                                     "description": "", "location": "loopback"}
                                    for i in page],
                     "limit": int(request.query.get("limit", "30")),
                     "offset": int(request.query.get("offset", "0")),
                     "total_count": len(ids)}

    # Packages -----------------------------------------------------------------------------
    def list_packages(self, request: Request) -> Answer:
        ns, _ = self.namespace(request.headers, request.params["ns"])
        found = [p for (n, _), p in sorted(self.packages.items()) if n == ns]
        return 200, self.page(request.query, found, "packages")

    def put_package(self, request: Request) -> Answer:
        ns, shown = self.namespace(request.headers, request.params["ns"])
        name, body = request.params["pkg"], request.json()
        with self.lock:
            old = self.packages.get((ns, name))
            if old is not None and not request.flag("overwrite"):
                raise error(409, "resource already exists")
            doc = {"name": name, "namespace": shown, "publish": bool(body.get("publish")),
                   "parameters": _pairs(body.get("parameters")),
                   "annotations": _pairs(body.get("annotations")),
                   "version": f"0.0.{(old or {}).get('_v', 0) + 1}",
                   "_v": (old or {}).get("_v", 0) + 1}
            self.packages[(ns, name)] = doc
        return 200, {k: v for k, v in doc.items() if not k.startswith("_")}

    def get_package(self, request: Request) -> Answer:
        ns, _ = self.namespace(request.headers, request.params["ns"])
        doc = self.packages.get((ns, request.params["pkg"]))
        if doc is None:
            raise error(404, NOT_FOUND)
        return 200, {k: v for k, v in doc.items() if not k.startswith("_")}

    def delete_package(self, request: Request) -> Answer:
        ns, _ = self.namespace(request.headers, request.params["ns"])
        name = request.params["pkg"]
        with self.lock:
            inside = [k for k in self.actions if k[0] == ns and k[1] == name]
            if inside:
                raise error(409, f"Package not empty (contains {len(inside)} entity)")
            doc = self.packages.pop((ns, name), None)
        if doc is None:
            raise error(404, NOT_FOUND)
        return 200, {k: v for k, v in doc.items() if not k.startswith("_")}

    # Actions ------------------------------------------------------------------------------
    def _key(self, request: Request) -> tuple[tuple[str, str, str], str]:
        ns, shown = self.namespace(request.headers, request.params["ns"])
        return (ns, request.params.get("pkg") or "", request.params["name"]), shown

    def _view(self, doc: dict[str, Any], code: bool = True) -> dict[str, Any]:
        view = {k: v for k, v in doc.items() if not k.startswith("_")}
        if not code:
            view["exec"] = {k: v for k, v in doc["exec"].items() if k != "code"}
        return view

    def list_actions(self, request: Request) -> Answer:
        ns, _ = self.namespace(request.headers, request.params["ns"])
        package = request.params.get("pkg")
        found = [self._view(doc, code=False) for (n, p, _), doc in sorted(self.actions.items())
                 if n == ns and (package is None or p == package)]
        return 200, self.page(request.query, found, "actions")

    def put_action(self, request: Request) -> Answer:
        key, shown = self._key(request)
        body = request.json()
        spec = body.get("exec") or {}
        if spec.get("kind") != "blackbox" or not spec.get("image"):
            raise error(400, "The request content was malformed: exec must be a blackbox "
                             "(kind 'blackbox' with an image) in this double")
        limits = {"memory": 256, "timeout": 60000, "logs": 10, "concurrency": 1,
                  **(body.get("limits") or {})}
        self.check_action_limits(limits)
        if key[1] and (key[0], key[1]) not in self.packages:
            raise error(404, NOT_FOUND)
        with self.lock:
            old = self.actions.get(key)
            if old is not None and not request.flag("overwrite"):
                raise error(409, "resource already exists")
            version = (old or {}).get("_v", 0) + 1
            doc = {"name": key[2], "namespace": "/".join(filter(None, (shown, key[1]))),
                   "version": f"0.0.{version}", "publish": False, "_v": version,
                   "exec": {"kind": "blackbox", "image": spec["image"],
                            "binary": bool(spec.get("binary")), "main": spec.get("main", "main"),
                            "code": spec.get("code")},
                   "limits": limits, "parameters": _pairs(body.get("parameters")),
                   "annotations": _pairs(body.get("annotations"))}
            self.actions[key] = doc
            runner = self.runners.pop(key, None)
        if runner is not None:
            runner.retire()
        return 200, self._view(doc, code=False)

    def get_action(self, request: Request) -> Answer:
        key, _ = self._key(request)
        doc = self.actions.get(key)
        if doc is None:
            raise error(404, NOT_FOUND)
        return 200, self._view(doc, code=request.query.get("code", "true") != "false")

    def delete_action(self, request: Request) -> Answer:
        key, _ = self._key(request)
        with self.lock:
            doc = self.actions.pop(key, None)
            runner = self.runners.pop(key, None)
        if runner is not None:
            runner.retire()
        if doc is None:
            raise error(404, NOT_FOUND)
        return 200, self._view(doc, code=False)

    # Invocations --------------------------------------------------------------------------
    def _runner(self, key: tuple[str, str, str], doc: dict[str, Any]) -> ActionRunner:
        with self.lock:
            runner = self.runners.get(key)
            if runner is None or runner.spec.version != doc["_v"]:
                spec = ActionSpec("/" + "/".join(filter(None, key)), doc["_v"],
                                  doc["exec"]["image"], doc["exec"]["code"],
                                  doc["exec"]["binary"], doc["exec"]["main"],
                                  int(doc["limits"]["timeout"]), key[0])
                runner = ActionRunner(spec, self.images.get(spec.image), self.max_containers,
                                      self.log_dir, self.url, self.running)
                self.runners[key] = runner
        return runner

    def invoke(self, request: Request) -> Answer:
        key, shown = self._key(request)
        doc = self.actions.get(key)
        if doc is None:
            raise error(404, NOT_FOUND)
        payload = request.json()
        if not isinstance(payload, dict):
            raise error(400, "The request content was malformed: the body must be an object")
        args = {**{p["key"]: p["value"] for p in doc["parameters"]}, **payload}
        self.admit(key[0], len(request.raw))
        activation_id = uuid.uuid4().hex
        record: dict[str, Any] = {"activationId": activation_id, "name": key[2],
                                  "namespace": shown, "start": int(time.time() * 1000),
                                  "response": None, "logs": []}
        finished = threading.Event()
        with self.lock:
            self.activations[activation_id] = record
            self.stats["invocations"] += 1
            if self.record:
                self.invocations.append({"activationId": activation_id,
                                         "action": "/".join(key), "body": request.raw.decode()})

        def done(status: str, result: dict[str, Any], start: float, end: float) -> None:
            record.update(start=int(start * 1000), end=int(end * 1000),
                          duration=int((end - start) * 1000),
                          response={"status": status, "success": status == "success",
                                    "statusCode": 0 if status == "success" else 1,
                                    "result": result})
            with self.lock:
                self.stats["completed"] += 1
            self.finish(key[0])
            finished.set()

        self._runner(key, doc).submit(activation_id, args, done)
        if not request.flag("blocking"):
            return 202, {"activationId": activation_id}
        if not finished.wait(self.blocking_wait):
            return 202, {"activationId": activation_id}
        response = record["response"]
        status = 200 if response["success"] else 502
        return status, response["result"] if request.flag("result") else record

    def get_activation(self, request: Request) -> Answer:
        self.namespace(request.headers, request.params["ns"])
        record = self.activations.get(request.params["id"])
        if record is None or record["response"] is None:
            raise error(404, NOT_FOUND)
        return 200, record

    # Admin --------------------------------------------------------------------------------
    def admin(self, request: Request) -> Answer:
        route = (request.method, request.path)
        if route == ("POST", "/_double/faults"):
            body = request.json()
            with self.lock:
                self.faults.extend(body if isinstance(body, list) else [body])
            return 200, {"faults": len(self.faults)}
        if route == ("POST", "/_double/faults/clear"):
            with self.lock:
                self.faults.clear()
            return 200, {"faults": 0}
        if route == ("POST", "/_double/hold"):
            hold = bool(request.json().get("hold", True))
            (self.running.clear if hold else self.running.set)()
            return 200, {"hold": hold}
        if route == ("POST", "/_double/expire-tokens"):
            with self.lock:
                expired = len(self.tokens)
                self.tokens.clear()
            return 200, {"expired": expired}
        if route == ("GET", "/_double/invocations"):
            since = int(request.query.get("since", "0"))
            with self.lock:
                return 200, self.invocations[since:]
        if route == ("GET", "/_double/stats"):
            with self.lock:
                containers = sum(r.started for r in self.runners.values())
                return 200, {**self.stats, "containers_started": containers,
                             "faults_pending": sum(f["count"] for f in self.faults)}
        raise error(404, NOT_FOUND)

    def shutdown(self) -> None:
        with self.lock:
            runners = list(self.runners.values())
            self.runners.clear()
        for runner in runners:
            runner.shutdown()
