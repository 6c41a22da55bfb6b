"""Binding iterdata items to parameters, the PyWren/Lithops way, with early clear errors."""

from __future__ import annotations

import inspect

import pytest
from wren import InvalidInputError
from wren.client.binding import ArgumentBinder
from wren.protocol.binding import CallBinding, CallMode


def two(x, y=0):
    return x + y


def indexed(x, id):
    return x, id


def index_first(id, x):
    return x, id


def uses_storage(x, storage):
    return x


def variadic(*args, **kwargs):
    return args, kwargs


def test_plain_values_travel_as_they_are() -> None:
    bound = ArgumentBinder(two).bind_all([1, 2, 3])
    assert (bound.payloads, bound.binding) == ([1, 2, 3], CallBinding(CallMode.VALUE))


def test_plain_values_with_id_anywhere_bind_to_the_first_other_parameter() -> None:
    assert ArgumentBinder(indexed).bind_all([5]).binding.mode is CallMode.VALUE
    bound = ArgumentBinder(index_first).bind_all([5])
    assert bound.binding == CallBinding(CallMode.NAMED_VALUE, "x", inject_id=True)


def test_tuples_dicts_and_extra_params_become_keyword_payloads() -> None:
    # changed by issue 13: a list is one value (Lithops and Python's map), only tuples spread
    bound = ArgumentBinder(two).bind_all([(1, 2), {"x": 3}, [4, 5]])
    assert bound.binding.mode is CallMode.ARGS
    assert bound.payloads == [{"x": 1, "y": 2}, {"x": 3}, {"x": [4, 5]}]
    assert ArgumentBinder(two, {"y": 9}).bind_all([1]).payloads == [{"x": 1, "y": 9}]
    assert ArgumentBinder(two, (9,)).bind_all([1]).payloads == [{"x": 1, "y": 9}]


def test_id_is_filled_in_for_composite_items() -> None:
    assert ArgumentBinder(indexed).bind_all([(7,), (8,)]).payloads == [
        {"x": 7, "id": 0}, {"x": 8, "id": 1}]


def test_worker_injected_parameters_are_allowed_but_not_bound() -> None:
    bound = ArgumentBinder(uses_storage).bind_all([1])
    assert bound.injected == ("storage",) and bound.binding.mode is CallMode.VALUE


def test_varargs_keep_extra_positionals() -> None:
    bound = ArgumentBinder(variadic).bind_all([(1, 2, 3)])
    assert bound.payloads == [((1, 2, 3), {})]


@pytest.mark.parametrize(("items", "extra", "pattern"), [
    ([(1, 2, 3)], None, "item 0 .* does not fit two"),
    ([{"x": 1, "z": 2}], None, "unexpected keyword argument 'z'"),
    ([(1,), (1, 2, 3)], None, "item 1"),
    ([{"x": 1}], {"x": 2}, "gives parameter 'x' twice"),
])
def test_mismatches_are_clear_errors(items: list, extra: dict | None,
                                     pattern: str) -> None:
    binder = ArgumentBinder(two, extra)
    with pytest.raises(InvalidInputError, match=pattern):
        binder.bind_all(items)


def test_extra_params_of_the_wrong_type() -> None:
    with pytest.raises(InvalidInputError, match="extra_params must be a dict"):
        ArgumentBinder(two, 5)


def test_position_and_name_for_the_same_parameter() -> None:
    with pytest.raises(InvalidInputError, match="gives parameter 'x' twice"):
        ArgumentBinder(two, {"x": 1}).bind_all([(1,)])


def test_a_list_is_one_value() -> None:
    # Lithops 3.8: call_async(lambda x: len(x), ['a', 'b']) returns 2
    bound = ArgumentBinder(lambda x: len(x)).bind_all([["a", "b"]])
    assert (bound.payloads, bound.binding.mode) == ([["a", "b"]], CallMode.VALUE)
    bound = ArgumentBinder(two, (9,)).bind_all([[1, 2]])
    assert bound.payloads == [{"x": [1, 2], "y": 9}]


def lithops_style(*args, **kw):
    return args, kw


def head_and_rest(a, b=5, *rest, **kwargs):
    return a, b, rest, kwargs


