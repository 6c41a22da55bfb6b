"""The five executors that bench/first_job_client.py compares, behind one small interface:
`load()` imports the library, `start()` creates the executor (its worker processes or local
cluster), then `call`, `map`, `map_reduce`, `first_done` (seconds until the first of many
submitted calls is done) and `close`. Each adapter uses its library's plain, default API as a user script
would: wren's FunctionExecutor on `localhost`, `multiprocessing.Pool` and
`concurrent.futures.ProcessPoolExecutor` with `os.cpu_count()` workers, Ray's local cluster
(`ray.init()`) and a Dask distributed `LocalCluster` (one single-threaded worker process per
CPU). A library is imported only when its adapter is created, so a client process pays for
the one it measures, and `load()` comes before any timer except the whole-process one.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

WORKERS = os.cpu_count() or 1
Func = Callable[..., Any]


class Library:
    """One executor under test; the subclasses fill in the library's own calls."""

    name = ""

    def load(self) -> None:
        """Import the library (before any timer starts)."""
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def call(self, func: Func, arg: Any) -> Any:
        raise NotImplementedError

    def map(self, func: Func, items: list[Any]) -> list[Any]:
        raise NotImplementedError

    def map_reduce(self, func: Func, items: list[Any], reduce: Func) -> Any:
        """Map, then one reduction of all results (where the library can: remotely)."""
        return reduce(self.map(func, items))

    def first_done(self, func: Func, items: list[Any]) -> float:
        """Submit one call per item; seconds until the first one is done (ANY_COMPLETED).
        The rest are waited for afterwards, untimed."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class Wren(Library):
    name = "wren"

    def load(self) -> None:
        import wren

        self.wren = wren
        assert wren.FunctionExecutor  # `import wren` is lazy: this imports the executor

    def start(self) -> None:
        self.fexec = self.wren.FunctionExecutor()

    def call(self, func: Func, arg: Any) -> Any:
        return self.fexec.call_async(func, arg).result()

    def map(self, func: Func, items: list[Any]) -> list[Any]:
        return list(self.fexec.get_result(self.fexec.map(func, items)))

    def map_reduce(self, func: Func, items: list[Any], reduce: Func) -> Any:
        return self.fexec.get_result(self.fexec.map_reduce(func, items, reduce))

    def first_done(self, func: Func, items: list[Any]) -> float:
        started = time.perf_counter()
        futures = self.fexec.map(func, items)
        self.fexec.wait(futures, return_when=self.wren.ANY_COMPLETED)
        took = time.perf_counter() - started
        self.fexec.get_result(futures)
        return took

    def close(self) -> None:
        self.fexec.close()


class MpPool(Library):
    name = "mp.Pool"

    def load(self) -> None:
        import multiprocessing

        self.multiprocessing = multiprocessing

    def start(self) -> None:
        self.pool = self.multiprocessing.Pool(WORKERS)

    def call(self, func: Func, arg: Any) -> Any:
        return self.pool.apply_async(func, (arg,)).get()

    def map(self, func: Func, items: list[Any]) -> list[Any]:
        return self.pool.map(func, items)

    def first_done(self, func: Func, items: list[Any]) -> float:
        first = threading.Event()
        started = time.perf_counter()
        results = [self.pool.apply_async(func, (item,), callback=lambda _: first.set())
                   for item in items]
        first.wait()
        took = time.perf_counter() - started
        for result in results:
            result.get()
        return took

    def close(self) -> None:
        self.pool.close()
        self.pool.join()


class ProcessPool(Library):
    name = "ProcessPoolExecutor"

    def load(self) -> None:
        import concurrent.futures as cf

        self.cf = cf

    def start(self) -> None:
        self.ppe = self.cf.ProcessPoolExecutor(WORKERS)

    def call(self, func: Func, arg: Any) -> Any:
        return self.ppe.submit(func, arg).result()

    def map(self, func: Func, items: list[Any]) -> list[Any]:
        return list(self.ppe.map(func, items))

    def first_done(self, func: Func, items: list[Any]) -> float:
        started = time.perf_counter()
        futures = [self.ppe.submit(func, item) for item in items]
        self.cf.wait(futures, return_when=self.cf.FIRST_COMPLETED)
        took = time.perf_counter() - started
        self.cf.wait(futures)
        return took

    def close(self) -> None:
        self.ppe.shutdown()


class Ray(Library):
    name = "Ray"

    def load(self) -> None:
        import ray

        self.ray = ray

    def start(self) -> None:
        self.ray.init(num_cpus=WORKERS, include_dashboard=False, log_to_driver=False)
        self.remotes: dict[Func, Any] = {}

    def _remote(self, func: Func) -> Any:
        if func not in self.remotes:
            self.remotes[func] = self.ray.remote(func)
        return self.remotes[func]

    def call(self, func: Func, arg: Any) -> Any:
        return self.ray.get(self._remote(func).remote(arg))

    def map(self, func: Func, items: list[Any]) -> list[Any]:
        remote = self._remote(func)
        return list(self.ray.get([remote.remote(item) for item in items]))

    def map_reduce(self, func: Func, items: list[Any], reduce: Func) -> Any:
        remote = self._remote(func)
        refs = [remote.remote(item) for item in items]
        return self.ray.get(self._remote(_reduce_args(reduce)).remote(*refs))

    def first_done(self, func: Func, items: list[Any]) -> float:
        remote = self._remote(func)
        started = time.perf_counter()
        refs = [remote.remote(item) for item in items]
        self.ray.wait(refs, num_returns=1)
        took = time.perf_counter() - started
        self.ray.get(refs)
        return took

    def close(self) -> None:
        self.ray.shutdown()


_reducers: dict[Func, Func] = {}


def _reduce_args(reduce: Func) -> Func:
    """`reduce(list)` as a function of positional arguments (how Ray passes a task the
    values of many object refs), the same object for the same `reduce`."""
    if reduce not in _reducers:
        def reduce_args(*values: Any) -> Any:
            return reduce(list(values))
        _reducers[reduce] = reduce_args
    return _reducers[reduce]


class Dask(Library):
    name = "Dask"

    def load(self) -> None:
        import distributed

        self.distributed = distributed

    def start(self) -> None:
        self.cluster = self.distributed.LocalCluster(n_workers=WORKERS, threads_per_worker=1,
                                                processes=True, dashboard_address=None)
        self.client = self.distributed.Client(self.cluster)

    def call(self, func: Func, arg: Any) -> Any:
        return self.client.submit(func, arg, pure=False).result()

    def map(self, func: Func, items: list[Any]) -> list[Any]:
        return list(self.client.gather(self.client.map(func, items, pure=False)))

    def map_reduce(self, func: Func, items: list[Any], reduce: Func) -> Any:
        mapped = self.client.map(func, items, pure=False)
        return self.client.submit(reduce, mapped, pure=False).result()

    def first_done(self, func: Func, items: list[Any]) -> float:
        started = time.perf_counter()
        futures = self.client.map(func, items, pure=False)
        self.distributed.wait(futures, return_when="FIRST_COMPLETED")
        took = time.perf_counter() - started
        self.client.gather(futures)
        return took

    def close(self) -> None:
        self.client.close()
        self.cluster.close()


LIBRARIES: dict[str, type[Library]] = {cls.name: cls for cls in
                                       (Wren, MpPool, ProcessPool, Ray, Dask)}


def installed(name: str) -> bool:
    """Whether the library behind column `name` can be imported in this environment."""
    import importlib.util

    module = {"Ray": "ray", "Dask": "distributed"}.get(name)
    return module is None or importlib.util.find_spec(module) is not None
