"""A Kubernetes cluster with Knative Serving for the tests: the API test double as a process.

No real API server can run here (see tests/doubles/kube_api.py, which says so); the fixture
`knative_cluster` starts that double as its own process on loopback, with a bearer token, and
writes a kubeconfig that points at it, the way a user's kubeconfig points at a cluster. The
runtimes it deploys are real runtimes/knative processes. If the double cannot start, the
tests that need it fail with its output; they never skip. Besides the session's cluster
(Knative with the domain `example.com`), `default_domain_cluster` is one whose config-domain
names no domain (Knative's default since 1.9: every URL is `*.svc.cluster.local`), and
`redirected_cluster` one whose config-network says `http-protocol: Redirected`.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest
import requests

from tests.servers.ports import stop_process

ROOT = Path(__file__).resolve().parents[2]
#: Images the double runs as the real runtimes/knative entry point.
RUNTIME_IMAGE = "wren-test/wren-knative-runtime:dev"
OTHER_RUNTIME_IMAGE = "wren-test/another-runtime:2"
#: A stand-in image built for Python 3.8 (tests/doubles/old_python_runtime.py).
PYTHON38_IMAGE = "wren-test/wren-knative-v38:old"
#: An image whose container exits at once, and one no registry has.
CRASHING_IMAGE = "wren-test/crashing-runtime:1"
MISSING_IMAGE = "wren-test/no-such-image:404"
NAMESPACE = "wren-test"


@attrs.frozen
class KnativeCluster:
    """A running double: its ports, token, kubeconfig and process."""

    api_port: int
    ingress_port: int
    token: str
    kubeconfig: Path
    workdir: Path
    process: subprocess.Popen[bytes]
    #: Knative's local gateway (kourier-internal), serving cluster-local names.
    local_ingress_port: int = 0
    #: The public gateway's https listener and the CA of its certificate (Redirected).
    tls_ingress_port: int | None = None
    ca_file: Path | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def ingress_url(self) -> str:
        return f"http://127.0.0.1:{self.ingress_port}"

    @property
    def local_ingress_url(self) -> str:
        """Where a `kubectl port-forward` to the local gateway would listen."""
        return f"http://127.0.0.1:{self.local_ingress_port}"

    def knative_config(self, **extra: Any) -> dict[str, Any]:
        """A `knative:` config section for this cluster."""
        return {"kubecfg_path": str(self.kubeconfig), "runtime": RUNTIME_IMAGE, **extra}

    def compute(self, storage: dict[str, Any], **knative: Any) -> Any:
        """A `KnativeCompute` on this cluster, with `localhost` storage settings `storage`."""
        from wren.ports.compute import WorkerStorage
        from wren_backend_knative import KnativeCompute
        from wren_backend_knative.config import SCHEMA

        config = SCHEMA.validate(self.knative_config(**knative))
        return KnativeCompute(config, WorkerStorage("localhost", storage, storage))

    def api_client(self) -> Any:
        """A `kubernetes.client.ApiClient` for this cluster (close it after use)."""
        from kubernetes import client

        configuration = client.Configuration()
        configuration.host = self.api_url
        configuration.api_key = {"BearerToken": self.token}
        configuration.api_key_prefix = {"BearerToken": "Bearer"}
        return client.ApiClient(configuration)

    def revisions(self) -> list[dict[str, Any]]:
        """The revision processes the double runs (a test-only path, not Kubernetes')."""
        answer = requests.get(f"{self.api_url}/_double/revisions", timeout=10,
                              headers={"Authorization": f"Bearer {self.token}"})
        answer.raise_for_status()
        return list(answer.json())

    def inject_ingress_faults(self, status: int, count: int) -> None:
        """Make the ingress gateway answer the next `count` task requests with `status`."""
        answer = requests.post(f"{self.api_url}/_double/ingress-faults", timeout=10,
                               json={"status": status, "count": count},
                               headers={"Authorization": f"Bearer {self.token}"})
        answer.raise_for_status()


def write_kubeconfig(path: Path, api_port: int, token: str) -> None:
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "wren-double",
        "clusters": [{"name": "wren-double",
                      "cluster": {"server": f"http://127.0.0.1:{api_port}"}}],
        "users": [{"name": "wren-test", "user": {"token": token}}],
        "contexts": [{"name": "wren-double", "context": {
            "cluster": "wren-double", "user": "wren-test", "namespace": NAMESPACE}}]}))


