"""A one-node Ceph cluster with the RADOS Gateway on 127.0.0.1: a real S3 server for the
`ibm_cos` tests (SigV4, MaxKeys ≤ 1000, ≤ 1000 keys per delete, 5 MiB multipart parts).

One monitor, one OSD on `memstore` and radosgw (beast) run in the foreground under a temp
directory that holds every file they write; free ports are picked at start. Authentication
inside the cluster is off (it is loopback only); S3 requests are signed with a user's real
keys, created with `radosgw-admin`. Installed by tests/bootstrap.d/20-ceph.sh; a missing
install is an error, never a skip. `shared_gateway()` starts it once per test session.
Beast runs with `tcp_nodelay=1`: without it, every response with a body waits out the
client's 40 ms delayed ACK.
"""

from __future__ import annotations

import json
import secrets
import shutil
import string
import subprocess
import tempfile
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import attrs

from tests.servers._process import Daemon, wait_for
from tests.servers.ports import free_port

BINARIES = ("ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "ceph", "monmaptool")

_CONF = """\
[global]
fsid = {fsid}
mon_host = v2:127.0.0.1:{mon_port}
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_msgr1 = false
ms_mon_client_mode = crc secure
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_data_avail_crit = 0
mon_data_avail_warn = 0
mon_max_pg_per_osd = 1000
mon_warn_on_insecure_global_id_reclaim_allowed = false
run_dir = {root}/run
admin_socket = {root}/run/$name.asok
log_file = {root}/log/$name.log
keyring = {root}/keyring
mon_data = {root}/mon/$name
osd_data = {root}/osd/$name
osd_objectstore = memstore
memstore_device_bytes = 4294967296
[client.rgw.wren]
rgw_frontends = beast endpoint=127.0.0.1:{rgw_port} tcp_nodelay=1
rgw_data = {root}/rgw
"""


def _key(length: int, alphabet: str) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


@attrs.define
class CephGateway:
    """A running cluster and the S3 user the tests sign requests with."""

    root: Path
    endpoint: str
    access_key: str
    secret_key: str
    daemons: list[Daemon] = attrs.field(factory=list)

    def ibm_cos_config(self, bucket: str, **extra: object) -> dict[str, object]:
        return {"endpoint": self.endpoint, "access_key_id": self.access_key,
                "secret_access_key": self.secret_key, "storage_bucket": bucket, **extra}

    def stop(self) -> None:
        for daemon in reversed(self.daemons):
            daemon.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def _run(root: Path, *argv: str, timeout: float = 60) -> str:
    done = subprocess.run([*argv, "-c", str(root / "ceph.conf")], capture_output=True,
                          text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): "
                           f"{done.stderr.strip()[-2000:]}")
    return done.stdout


def start_gateway(root: Path | None = None) -> CephGateway:
    missing = [b for b in BINARIES if shutil.which(b) is None]
    if missing:
        raise RuntimeError(f"Ceph is not installed ({', '.join(missing)} missing): run "
                           "tests/bootstrap (tests/bootstrap.d/20-ceph.sh) first")
    root = Path(tempfile.mkdtemp(prefix="wren-ceph-", dir=root))
    for name in ("run", "log", "mon", "osd", "rgw"):
        (root / name).mkdir(parents=True)
    fsid, mon_port, rgw_port = str(uuid.uuid4()), free_port(), free_port()
    (root / "ceph.conf").write_text(_CONF.format(fsid=fsid, mon_port=mon_port,
                                                 rgw_port=rgw_port, root=root))
    gateway = CephGateway(root, f"http://127.0.0.1:{rgw_port}",
                          _key(20, string.ascii_uppercase + string.digits),
                          _key(40, string.ascii_letters + string.digits))
    try:
        _bring_up(gateway, fsid, mon_port, rgw_port)
    except BaseException:
        gateway.stop()
        raise
    return gateway


def _bring_up(gateway: CephGateway, fsid: str, mon_port: int, rgw_port: int) -> None:
    root, conf = gateway.root, str(gateway.root / "ceph.conf")
    subprocess.run(["monmaptool", "--create", "--fsid", fsid, "--addv", "a",
                    f"[v2:127.0.0.1:{mon_port}]", str(root / "monmap")], check=True,
                   capture_output=True)
    subprocess.run(["ceph-authtool", "--create-keyring", str(root / "keyring"), "--gen-key",
                    "-n", "mon."], check=True, capture_output=True)
    _run(root, "ceph-mon", "--mkfs", "-i", "a", "--monmap", str(root / "monmap"))
    mon = Daemon("ceph-mon", ["ceph-mon", "-f", "-c", conf, "-i", "a"], root / "mon.out")
    gateway.daemons.append(mon)
    wait_for("ceph-mon", lambda: _ok(root, "ceph", "mon", "stat"), 30, [mon])
    osd_uuid = str(uuid.uuid4())
    osd_id = _run(root, "ceph", "osd", "new", osd_uuid).strip()
    data = root / "osd" / f"osd.{osd_id}"
    data.mkdir(parents=True, exist_ok=True)
    _run(root, "ceph-osd", "-i", osd_id, "--mkfs", "--osd-uuid", osd_uuid)
    osd = Daemon("ceph-osd", ["ceph-osd", "-f", "-c", conf, "-i", osd_id], root / "osd.out")
    gateway.daemons.append(osd)
    wait_for("ceph-osd", lambda: _osds_up(root) >= 1, 60, [mon, osd])
    rgw = Daemon("radosgw", ["radosgw", "-f", "-c", conf, "-n", "client.rgw.wren"],
                 root / "rgw.out")
    gateway.daemons.append(rgw)
    wait_for("radosgw", lambda: _http_ok(rgw_port), 90, [mon, osd, rgw])
    _run(root, "radosgw-admin", "user", "create", "--uid", "wren-ci", "--display-name",
         "wren CI", "--access-key", gateway.access_key, "--secret", gateway.secret_key)


def _ok(root: Path, *argv: str) -> bool:
    try:
        _run(root, *argv, "--connect-timeout", "3", timeout=10)
    except (RuntimeError, subprocess.TimeoutExpired):
        return False
    return True


def _osds_up(root: Path) -> int:
    try:
        stat = json.loads(_run(root, "ceph", "osd", "stat", "-f", "json", timeout=10))
    except (RuntimeError, subprocess.TimeoutExpired, ValueError):
        return 0
    return int(stat.get("num_up_osds", 0))


def _http_ok(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


_lock = threading.Lock()
_shared: CephGateway | None = None
_users = 0


def acquire() -> CephGateway:
    """The session's gateway, started on first use."""
    global _shared, _users
    with _lock:
        if _shared is None:
            _shared = start_gateway()
        _users += 1
        return _shared


def release() -> None:
    global _shared, _users
    with _lock:
        _users -= 1
        if _users == 0 and _shared is not None:
            _shared.stop()
            _shared = None


def shared_gateway() -> Iterator[CephGateway]:
    """Yield the session's gateway (for a session-scoped fixture in each test module that
    needs it: all of them share one cluster, stopped when the last one is done)."""
    gateway = acquire()
    try:
        yield gateway
    finally:
        release()
