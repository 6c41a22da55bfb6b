"""Service names, the Service manifest, and reading runtimes back from Services."""

from __future__ import annotations

import re

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from wren.ports.compute import RuntimeEntry
from wren_backend_knative.manifest import (
    RUNTIME_SELECTOR,
    VISIBILITY_LABEL,
    RuntimeSpec,
    cpu_quantity,
    is_current,
    label_value,
    runtime_entry,
    service_manifest,
    service_name,
    storage_digest_of,
)
from wren_backend_knative.runtimes import conditions_text

DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
SPEC = RuntimeSpec(image="docker.io/me/wren-knative-v311:0.1.0", memory=512, cpu=0.25,
                   timeout=300, concurrency=4, max_workers=10, storage_digest="abc",
                   pull_secret="wren-registry-1")


@given(st.text(min_size=1, max_size=300), st.integers(min_value=32, max_value=999_999))
def test_service_names_are_valid_and_leave_room_for_revisions(image: str, memory: int) -> None:
    name = service_name(image, memory)
    assert DNS1035.match(name), name
    assert len(name + "-00001") <= 63


def test_service_names_differ_per_image_and_memory() -> None:
    names = {service_name(i, m) for i in ("me/a:1", "me-a:1", "me/a:2") for m in (256, 512)}
    assert len(names) == 6
    assert service_name("me/a:1", 256).endswith("-256mb")


def test_manifest_carries_the_runtime_settings() -> None:
    manifest = service_manifest(SPEC)
    assert manifest["apiVersion"] == "serving.knative.dev/v1"
    assert manifest["metadata"]["name"] == SPEC.name
    template = manifest["spec"]["template"]
    annotations = template["metadata"]["annotations"]
    assert annotations["autoscaling.knative.dev/max-scale"] == "3"
    assert annotations["autoscaling.knative.dev/min-scale"] == "0"
    assert annotations["autoscaling.knative.dev/target"] == "4"
    pod = template["spec"]
    assert (pod["containerConcurrency"], pod["timeoutSeconds"]) == (4, 300)
    assert pod["imagePullSecrets"] == [{"name": "wren-registry-1"}]
    container = pod["containers"][0]
    assert container["resources"]["limits"] == {"cpu": "250m", "memory": "512Mi"}
    env = {e["name"]: e for e in container["env"]}
    assert env["WREN_WORKER_PROCESSES"]["value"] == "4"
    assert env["WREN_STORAGE_CONFIG"]["valueFrom"]["secretKeyRef"] == {
        "name": f"{SPEC.name}-storage", "key": "storage-config"}
    # issue 12: the callers' token comes from the same Secret, never as a value
    assert env["WREN_RUNTIME_TOKEN"] == {"name": "WREN_RUNTIME_TOKEN", "valueFrom": {
        "secretKeyRef": {"name": f"{SPEC.name}-storage", "key": "runtime-token"}}}
    assert storage_digest_of(manifest) == "abc"
    labels = manifest["metadata"]["labels"]
    for term in RUNTIME_SELECTOR.split(","):
        key, value = term.split("=")
        assert labels[key] == value
    assert VISIBILITY_LABEL not in labels


def test_a_cluster_local_runtime_is_labelled_so() -> None:
    local = attrs.evolve(SPEC, cluster_local=True)
    manifest = service_manifest(local)
    assert manifest["metadata"]["labels"][VISIBILITY_LABEL] == "cluster-local"
    assert manifest["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "wren"
    assert is_current(manifest, local) and not is_current(manifest, SPEC)
    assert not is_current(service_manifest(SPEC), local)


def test_a_service_that_does_not_read_the_token_is_not_current() -> None:
    manifest = service_manifest(SPEC)
    assert is_current(manifest, SPEC)
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [e for e in container["env"] if e["name"] != "WREN_RUNTIME_TOKEN"]
    assert not is_current(manifest, SPEC)


def test_no_pull_secret_without_a_registry_login() -> None:
    spec = RuntimeSpec(image="me/r:1", memory=256, cpu=1, timeout=600, concurrency=1,
                       max_workers=1)
    assert "imagePullSecrets" not in service_manifest(spec)["spec"]["template"]["spec"]


def test_runtime_entry_reads_what_the_manifest_wrote() -> None:
    entry = runtime_entry(service_manifest(SPEC))
    assert entry == RuntimeEntry(SPEC.image, 512, entry.wren_version, SPEC.name)


@pytest.mark.parametrize(("vcpus", "quantity"), [(0.5, "500m"), (2, "2000m"), (0.0001, "1m")])
def test_cpu_quantity(vcpus: float, quantity: str) -> None:
    assert cpu_quantity(vcpus) == quantity


def test_label_values_are_valid() -> None:
    assert label_value("0.1.0+local.1") == "0.1.0_local.1"
    assert len(label_value("x" * 100)) == 63


def test_conditions_text_quotes_reason_and_message() -> None:
    service = {"status": {"conditions": [
        {"type": "Ready", "status": "False", "reason": "RevisionFailed", "message": "boom"},
        {"type": "RoutesReady", "status": "True"}]}}
    assert conditions_text(service) == "Ready=False (RevisionFailed: boom); RoutesReady=True"
    assert conditions_text({}) == "no conditions reported yet"


def test_busy_pods_are_protected_by_a_scale_down_delay_and_a_drain() -> None:
    """Issue 15: work the autoscaler cannot see keeps its pods for `scale_down_delay`, and a
    stopping pod drains for its grace period (Knative's timeoutSeconds) less 10 s."""
    spec = attrs.evolve(SPEC, scale_down_delay=300, timeout=600)
    template = service_manifest(spec)["spec"]["template"]
    assert template["metadata"]["annotations"]["autoscaling.knative.dev/scale-down-delay"] == \
        "300s"
    env = {e["name"]: e.get("value") for e in template["spec"]["containers"][0]["env"]}
    assert env["WREN_DRAIN_SECONDS"] == "590"
    assert template["spec"]["timeoutSeconds"] == 600
