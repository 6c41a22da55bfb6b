"""`ibm_cos` storage against a real Ceph RADOS Gateway on loopback: the whole storage
contract with real SigV4 keys, plus credentials, retries and multipart uploads."""

from __future__ import annotations

import io
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from wren import ConfigError, StorageError, StorageNoSuchKeyError
from wren.testing.contract import (
    PartitionerContract,
    StorageApiContract,
    StorageBackendContract,
)
from wren_backend_ibmcf import IbmCosStorage

from tests.doubles.faulty_http import FaultyProxy
from tests.doubles.openwhisk_handle import OpenWhiskDouble
from tests.servers.ceph import CephGateway, shared_gateway

BUCKET = "wren-contract"
MiB = 1024 * 1024


@pytest.fixture(scope="session")
def ceph_gateway() -> Iterator[CephGateway]:
    yield from shared_gateway()


def _storage(gateway: CephGateway, **extra: Any) -> IbmCosStorage:
    return IbmCosStorage(gateway.ibm_cos_config(BUCKET, **extra))


@pytest.fixture
def storage(ceph_gateway: CephGateway) -> Iterator[IbmCosStorage]:
    # A low threshold so large objects (the contract's too) go through multipart uploads.
    storage = _storage(ceph_gateway, multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    storage.create_bucket(BUCKET)
    yield storage
    storage.close()


@pytest.fixture
def bucket(storage: IbmCosStorage) -> str:
    return BUCKET


class CosBinding:
    """Binds the storage suites to this module's `storage` and `bucket` fixtures."""

    @pytest.fixture
    def storage(self, storage: IbmCosStorage) -> IbmCosStorage:
        return storage

    @pytest.fixture
    def bucket(self, bucket: str) -> str:
        return bucket


class TestIbmCosStorage(CosBinding, StorageBackendContract):
    pass


class TestIbmCosStorageApi(CosBinding, StorageApiContract):
    pass


class TestIbmCosPartitioner(CosBinding, PartitionerContract):
    pass


@pytest.fixture
def prefix(storage: IbmCosStorage) -> Iterator[str]:
    prefix = f"wren-ibmcos/{uuid.uuid4().hex}/"
    yield prefix
    storage.delete_objects(BUCKET, storage.list_keys(BUCKET, prefix))


def test_wrong_secret_is_a_clear_error(ceph_gateway: CephGateway, storage: IbmCosStorage,
                                       prefix: str) -> None:
    storage.put_object(BUCKET, prefix + "k", b"data")
    config = ceph_gateway.ibm_cos_config(BUCKET) | {
        "secret_access_key": "not-the-secret-" + "x" * 25}
    with pytest.raises(StorageError, match="SignatureDoesNotMatch"):
        IbmCosStorage(config)  # checked when opened
    wrong = IbmCosStorage(config | {"check_credentials": False})
    calls = [lambda: wrong.get_object(BUCKET, prefix + "k"),
             lambda: wrong.put_object(BUCKET, prefix + "k2", b"x"),
             lambda: wrong.head_object(BUCKET, prefix + "k"),
             lambda: wrong.list_keys(BUCKET, prefix)]
    for call in calls:
        with pytest.raises(StorageError, match="SignatureDoesNotMatch") as caught:
            call()
        assert "`secret_access_key` is wrong" in str(caught.value)
        assert "ibm_cos" in str(caught.value)
    assert storage.list_keys(BUCKET, prefix) == [prefix + "k"]


def test_unknown_access_key_is_a_clear_error(ceph_gateway: CephGateway) -> None:
    config = ceph_gateway.ibm_cos_config(BUCKET) | {"access_key_id": "NOSUCHKEY"}
    with pytest.raises(StorageError, match="does not know `access_key_id`"):
        IbmCosStorage(config)
    wrong = IbmCosStorage(config | {"check_credentials": False})
    with pytest.raises(StorageError, match="does not know `access_key_id`"):
        wrong.get_object(BUCKET, "anything")


def test_missing_bucket_names_bucket_and_fix(storage: IbmCosStorage,
                                             ceph_gateway: CephGateway) -> None:
    IbmCosStorage(ceph_gateway.ibm_cos_config("wren-not-created-yet"))  # may be created later
    with pytest.raises(StorageError, match="bucket 'wren-no-such-bucket' does not exist") \
            as caught:
        storage.get_object("wren-no-such-bucket", "k")
    assert "storage_bucket" in str(caught.value)
    assert not isinstance(caught.value, StorageNoSuchKeyError)


@pytest.mark.parametrize(("config", "message"), [
    ({}, "set `endpoint`"),
    ({"endpoint": "http://127.0.0.1:1", "access_key_id": "a"}, "both `access_key_id`"),
    ({"endpoint": "http://127.0.0.1:1"}, "no credentials"),
])
def test_bad_config_fails_before_any_request(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        IbmCosStorage(config)


def test_region_gives_the_ibm_endpoint() -> None:
    storage = IbmCosStorage({"region": "eu-de", "access_key_id": "a", "secret_access_key": "b"})
    assert storage.endpoint == "https://s3.eu-de.cloud-object-storage.appdomain.cloud"


def test_big_bodies_are_uploaded_in_parts(storage: IbmCosStorage, prefix: str) -> None:
    body = os.urandom(11 * MiB + 17)
    storage.put_object(BUCKET, prefix + "bytes", body)
    storage.put_object(BUCKET, prefix + "file", io.BytesIO(body))
    for key in ("bytes", "file"):
        info = storage.head_object(BUCKET, prefix + key)
        assert info.size == len(body)
        assert info.etag is not None and info.etag.endswith("-3"), info.etag  # 5+5+1 MiB
        assert storage.get_object(BUCKET, prefix + key) == body
    small = storage.head_object(BUCKET, prefix + "bytes")
    storage.put_object(BUCKET, prefix + "small", b"x" * 1000)
    assert "-" not in (storage.head_object(BUCKET, prefix + "small").etag or "-")
    assert small.size == len(body)


def test_stream_reads_lines_and_closes(storage: IbmCosStorage, prefix: str) -> None:
    lines = [f"line {i}\n".encode() for i in range(20000)]
    storage.put_object(BUCKET, prefix + "lines", b"".join(lines))
    with storage.get_object_stream(BUCKET, prefix + "lines") as stream:
        assert stream.readline() == lines[0]
        assert list(stream) == lines[1:]
    assert stream.closed
    with pytest.raises(StorageNoSuchKeyError):
        storage.get_object_stream(BUCKET, prefix + "missing")


def test_retries_5xx_and_dropped_connections(ceph_gateway: CephGateway,
                                             storage: IbmCosStorage, prefix: str) -> None:
    host, port = ceph_gateway.endpoint.rsplit("//", 1)[1].split(":")
    proxy = FaultyProxy((host, int(port)))
    try:
        flaky = IbmCosStorage(ceph_gateway.ibm_cos_config(BUCKET, max_retries=4) | {
            "endpoint": proxy.endpoint})
        seen = proxy.seen  # the credential check when opened
        proxy.inject("503", "reset", "500")
        flaky.put_object(BUCKET, prefix + "k", b"survived")
        assert proxy.seen == seen + 4
        proxy.inject("503", "503")
        assert flaky.get_object(BUCKET, prefix + "k") == b"survived"
        proxy.inject("reset")
        assert flaky.list_keys(BUCKET, prefix) == [prefix + "k"]
        proxy.inject(*["503"] * 10)
        started = time.monotonic()
        with pytest.raises(StorageError, match="SlowDown"):
            flaky.get_object(BUCKET, prefix + "k")
        assert time.monotonic() - started < 30
        proxy.faults.clear()
    finally:
        proxy.close()


def test_delete_objects_batches_past_a_thousand(storage: IbmCosStorage, prefix: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    keys = [f"{prefix}d/{i:05d}" for i in range(2050)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: storage.put_object(BUCKET, k, b""), keys))
    storage.delete_objects(BUCKET, iter([*keys, prefix + "never-there"]))
    assert storage.list_keys(BUCKET, prefix + "d/") == []


def test_iam_api_keys_are_traded_for_tokens_at_the_iam_endpoint(
        ceph_gateway: CephGateway, tmp_path: Path) -> None:
    """IAM auth as far as it can go here: the SDK gets a token from the IAM double, and COS
    would check it (Ceph does not know IAM tokens); a key IAM refuses is a clear error."""
    double = OpenWhiskDouble.start(tmp_path)
    try:
        config = {"endpoint": ceph_gateway.endpoint, "iam_endpoint": double.iam_url,
                  "storage_bucket": BUCKET, "service_instance_id": "instance"}
        with pytest.raises(StorageError, match="InvalidArgument"):  # Ceph: no IAM
            IbmCosStorage(config | {"api_key": double.iam_api_key})
        assert double.stats()["tokens_issued"] == 1
        with pytest.raises(StorageError, match="no IAM token.*Fix `api_key`"):
            IbmCosStorage(config | {"api_key": "not-a-key"})
    finally:
        double.stop()
