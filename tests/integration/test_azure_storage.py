"""The storage, Storage API and partitioner contracts against `azure_storage` on a real
Azurite server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from wren import StorageNoSuchKeyError
from wren.testing.contract import (
    PartitionerContract,
    StorageApiContract,
    StorageBackendContract,
)
from wren_backend_azure import AzureBlobStorage

from tests.servers.azurite import Azurite, azurite  # noqa: F401 - the fixture


@pytest.fixture(scope="module")
def blob_storage(azurite: Azurite) -> Iterator[AzureBlobStorage]:  # noqa: F811
    storage = AzureBlobStorage(azurite.storage_config("contract"))
    storage.create_bucket("contract")
    yield storage
    storage.close()


class AzureStorageBinding:
    """Binds the storage suites to one Azurite container."""

    @pytest.fixture
    def storage(self, blob_storage: AzureBlobStorage) -> AzureBlobStorage:
        return blob_storage

    @pytest.fixture
    def bucket(self) -> str:
        return "contract"


class TestAzureStorage(AzureStorageBinding, StorageBackendContract):
    pass


class TestAzureStorageApi(AzureStorageBinding, StorageApiContract):
    pass


class TestAzurePartitioner(AzureStorageBinding, PartitionerContract):
    pass


def test_stream_fetches_chunks_only_as_they_are_read(blob_storage: AzureBlobStorage) -> None:
    """A stream holds one chunk: after the blob is deleted, what was fetched still reads,
    and the next chunk, requested only now, finds the blob gone."""
    body = bytes(range(256)) * (48 * 1024)  # 12 MiB: three 4 MiB chunks
    blob_storage.put_object("contract", "stream/lazy", body)
    stream = blob_storage.get_object_stream("contract", "stream/lazy")
    assert stream.read(1024) == body[:1024]
    blob_storage.delete_object("contract", "stream/lazy")
    first_chunk = 4 * 1024 * 1024
    assert stream.read(first_chunk - 1024) == body[1024:first_chunk]
    with pytest.raises(Exception, match=r"BlobNotFound|ConditionNotMet|not exist"):
        stream.read(1024)
    stream.close()


def test_default_container_is_created_on_first_put(azurite: Azurite) -> None:  # noqa: F811
    storage = AzureBlobStorage(azurite.storage_config("created-on-put"))
    storage.put_object(storage.default_bucket, "k", b"v")
    assert storage.get_object("created-on-put", "k") == b"v"
    with pytest.raises(StorageNoSuchKeyError):
        storage.get_object("created-on-put", "missing", (0, 0))


def test_bad_bucket_name_and_missing_credentials_are_clear_errors(
        azurite: Azurite) -> None:  # noqa: F811
    import wren

    storage = AzureBlobStorage(azurite.storage_config())
    with pytest.raises(wren.InvalidInputError, match="blob container name"):
        storage.put_object("Bad_Name", "k", b"v")
    with pytest.raises(wren.ConfigError, match="storage_account_key"):
        AzureBlobStorage({"storage_account_name": "acct"})
