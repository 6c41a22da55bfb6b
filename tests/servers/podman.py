"""A real container engine for the tests: `podman system service` serving the Docker API on a
unix socket, with its configuration and storage in a temp directory of its own, and the base
image `localhost/wren/base:bookworm` built locally with debootstrap (no image can be pulled on
these machines). Installed by tests/bootstrap.d/40-podman.sh.

Settings that matter here (see SERVICES.md): runc instead of crun, cgroupfs, host
networking (bridges leave iptables chains behind), overlay storage. The debootstrap root file
system is cached as a tarball in `WREN_CI_CACHE` (default /var/tmp/wren-ci-cache) between
runs; building it takes about a minute, importing it a few seconds. Stopping the engine stops
the service by PID and unmounts what it left mounted under its directory.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from tests.servers.ports import free_port

BASE_IMAGE = "localhost/wren/base:bookworm"
_DEFAULT_MIRROR = "http://deb.debian.org/debian"

_CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "host"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""


@attrs.frozen
class PodmanEngine:
    """A running engine: its Docker-API socket and the environment podman commands need."""

    root: Path
    docker_host: str
    env: dict[str, str]
    process: subprocess.Popen[bytes] = attrs.field(eq=False, repr=False)
    #: Where tests/servers/registry.py serves: the engine trusts plain HTTP there (podman
    #: reads registries.conf once, so this is settled before the engine starts).
    registry_address: str = ""

    def podman(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["podman", *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=False)


def cache_dir() -> Path:
    return Path(os.environ.get("WREN_CI_CACHE", "/var/tmp/wren-ci-cache"))


def _apt_sources() -> list[tuple[str, str]]:
    """(URL, suites) of every apt source, from deb822 stanzas and one-line `deb` entries."""
    found = []
    paths = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in paths:
        try:
            text = path.read_text()
        except OSError:
            continue
        for stanza in re.split(r"\n\s*\n", text):
            uris = re.search(r"^URIs:\s*(\S+)", stanza, re.M)
            suites = re.search(r"^Suites:\s*(.+)$", stanza, re.M)
            if uris and suites:
                found.append((uris.group(1), suites.group(1)))
        for line in re.finditer(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", text, re.M):
            found.append((line.group(1), line.group(2)))
    return found


def debian_mirror() -> str:
    """The Debian bookworm mirror apt uses on this machine."""
    for url, suites in _apt_sources():
        if "bookworm" in suites.split() and url.rstrip("/").endswith("/debian"):
            return url
    return _DEFAULT_MIRROR


def base_tarball() -> Path:
    """The debootstrap root file system of Debian bookworm with python3, built once."""
    tarball = cache_dir() / "wren-base-bookworm.tar"
    if tarball.is_file():
        return tarball
    tarball.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="wren-debootstrap-", dir=tarball.parent))
    try:
        rootfs = work / "rootfs"
        result = subprocess.run(
            ["debootstrap", "--variant=minbase", "--include=python3,python3-venv", "bookworm",
             str(rootfs), debian_mirror()], capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            pytest.fail(f"debootstrap failed: {result.stdout[-2000:]} {result.stderr[-2000:]}")
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
            shutil.rmtree(rootfs / junk, ignore_errors=True)
        partial = work / "base.tar"
        subprocess.run(["tar", "-C", str(rootfs), "-cf", str(partial), "."], check=True)
        os.replace(partial, tarball)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return tarball


def _unmount_below(root: Path) -> None:
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for point in sorted((m for m in mounts if m.startswith(str(root) + "/")), key=len,
                        reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)


def start_podman(root: Path) -> PodmanEngine:
    """Configure and start the service under `root`; fail loudly when it does not answer."""
    if shutil.which("podman") is None:
        pytest.fail("podman is not installed: run tests/bootstrap (tests/bootstrap.d/"
                    "40-podman.sh)")
    (root / "containers.conf").write_text(_CONTAINERS_CONF)
    (root / "storage.conf").write_text(
        f'[storage]\ndriver = "overlay"\ngraphroot = "{root}/graph"\nrunroot = "{root}/run"\n')
    registry_address = f"127.0.0.1:{free_port()}"
    (root / "registries.conf").write_text(
        f'unqualified-search-registries = []\n\n[[registry]]\nlocation = "{registry_address}"'
        '\ninsecure = true\n')
    env = {**os.environ, "CONTAINERS_CONF": str(root / "containers.conf"),
           "CONTAINERS_STORAGE_CONF": str(root / "storage.conf"),
           "CONTAINERS_REGISTRIES_CONF": str(root / "registries.conf")}
    env.pop("DOCKER_HOST", None)
    sock = root / "podman.sock"
    log = open(root / "service.log", "wb")  # noqa: SIM115 - the service writes to it
    proc = subprocess.Popen(["podman", "system", "service", "--time=0", f"unix://{sock}"],
                            env=env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    log.close()
    engine = PodmanEngine(root, f"unix://{sock}", env, proc, registry_address)
    import docker

    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            pytest.fail(f"podman system service exited with {proc.returncode}: "
                        f"{(root / 'service.log').read_text()[-2000:]}")
        if sock.exists():
            try:
                docker.DockerClient(base_url=engine.docker_host).ping()
                return engine
            except Exception:
                pass
        if time.monotonic() > deadline:
            stop_podman(engine)
            pytest.fail("podman system service did not answer within 30 s: "
                        f"{(root / 'service.log').read_text()[-2000:]}")
        time.sleep(0.1)


def import_base_image(engine: PodmanEngine) -> str:
    result = engine.podman("import", str(base_tarball()), BASE_IMAGE)
    if result.returncode != 0:
        pytest.fail(f"podman import of the base image failed: {result.stderr[-2000:]}")
    return BASE_IMAGE


def stop_podman(engine: PodmanEngine) -> None:
    process = engine.process
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    engine.podman("rm", "--all", "--force", timeout=60)
    _unmount_below(engine.root)


@pytest.fixture(scope="session")
def podman_engine() -> Iterator[PodmanEngine]:
    """A running podman engine with the base image imported."""
    root = Path(tempfile.mkdtemp(prefix="wren-podman-"))
    engine = start_podman(root)
    try:
        import_base_image(engine)
        yield engine
    finally:
        from wren_backend_local.container_pool import close_all

        close_all()  # the runtime containers this process started, while the engine answers
        stop_podman(engine)
        shutil.rmtree(root, ignore_errors=True)