def test_dict_items_fill_varargs_by_their_names() -> None:
    # Lithops 3.8 binds the entries named like the *args / **kwargs parameters to them:
    # map(lambda *args, **kw: sum(args), [{'args': (1, 2)}]) returns [3]
    bound = ArgumentBinder(lithops_style).bind_all([{"args": (1, 2)},
                                                    {"args": [3], "kw": {"a": 1}},
                                                    {"z": 3}])
    assert bound.payloads == [((1, 2), {}), ((3,), {"a": 1}), {"z": 3}]
    # named positionals before *rest then go by position (Lithops fails on this one)
    bound = ArgumentBinder(head_and_rest).bind_all([{"a": 1, "rest": (7, 8),
                                                     "kwargs": {"q": 1}}])
    assert bound.payloads == [((1, 5, 7, 8), {"q": 1})]
    # on a function with **kw only, an entry named kwargs is an ordinary keyword (as Lithops)
    assert ArgumentBinder(lithops_style).bind_all([{"kwargs": {"a": 1}}]).payloads == [
        {"kwargs": {"a": 1}}]


@pytest.mark.parametrize(("item", "pattern"), [
    ({"args": 5}, "must be a tuple of positional arguments"),
    ({"args": "ab"}, "must be a tuple of positional arguments"),
    ({"kw": [1]}, "must be a dict of keyword arguments"),
    ({"a": 1, "kw": {"a": 2}}, "gives parameter 'a' twice"),
])
def test_bad_varargs_entries_are_clear_errors(item: dict, pattern: str) -> None:
    with pytest.raises(InvalidInputError, match=pattern):
        ArgumentBinder(lithops_style).bind_all([item])


def test_obj_is_an_ordinary_parameter_outside_data_processing() -> None:
    # len's signature is (obj, /): map(len, ['ab', 'c']) is an ordinary map in wren
    # (Lithops 3.8 treats it as object processing and fails with "No objects found")
    bound = ArgumentBinder(len).bind_all(["ab", "c"])
    assert (bound.payloads, bound.injected) == (["ab", "c"], ())
    bound = ArgumentBinder(lambda obj, x: 0).bind_all([(1, 2)])
    assert bound.payloads == [{"obj": 1, "x": 2}] and bound.injected == ()
    bound = ArgumentBinder(lambda obj, x: 0, data_processing=True).bind_all([{"obj": 1,
                                                                             "x": 2}])
    assert bound.injected == ("obj",)


def test_positional_only_parameters_stay_positional() -> None:
    bound = ArgumentBinder(lambda a, /, b: a + b).bind_all([(1, 2)])
    assert bound.payloads == [((1, 2), {})]


class _NoEquality:
    """A default value that refuses to be compared (as a numpy array's truth does)."""

    def __eq__(self, other: object) -> bool:
        raise ValueError("ambiguous")

    __hash__ = object.__hash__


def test_a_function_s_signature_is_kept_until_its_defaults_change() -> None:
    from wren.client.binding import signature_of

    def func(x, y=1):  # type: ignore[no-untyped-def]
        return x + y

    first = signature_of(func)
    assert signature_of(func) is first  # kept
    func.__defaults__ = (2,)
    assert signature_of(func).parameters["y"].default == 2
    func.__defaults__ = (_NoEquality(),)
    assert signature_of(func) is signature_of(func)
    func.__defaults__ = (_NoEquality(),)  # another default: compared by identity only
    assert isinstance(signature_of(func).parameters["y"].default, _NoEquality)


def test_the_instances_of_a_class_share_the_signature_of_its_call() -> None:
    from wren.client.binding import signature_of

    class Call:
        def __call__(self, item, scale=1):  # type: ignore[no-untyped-def]
            return item * scale

    first = signature_of(Call())
    assert list(first.parameters) == ["item", "scale"]  # bound: no self
    assert signature_of(Call()) is first  # another instance: kept, by its class
    Call.__call__.__defaults__ = (3,)
    assert signature_of(Call()).parameters["scale"].default == 3

    def other(self, a, b):  # type: ignore[no-untyped-def]
        return a

    Call.__call__ = other  # type: ignore[method-assign]
    assert list(signature_of(Call()).parameters) == ["a", "b"]
    marked = Call()
    marked.__signature__ = inspect.Signature()  # type: ignore[attr-defined]
    assert list(signature_of(marked).parameters) == []
