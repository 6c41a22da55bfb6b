"""The calls contract: how iterdata items bind to a function's parameters, and futures
passed as iterdata, end to end on one compute + storage pair, side by side with what Lithops
3.8 does. `ExecutorContract` includes it, so every executor binding runs it.
"""

from __future__ import annotations

from typing import Any

import pytest

import wren
from wren.testing import functions as fn
from wren.testing.contract._binding import WAIT, ExecutorBinding, MakeExecutor


def _run(fexec: wren.FunctionExecutor, *args: Any, **kwargs: Any) -> Any:
    return fexec.get_result(fexec.map(*args, **kwargs), timeout=WAIT)


@pytest.mark.timeout(180)
class CallsContract(ExecutorBinding):
    """Mixin of binding and chaining tests; bind the fixture `make_executor`."""

    def test_items_bind_as_in_lithops(self, fexec: wren.FunctionExecutor) -> None:
        # Lithops 3.8: a list is one value, a tuple is spread, a dict binds by name and its
        # entries named like *args / **kwargs fill them
        assert fexec.call_async(len, ["a", "b"]).result(timeout=WAIT) == 2
        assert _run(fexec, len, [[3, 4, 5], (["x"],)]) == [3, 1]
        assert _run(fexec, fn.echo, [{"args": (1, 2)}, {"args": [3], "kwargs": {"a": 1}},
                                     {"z": 3}]) == [((1, 2), {}), ((3,), {"a": 1}),
                                                    ((), {"z": 3})]
        assert _run(fexec, lambda *args, **kw: sum(args), [{"args": (1, 2)}]) == [3]

    def test_any_iterable_is_iterdata(self, fexec: wren.FunctionExecutor) -> None:
        # Lithops 3.8 takes lists, sets and ranges; wren any iterable (a generator too)
        assert sorted(_run(fexec, fn.double, {1, 2})) == [2, 4]
        assert _run(fexec, fn.double, range(3)) == [0, 2, 4]
        assert _run(fexec, fn.double, (i for i in range(2))) == [0, 2]
        with pytest.raises(wren.InvalidInputError, match=r"pass \[the_dict\]"):
            fexec.map(fn.add, {"x": 1})

    def test_a_parameter_named_obj_alone_is_no_data_processing(
            self, fexec: wren.FunctionExecutor) -> None:
        # len is (obj, /); Lithops 3.8 makes any function with `obj` an object map
        assert _run(fexec, len, ["ab", "c"]) == [2, 1]
        with pytest.raises(wren.InvalidInputError, match="mixes objects to process"):
            fexec.map(fn.chunk_lines, [f"{fexec.bucket}/some/key", "plain"])

    # Futures as iterdata --------------------------------------------------------------------
    def test_futures_as_iterdata_pass_their_results(self, fexec: wren.FunctionExecutor
                                                    ) -> None:
        # Lithops 3.8 chaining: each call of the next job gets one result of the previous
        first = fexec.map(fn.double, [1, 2, 3])
        second = fexec.map(fn.double, first)
        assert fexec.get_result(second, timeout=WAIT) == [4, 8, 12]
        assert fexec.call_async(fn.double, second[2]).result(timeout=WAIT) == 24
        reduced = fexec.map_reduce(fn.double, first, fn.total)
        assert fexec.get_result(reduced, timeout=WAIT) == 24
        assert not any(future.ready for future in first)  # never downloaded here
        assert fexec.get_result(timeout=WAIT) == []  # the inputs count as read (Lithops)

    def test_a_failed_input_call_fails_the_call_that_reads_it(
            self, fexec: wren.FunctionExecutor) -> None:
        # Lithops 3.8: the chained call re-raises the exception of the call it reads
        first = fexec.map(fn.fail_on, [(i, 1) for i in range(3)])
        second = fexec.map(fn.double, first)
        with pytest.raises(KeyError, match="call 1 is the bad one"):
            second[1].result(timeout=WAIT)
        assert [second[0].result(timeout=WAIT), second[2].result(timeout=WAIT)] == [0, 4]

    def test_inputs_stay_in_storage_until_their_readers_end(
            self, fexec: wren.FunctionExecutor) -> None:
        # reading the inputs' results here must not clean them from under their readers
        first = fexec.map(fn.double, list(range(8)))
        second = fexec.map(fn.sleep_then, [(0.1, i) for i in range(8)])
        third = fexec.map(fn.double, first, chunksize=1)
        assert fexec.get_result(first, timeout=WAIT) == [2 * i for i in range(8)]
        assert fexec.get_result(third, timeout=WAIT) == [4 * i for i in range(8)]
        assert fexec.get_result(second, timeout=WAIT) == list(range(8))

    def test_futures_of_another_executor_or_mixed_are_refused(
            self, fexec: wren.FunctionExecutor, make_executor: MakeExecutor) -> None:
        with make_executor() as other:
            theirs = other.map(fn.double, [1])
            with pytest.raises(wren.InvalidInputError, match=r"other.get_result\(futures\)"):
                fexec.map(fn.double, theirs)
            other.wait(theirs, timeout=WAIT)
        ours = fexec.map(fn.double, [1])
        with pytest.raises(wren.InvalidInputError, match="mixes futures with plain values"):
            fexec.map(fn.double, [ours[0], 5])
