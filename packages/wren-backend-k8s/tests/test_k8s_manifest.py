"""The `k8s` section's bounds, the Job and Secret wren writes, and how a failed pod reads."""

from __future__ import annotations

import base64
import json

import kubernetes_validate
import pytest
import wren
from wren_backend_k8s import manifest as mf
from wren_backend_k8s.compute import job_name
from wren_backend_k8s.config import SCHEMA, default_image
from wren_backend_k8s.pods import failure_reason

KEY = bytes(range(32))


def test_memory_outside_its_bounds_is_refused_before_anything_runs() -> None:
    with pytest.raises(wren.ConfigError, match="runtime_memory.*between 64 and 524288"):
        SCHEMA.validate({"runtime_memory": 32})
    assert SCHEMA.validate({"runtime_memory": 2048})["runtime_memory"] == 2048


def test_default_image_names_python_and_wren() -> None:
    assert default_image("registry.example.com", "me").startswith(
        "registry.example.com/me/wren-k8s-v3")


def test_the_job_is_valid_kubernetes_and_carries_no_secret() -> None:
    config = SCHEMA.with_defaults({"node_selector": {"pool": "batch"}, "max_workers": 4,
                                   "tolerations": [{"key": "b", "operator": "Exists"}],
                                   "service_account": "wren-worker"})
    job = mf.job_manifest("wren-abc", "r.example.com/me/img:1", 10, config,
                          mf.labels("c1", "task"), {"WREN_TASKS": "{}"}, ["pull"])
    kubernetes_validate.validate(job, "1.31", strict=True)
    spec = job["spec"]
    assert (spec["completionMode"], spec["completions"], spec["parallelism"]) == \
        ("Indexed", 10, 4)
    pod = spec["template"]["spec"]
    assert pod["nodeSelector"] == {"pool": "batch"} and pod["restartPolicy"] == "Never"
    assert pod["imagePullSecrets"] == [{"name": "pull"}]
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    assert env["WREN_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "wren-abc",
                                                           "key": mf.KEY_ENTRY}
    # The pod fails its calls before Kubernetes' deadline, and runs the configured workers.
    assert env["WREN_DEADLINE"]["value"] == str(config["runtime_timeout"])
    assert env["WREN_WORKER_PROCESSES"]["value"] == str(config["worker_processes"])
    assert base64.b64encode(KEY).decode() not in json.dumps(job)
    secret = mf.secret_manifest("wren-abc", {}, KEY, {"secret_access_key": "s3cr3t"})
    kubernetes_validate.validate(secret, "1.31", strict=True)
    assert secret["stringData"][mf.KEY_ENTRY] == base64.b64encode(KEY).decode()


def test_job_names_are_short_dns_labels() -> None:
    class Request:
        job_key = "ABCDEF-12/M000_" + "x" * 80
        key = "wren.jobs/abc/M000/fanout/0123456789ab.tasks"

    name = job_name(Request())  # type: ignore[arg-type]
    assert len(name) <= 52 and name == name.lower() and name.endswith("-01234567")


@pytest.mark.parametrize(("status", "said"), [
    ({"phase": "Failed", "containerStatuses": [{"state": {"terminated": {
        "exitCode": 137, "reason": "OOMKilled"}}}]}, "was OOMKilled: .* of 512Mi"),
    ({"phase": "Failed", "reason": "Evicted", "message": "The node was low on resource"},
     "was Evicted: The node was low"),
    ({"phase": "Pending", "containerStatuses": [{"state": {"waiting": {
        "reason": "ImagePullBackOff", "message": "Back-off pulling"}}}]},
     "cannot start: ImagePullBackOff"),
    ({"phase": "Failed", "containerStatuses": [{"state": {"terminated": {
        "exitCode": 2, "reason": "Error"}}}]}, "exited with code 2 \\(Error\\)"),
])
def test_a_failed_pod_says_why(status: dict, said: str) -> None:
    pod = {"metadata": {"name": "wren-x-0-abcde"}, "status": status, "spec": {
        "containers": [{"resources": {"limits": {"memory": "512Mi"}}}]}}
    reason = failure_reason(pod)
    assert reason is not None and __import__("re").search(said, reason), reason


def test_running_and_finished_pods_are_not_failures() -> None:
    for phase in ("Running", "Succeeded", "Pending"):
        assert failure_reason({"metadata": {"name": "p"}, "status": {"phase": phase}}) is None
