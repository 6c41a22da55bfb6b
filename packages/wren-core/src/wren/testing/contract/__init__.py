"""Contract suites for adapters, as plain mixin classes in the style of fsspec's abstract
tests. Each mixin defines every fixture it needs; those an adapter must provide raise
`ContractBindingError` ("override me") until the adapter's test module overrides them in a
subclass:

```python
from wren.testing.contract import ExecutorContract, StorageBackendContract

class MyStorage:                    # the binding, shared by the storage suites
    @pytest.fixture
    def storage(self) -> StorageBackend: ...   # a StorageBackend instance
    @pytest.fixture
    def bucket(self) -> str: ...               # an existing bucket name

class TestMyStorage(MyStorage, StorageBackendContract):
    pass

class TestMyExecutor(ExecutorContract):
    @pytest.fixture
    def make_executor(self) -> MakeExecutor: ...   # (**overrides) -> FunctionExecutor
```

`StorageApiContract` and `PartitionerContract` take the storage fixtures;
`DataProcessingContract`, `WorkerFailureContract` and `ComputeBackendContract` the
`make_executor` fixture (`ExecutorContract` includes `CallsContract`, the binding and
futures-as-iterdata tests); `SerializerContract` a `serializer`. `HostileStorageContract`
(attacks through the bucket) takes `make_executor`, `HostileMonitorContract` (through a
status channel) also `publish_status`. A binding lists the tests its
adapter is known to fail in `known_gaps` (name -> reason): they run as strict xfails. Every test has a timeout
(pytest-timeout) and every wait in it passes one, so a broken adapter fails, never hangs.
"""

from wren.testing.contract._binding import ContractBindingError, KnownGaps, MakeExecutor
from wren.testing.contract.calls import CallsContract
from wren.testing.contract.compute import ComputeBackendContract
from wren.testing.contract.compute_harness import ComputeHarness, RecordingListener
from wren.testing.contract.data import DataProcessingContract
from wren.testing.contract.executor import ExecutorContract
from wren.testing.contract.failures import WorkerFailureContract
from wren.testing.contract.hostile import (
    HostileMonitorContract,
    HostileStorageContract,
    PublishStatus,
)
from wren.testing.contract.partitioner import PartitionerContract
from wren.testing.contract.serializer import SerializerContract
from wren.testing.contract.storage import StorageBackendContract
from wren.testing.contract.storage_api import StorageApiContract

__all__ = [
    "CallsContract",
    "ComputeBackendContract",
    "ComputeHarness",
    "ContractBindingError",
    "DataProcessingContract",
    "ExecutorContract",
    "HostileMonitorContract",
    "HostileStorageContract",
    "KnownGaps",
    "MakeExecutor",
    "PartitionerContract",
    "PublishStatus",
    "RecordingListener",
    "SerializerContract",
    "StorageApiContract",
    "StorageBackendContract",
    "WorkerFailureContract",
]
