"""`wren.Storage` against Lithops 3.8's `Storage`, method by method: keywords, answer shapes
and the key patterns of `list_objects(match_pattern=...)`. The storage contracts check the
same methods on every adapter against real servers; these cover the parts that need no
server (the glob rules, the boto3-style client, `storage_config=` and the refusals)."""

from __future__ import annotations

from pathlib import Path

import pytest
import wren
from wren.storage_api.boto_style import BotoStyleClient
from wren.storage_api.patterns import key_matches
from wren.testing import MemoryStorage

KEYS = ["x.csv", "d/x.csv", "data/x.csv", "data/a/b/x.csv", "data", "a/b/c", "a/bb/c",
        "a*b", "axb", "b", "z/y/b", "a/b", "a//c"]

# What Lithops 3.8's key matcher answers for these patterns over KEYS (run side by side).
LITHOPS_MATCHES = {
    "*.csv": ["x.csv"],
    "**/*.csv": ["x.csv", "d/x.csv", "data/x.csv", "data/a/b/x.csv"],
    "data/**/*.csv": ["data/x.csv", "data/a/b/x.csv"],
    "data/**": ["data/x.csv", "data/a/b/x.csv", "data"],
    "a/*/c": ["a/b/c", "a/bb/c", "a//c"],
    "a/?/c": ["a/b/c"],
    "a\\*b": ["a*b"],
    "**/b": ["b", "z/y/b", "a/b"],
    "a/**/**/b": ["a/b"],
    "**": KEYS,
}


@pytest.mark.parametrize("pattern", sorted(LITHOPS_MATCHES))
def test_key_patterns_match_as_lithops_does(pattern: str) -> None:
    assert [k for k in KEYS if key_matches(pattern, k)] == LITHOPS_MATCHES[pattern]


def test_a_double_star_inside_a_part_is_refused() -> None:
    # Lithops raises ValueError; InvalidInputError is one.
    with pytest.raises(wren.InvalidInputError, match="whole part"):
        key_matches("data/a**/x", "data/ab/x")


def test_boto_style_client_over_an_adapter() -> None:
    # Lithops' localhost get_client() answers put_object/get_object/list_objects(_v2).
    client = BotoStyleClient(MemoryStorage())
    client.put_object(Bucket="b", Key="k/1", Body="text")
    client.put_object(Bucket="b", Key="k/2", Body=b"0123456789")
    assert client.get_object(Bucket="b", Key="k/1")["Body"].read() == b"text"
    assert client.get_object(Bucket="b", Key="k/2", Range="bytes=2-4")["Body"].read() == b"234"
    assert client.head_object(Bucket="b", Key="k/2")["ContentLength"] == 10
    listed = client.list_objects_v2(Bucket="b", Prefix="k/")
    assert [(o["Key"], o["Size"]) for o in listed["Contents"]] == [("k/1", 4), ("k/2", 10)]
    assert client.list_objects_v2(Bucket="b", Prefix="none/")["KeyCount"] == 0
    client.delete_objects(Bucket="b", Delete={"Objects": [{"Key": "k/1"}]})
    client.delete_object(Bucket="b", Key="k/2")
    assert "Contents" not in client.list_objects(Bucket="b", Prefix="k/")
    assert client.head_bucket(Bucket="b")["ResponseMetadata"]["HTTPStatusCode"] == 200
    with pytest.raises(wren.InvalidInputError, match="ACL not supported"):
        client.put_object(Bucket="b", Key="k", Body=b"", ACL="public-read")


def test_get_client_without_a_service_client_is_the_boto_style_one() -> None:
    storage = wren.Storage.from_backend(MemoryStorage())
    assert isinstance(storage.get_client(), BotoStyleClient)
    assert storage.storage_handler.native_client() is None


def test_storage_config_round_trip(private_tmp: Path, tmp_path: Path) -> None:
    # Lithops: Storage(storage_config=storage.get_storage_config()) opens the same storage.
    first = wren.Storage(config={"localhost": {"storage_dir": str(tmp_path / "s")}},
                         backend="localhost")
    first.put_object(first.bucket, "k", b"v")
    storage_config = first.get_storage_config()
    assert storage_config["backend"] == "localhost"
    assert storage_config["localhost"]["storage_dir"] == str(tmp_path / "s")
    second = wren.Storage(storage_config=storage_config)
    assert (second.backend, second.bucket) == ("localhost", first.bucket)
    assert second.get_object(second.bucket, "k") == b"v"
    with pytest.raises(wren.InvalidInputError, match="either config= or storage_config="):
        wren.Storage(config={}, storage_config=storage_config)
    with pytest.raises(wren.InvalidInputError, match="names no backend"):
        wren.Storage(storage_config={"localhost": {}})


def test_head_bucket_of_a_missing_bucket(private_tmp: Path, tmp_path: Path) -> None:
    # Lithops raises StorageNoSuchKeyError for a missing bucket.
    storage = wren.Storage(config={"localhost": {"storage_dir": str(tmp_path / "s")}},
                           backend="localhost")
    with pytest.raises(wren.StorageNoSuchKeyError, match="no bucket 'absent'"):
        storage.head_bucket("absent")


def test_transfer_options_are_refused_by_name(tmp_path: Path) -> None:
    # Lithops passes extra_args/config to boto3; wren's adapters have no such knobs.
    storage = wren.Storage.from_backend(MemoryStorage())
    source = tmp_path / "f"
    source.write_bytes(b"1")
    with pytest.raises(wren.InvalidInputError, match="remove extra_args"):
        storage.upload_file(source, "b", "k", extra_args={"ACL": "private"})
    with pytest.raises(wren.InvalidInputError, match="remove config="):
        storage.download_file("b", "k", tmp_path / "g", config=object())
    assert storage.upload_file(source, "b", "k", extra_args={}, config=None)
