"""The remote reducer of `map_reduce`: its function object names no map job (the job comes
with its call), so map_reduces with the same reduce function share one stored function."""

from __future__ import annotations

import pytest
import wren
from wren.protocol import keys
from wren.testing import functions as fn


@pytest.mark.usefixtures("thread_backends")
def test_map_reduces_with_the_same_reduce_function_store_one_reducer() -> None:
    with wren.FunctionExecutor(backend="threads", storage="shared_memory") as fexec:
        assert fexec.get_result(fexec.map_reduce(fn.double, range(6), fn.total)) == 30
        stored = fexec.storage.list_keys(fexec.bucket, keys.FUNCS_PREFIX)
        assert len(stored) == 2  # the map function and the reducer
        for n in (3, 4):
            assert fexec.get_result(fexec.map_reduce(fn.double, range(n), fn.total)) == \
                n * (n - 1)
        assert fexec.storage.list_keys(fexec.bucket, keys.FUNCS_PREFIX) == stored
        grouped = fexec.map_reduce(fn.double, range(4), fn.total, chunksize=1)
        assert fexec.get_result(grouped) == 12