def start_cluster(workdir: Path, timeout: float = 30.0, registry: str | None = None,
                  engine_env: dict[str, str] | None = None, domain: str = "example.com",
                  http_protocol: str = "Enabled", images: Sequence[str] = ()) -> KnativeCluster:
    """Start the double; raise RuntimeError with its output if it does not come up. With a
    `registry`, images from it run in podman, configured by `engine_env`; `domain` and
    `http_protocol` are the cluster's Knative domain and config-network setting; `images`
    are more `NAME=SCRIPT` images run as processes."""
    workdir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    command = [sys.executable, "-m", "tests.doubles.kube_api", "--token", token,
               "--workdir", str(workdir), "--image", RUNTIME_IMAGE,
               "--image", OTHER_RUNTIME_IMAGE, "--crashing-image", CRASHING_IMAGE,
               "--image", f"{PYTHON38_IMAGE}={ROOT / 'tests/doubles/old_python_runtime.py'}"]
    command += [part for image in images for part in ("--image", image)]
    if registry:
        command += ["--registry", registry]
    command += ["--domain", domain, "--http-protocol", http_protocol]
    env = {**(engine_env or os.environ), "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    deadline = time.monotonic() + timeout
    line = b""
    with selectors.DefaultSelector() as selector:  # poll/epoll: any descriptor number
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline and process.poll() is None and not line:
            if selector.select(0.2):
                line = process.stdout.readline()
    if not line:
        process.kill()
        errors = process.stderr.read().decode(errors="replace")
        raise RuntimeError(f"the Kubernetes API test double did not start: {errors[-2000:]}")
    ports = json.loads(line)
    kubeconfig = workdir / "kubeconfig"
    try:
        write_kubeconfig(kubeconfig, ports["api_port"], token)
    except OSError:
        process.kill()
        raise
    return KnativeCluster(ports["api_port"], ports["ingress_port"], token, kubeconfig,
                          workdir, process, ports["local_ingress_port"],
                          ports["tls_ingress_port"],
                          Path(ports["ca_file"]) if ports["ca_file"] else None)


def stop_cluster(cluster: KnativeCluster) -> None:
    """SIGTERM (the double stops its revision processes), then SIGKILL if it lingers."""
    stop_process(cluster.process, 30)


@pytest.fixture
def storage_config(tmp_path: Path) -> dict[str, Any]:
    """`localhost` storage settings in a fresh directory, for runtimes of this cluster."""
    return {"storage_dir": str(tmp_path / "storage"), "storage_bucket": "wren"}


@contextlib.contextmanager
def running_cluster(workdir: Path, **options: Any) -> Iterator[KnativeCluster]:
    """A cluster for a fixture: started (failing the test loudly if it cannot), then
    stopped."""
    try:
        cluster = start_cluster(workdir, **options)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield cluster
    finally:
        stop_cluster(cluster)


@pytest.fixture(scope="session")
def knative_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnativeCluster]:
    with running_cluster(tmp_path_factory.mktemp("knative-cluster")) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def default_domain_cluster(tmp_path_factory: pytest.TempPathFactory
                           ) -> Iterator[KnativeCluster]:
    """A cluster whose Knative has no domain configured (URLs in svc.cluster.local)."""
    with running_cluster(tmp_path_factory.mktemp("knative-default-domain"),
                         domain="svc.cluster.local") as cluster:
        yield cluster


@pytest.fixture(scope="module")
def redirected_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnativeCluster]:
    """A cluster with auto-TLS whose gateway redirects http to https."""
    with running_cluster(tmp_path_factory.mktemp("knative-redirected"),
                         http_protocol="Redirected") as cluster:
        yield cluster


@pytest.fixture
def api(knative_cluster: KnativeCluster) -> Iterator[Any]:
    """A `kubernetes.client.ApiClient` for the session's cluster."""
    with knative_cluster.api_client() as api_client:
        yield api_client


def read_service(api: Any, name: str) -> dict[str, Any]:
    """The Knative Service `name` of the test namespace, as the API returns it."""
    from kubernetes import client

    found = client.CustomObjectsApi(api).get_namespaced_custom_object(
        "serving.knative.dev", "v1", NAMESPACE, "services", name)
    assert isinstance(found, dict)
    return found


def secret_data(api: Any, name: str) -> dict[str, str]:
    """The decoded data of Secret `name` of the test namespace."""
    from kubernetes import client

    secret = client.CoreV1Api(api).read_namespaced_secret(name, NAMESPACE)
    return {k: base64.b64decode(v).decode() for k, v in (secret.data or {}).items()}
