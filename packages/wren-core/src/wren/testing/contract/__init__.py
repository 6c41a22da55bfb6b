"""Contract suites for adapters, as plain mixin classes in the style of fsspec's abstract
tests. An adapter's test file binds a harness to them in a few lines:

```python
from wren.testing.contract import ExecutorContract, StorageBackendContract

class TestMyStorage(StorageBackendContract):
    @pytest.fixture
    def storage(self): ...          # a StorageBackend instance
    @pytest.fixture
    def bucket(self): ...           # an existing bucket name

class TestMyExecutor(ExecutorContract):
    @pytest.fixture
    def make_executor(self): ...    # a callable (**overrides) -> FunctionExecutor
```

`StorageApiContract` and `PartitionerContract` take the storage fixtures,
`DataProcessingContract` the `make_executor` fixture.
"""

from wren.testing.contract.data import DataProcessingContract
from wren.testing.contract.executor import ExecutorContract
from wren.testing.contract.failures import WorkerFailureContract
from wren.testing.contract.partitioner import PartitionerContract
from wren.testing.contract.storage import StorageBackendContract
from wren.testing.contract.storage_api import StorageApiContract

__all__ = [
    "DataProcessingContract",
    "ExecutorContract",
    "PartitionerContract",
    "StorageApiContract",
    "StorageBackendContract",
    "WorkerFailureContract",
]
