"""`FunctionExecutor`: the one API, whatever the platform.

It loads the configuration, opens the chosen storage and compute adapters, and offers the
PyWren/Lithops verbs: `call_async`, `map`, `map_reduce`, `wait`, `get_result`, `clean`,
`plot` and `job_summary`. Each verb builds a job (see `wren.client.builder`), hands its tasks
to the compute adapter, and lets the monitor (`wren.monitoring`) turn status documents into
finished futures.
"""

from __future__ import annotations

import itertools
import logging
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from wren import plugins
from wren._constants import ALL_COMPLETED, percentage
from wren._errors import InvalidInputError, RuntimeMismatchError, WaitTimeoutError
from wren._logging import configure_logging
from wren.backends import open_compute, open_storage, worker_storage
from wren.client import phases
from wren.client.binding import ArgumentBinder, takes_obj
from wren.client.builder import JobBuilder, JobSpec
from wren.client.chaining import chained_items
from wren.client.cleaner import Cleaner, settled
from wren.client.collect import (
    collect_futures,
    collect_jobs,
    covers_whole_jobs,
    jobs_of,
    mark_read,
    wants_single_value,
    warn_failed,
)
from wren.client.composition import Follower
from wren.client.futures import FuturesList, ResponseFuture, futures_of
from wren.client.job import JobState
from wren.client.keywords import executor_config
from wren.client.references import register
from wren.client.session import ClientSession
from wren.config.loader import ConfigSource, WrenConfig
from wren.monitoring import MonitoringPlan, open_monitor
from wren.ports import capabilities
from wren.ports.compute import ComputeBackend, RuntimeInfo
from wren.ports.storage import StorageBackend
from wren.protocol.invocation import Invocation
from wren.protocol.signing import derive_key, new_key
from wren.protocol.task import JobKind, Task
from wren.serialize.function_blob import load_packing
from wren.serialize.out_of_band import claim_shared

if TYPE_CHECKING:
    from wren.dataproc import DataPlan
    from wren.storage_api.cloudobject import CloudObject

logger = logging.getLogger("wren")

_executor_numbers = itertools.count()
_session_id = os.urandom(3).hex()  # as random as uuid4's first 6 hex digits, minus uuid's import


def session_id() -> str:
    """What the id of every executor this process creates starts with: `<session_id>-<n>`."""
    return _session_id

Futures = ResponseFuture | Sequence[ResponseFuture] | None


def _executor_key(executor_id: str) -> bytes:
    """A new key; inside a worker, the worker's key derived for `executor_id`, so the client
    that runs the worker can authenticate this executor's results without being sent a key
    (see `wren.client.references`)."""
    from wren import context

    if context.in_worker():
        try:
            return derive_key(context.current_key(), executor_id)
        except RuntimeError:  # a worker process, but not on the thread that runs the call
            pass
    return new_key()


def _lithops_only(options: Mapping[str, Any], verb: str) -> None:
    """Accept the keyword arguments of Lithops' `verb` that wren has no use for."""
    unknown = sorted(set(options) - _LITHOPS_WAIT_OPTIONS)
    if unknown:
        raise InvalidInputError(f"{verb}() got unexpected keyword arguments: "
                                f"{', '.join(unknown)}")


#: Keyword arguments of Lithops' wait and get_result that tune its polling (unused here).
_LITHOPS_WAIT_OPTIONS = frozenset({"threadpool_size", "wait_dur_sec", "show_progressbar",
                                   "clean_jobs"})


def _as_list(fs: Futures) -> list[ResponseFuture]:
    """The futures `fs` names, to read (every caller only reads them): a list (a map's
    `FuturesList` of 10,000) as it is, not copied."""
    if fs is None:
        return []
    if isinstance(fs, ResponseFuture):
        return [fs]
    return fs if isinstance(fs, list) else list(fs)


def _check_iterdata(iterdata: Any) -> None:
    """Refuse what is not an iterable of items (one call per item)."""
    if type(iterdata) is list:
        return  # (the checks below ask abstract classes: tens of µs the first time)
    if isinstance(iterdata, Mapping):
        raise InvalidInputError(
            "map_iterdata is a dict: for one call with it bound by name pass [the_dict]; for "
            "one call per key pass list(the_dict)")
    if isinstance(iterdata, (str, bytes)) or not isinstance(iterdata, Iterable):
        raise InvalidInputError("map_iterdata must be a list (or other iterable) of call "
                                f"arguments, got {type(iterdata).__name__}")


def _iterdata_items(iterdata: Any) -> Any:
    """An iterable of items (a set, a range, a generator, futures...) as a list (a list as
    itself: the job is built from it before `map` returns, and nothing keeps it); a single
    input of a data-processing map (a string, a path, a dict) as it is."""
    if type(iterdata) is list:
        return iterdata  # (a copy of 10,000 items costs a first job 0.2 ms)
    if isinstance(iterdata, (str, bytes, Mapping, os.PathLike)) or not isinstance(
            iterdata, Iterable):
        return iterdata
    return list(iterdata)


class FunctionExecutor:
    """Runs functions on the configured compute backend, keeping data in the configured
    storage. Usable as a context manager; `close()` stops its monitor and cleans up."""

    def __init__(self, backend: str | None = None, storage: str | None = None,
                 config: ConfigSource | None = None, runtime: str | None = None,
                 runtime_memory: int | None = None, log_level: str | bool | None = None,
                 *, mode: str | None = None, config_file: str | os.PathLike[str] | None = None,
                 monitoring: str | None = None, **overrides: Any) -> None:
        # Lithops' keywords (mode, config_file, workers, storage_backend, ...): see keywords
        self.config: WrenConfig = executor_config(
            backend, storage, config,
            {"runtime": runtime, "runtime_memory": runtime_memory, "log_level": log_level,
             "mode": mode, "config_file": config_file, "monitoring": monitoring}, overrides)
        configure_logging(self.config.wren.get("log_level"))
        self.executor_id = f"{_session_id}-{next(_executor_numbers)}"
        self.backend = self.config.compute_backend
        self.storage_backend_name = self.config.storage_backend
        self.storage: StorageBackend = open_storage(self.config)
        self.bucket = self.storage.default_bucket
        self._monitoring = MonitoringPlan.from_config(self.config, self.executor_id)
        private = self._monitoring.worker_config(self.config.storage)
        if {"multiprocessing", "redis"} & set(self.config.sections):  # its Redis password
            from wren.multiprocessing.redis_settings import with_worker_services

            private = with_worker_services(private, self.config.sections)
        workers = worker_storage(self.config, private)
        compute_cls = plugins.compute_backend_class(self.backend)
        self.serializer = plugins.serializer_class(self.config.wren["serializer"])()
        self._condition = threading.Condition()
        self._key = _executor_key(self.executor_id)  # authenticates its pickles; never stored
        self._monitor = open_monitor(self._monitoring, self.storage, self.bucket,
                                     self._condition, compute_cls, self._key)
        try:
            self.compute: ComputeBackend = open_compute(self.config, workers)
            self.compute.warm_up()
            self.storage.warm_up(self.bucket)
            if self.compute.supports(capabilities.SHARED_MEMORY):  # where jobs use it
                claim_shared(self.storage, self.bucket, self.executor_id)
            self._monitor.start()
            load_packing()  # while the compute backend warms up, not in the first job
        except BaseException:
            self._monitor.stop()
            raise
        self._session = ClientSession(self.storage, self.bucket, self.serializer,
                                      self._monitor, self._condition,
                                      self.config.wren["progress"])
        self._session.owner = weakref.ref(self)
        self._runtime: RuntimeInfo | None = None
        self._builder = JobBuilder(self.executor_id, self.storage, self.bucket,
                                   self.serializer, self.compute, self._key,
                                   self._preinstalled)
        self._cleaner = Cleaner(self.storage, self.bucket)
        if self.config.wren["data_cleaner"]:
            self._cleaner.start()
        self._jobs: list[JobState] = []
        #: (job, a job whose calls read its results from storage): kept until both finish
        self._consumers: list[tuple[JobState, JobState]] = []
        self._unread: list[JobState] = []
        self._job_numbers = itertools.count()
        self._closed = False
        self._finalizer = weakref.finalize(self, self._monitor.stop, 1.0)
        if phases.telling():
            compute = self.config.compute
            logger.info("executor %s created: compute %r (runtime %s, memory %s), storage %r "
                        "(bucket %r), monitoring %r", self.executor_id, self.backend,
                        compute.get("runtime") or "default",
                        f"{compute['runtime_memory']} MB" if compute.get("runtime_memory")
                        else "default", self.storage_backend_name, self.bucket,
                        self._monitoring.kind)

    # Context management -------------------------------------------------------------------
    def __enter__(self) -> FunctionExecutor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop monitoring, clean data of jobs whose results were read, release backends."""
        if self._closed:
            return
        self._closed = True
        if self.config.wren["data_cleaner"]:
            self._clean_jobs([j for j in self._jobs if j.finished and j not in self._unread])
        self._cleaner.stop()
        self._monitor.stop()
        self._finalizer.detach()
        self.compute.close()

    @property
    def futures(self) -> list[ResponseFuture]:
        """Every future this executor created, in submission order."""
        return [f for job in self._jobs for f in futures_of(job)]

    # Runtime ------------------------------------------------------------------------------
    def _runtime_info(self) -> RuntimeInfo | None:
        if self._runtime is None:
            try:
                info = self.compute.runtime_info()
            except NotImplementedError:
                return None
            local = ".".join(map(str, sys.version_info[:2]))
            if info.python_version != local:
                theirs = info.python_version
                fix = (f"Build a matching runtime with: wren runtime build <name> -b "
                       f"{self.backend} (from a Python {theirs} client), or run the client on "
                       f"Python {theirs}") if self.compute.supports(
                    capabilities.RUNTIME_BUILD) else (
                    f"Backend {self.backend!r} builds no runtimes: configure a runtime that "
                    f"runs Python {local}, or run the client on Python {theirs}")
                raise RuntimeMismatchError(
                    f"the runtime {info.name!r} runs Python {theirs} but this client "
                    f"runs Python {local}; functions pickled here may not load there. {fix}")
            self._runtime = info
        return self._runtime

    def _preinstalled(self) -> frozenset[str]:
        info = self._runtime_info()
        return info.preinstalled_modules if info is not None else frozenset()

    # Submitting ---------------------------------------------------------------------------
    def _timeout(self, timeout: float | None) -> float:
        value = float(timeout if timeout is not None else self.config.wren["execution_timeout"])
        if value <= 0:
            raise InvalidInputError(f"timeout must be a positive number of seconds, got {value}")
        return value

    def _prepare(self, func: Callable[..., Any], items: Iterable[Any], kind: JobKind, *,
                 extra_params: Any = None, extra_env: Mapping[str, str] | None = None,
                 runtime_memory: int | None = None, timeout: float | None = None,
                 include_modules: Sequence[str] | None = (),
                 exclude_modules: Sequence[str] = (), chunksize: int | None = None,
                 produces_output: bool = True, data_processing: bool = False
                 ) -> tuple[JobState, list[Task]]:
        if self._closed:
            raise InvalidInputError("this executor is closed; create a new FunctionExecutor")
        if not callable(func):
            raise InvalidInputError(f"expected a function to run, got {type(func).__name__}")
        if chunksize is not None and (not isinstance(chunksize, int) or chunksize < 1):
            raise InvalidInputError(f"chunksize must be a positive integer, got {chunksize!r}")
        if extra_env is not None and not all(isinstance(k, str) and isinstance(v, str)
                                             for k, v in extra_env.items()):
            raise InvalidInputError("extra_env must map variable names to string values")
        items = items if isinstance(items, list) else list(items)  # callers pass new lists
        kinds = set(map(type, items))  # the distinct types of items, once for both checks
        items, inputs = chained_items(items, self._session, kinds)
        calls = ArgumentBinder(func, extra_params, data_processing=data_processing).bind_all(
            items, None if inputs else kinds)
        wren_cfg = self.config.wren
        include = wren_cfg["include_modules"] if include_modules == [] else include_modules
        exclude = list(exclude_modules or ()) + list(wren_cfg["exclude_modules"] or ())
        job = JobState(self._session, self.executor_id, kind, next(self._job_numbers),
                       len(calls.payloads), produces_output=produces_output)
        register(job)  # a pickled future of it unpickles to itself in this process
        spec = JobSpec(func=func, calls=calls, job_id=job.job_id,
                       timeout=self._timeout(timeout), extra_env=dict(extra_env or {}),
                       runtime_memory=runtime_memory, include_modules=include,
                       exclude_modules=exclude, chunksize=chunksize or wren_cfg["chunksize"],
                       options=self._monitoring.task_options, reads_results=bool(inputs))
        tasks = self._builder.build(spec)
        self._builder.call_times.track(job)
        job.runtime_memory = runtime_memory or self.config.compute.get("runtime_memory")
        with self._condition:
            self._jobs.append(job)
            self._unread.append(job)
            self._consumers.extend((source, job) for source in inputs)
        self._monitor.track(job, spec.timeout)
        return job, tasks

    def _invoke(self, job: JobState, tasks: list[Task]) -> None:
        with self._condition:  # against a concurrent cancel(): it is invoked or it is not
            job.submitted_at = time.time()
            tasks = self._invoked_tasks(job, tasks)
        for task in tasks:
            deadline = self.compute.lost_deadline(task, job.submitted_at)
            if deadline is not None:
                job.deadlines.append((deadline, list(task.call_indices)))
        began = time.perf_counter() if phases.telling() else 0.0
        if tasks:
            self.compute.invoke([Invocation(task, self._key) for task in tasks],
                                self._monitor)
        if began:
            logger.info("job %s: invoked %s (%s) on %r in %s", job.job_key,
                        phases.plural(job.size, "call"), phases.plural(len(tasks), "task"),
                        self.backend, phases.since(began))

    def _invoked_tasks(self, job: JobState, tasks: list[Task]) -> list[Task]:
        """`tasks` without those whose every call was cancelled before it was invoked."""
        if not job.cancelled:
            return tasks
        return [task for task in tasks
                if not all(index in job.cancelled for index in task.call_indices)]

    def call_async(self, func: Callable[..., Any], data: Any = (), extra_env:
                   Mapping[str, str] | None = None, runtime_memory: int | None = None,
                   timeout: float | None = None, include_modules: Sequence[str] | None = [],
                   exclude_modules: Sequence[str] = []) -> ResponseFuture:
        """Run `func` once with `data`: a tuple of arguments, a dict of them by name, or one
        value (a list too); a future gives its call's result, read by the worker."""
        job, tasks = self._prepare(func, [data], JobKind.CALL, extra_env=extra_env,
                                   runtime_memory=runtime_memory, timeout=timeout,
                                   include_modules=include_modules,
                                   exclude_modules=exclude_modules)
        self._invoke(job, tasks)
        return futures_of(job)[0]

    def map(self, map_function: Callable[..., Any], map_iterdata: Iterable[Any],
            extra_params: Any = None, extra_env: Mapping[str, str] | None = None,
            runtime_memory: int | None = None, timeout: float | None = None,
            include_modules: Sequence[str] | None = [], exclude_modules: Sequence[str] = [],
            chunksize: int | None = None, *, extra_args: Any = None,
            chunk_size: int | None = None, chunk_n: int | None = None,
            obj_chunk_size: int | None = None, obj_chunk_number: int | None = None,
            obj_newline: str | bytes | None = "\n") -> FuturesList:
        """Run `map_function` once per item of `map_iterdata`; one future per item, in a
        `FuturesList` that chains further jobs on this executor.

        `map_iterdata` is any iterable of items; futures as items give each call the result
        of one earlier call, read by the worker from storage (see `wren.client.chaining`).
        A function with a parameter named `obj` whose items name objects (storage keys or
        prefixes, CloudObjects, URLs, local paths) processes data instead: each call gets
        one chunk of one object as `obj` (see `wren.dataproc`); `chunk_size` (bytes) or
        `chunk_n` (chunks per object) split objects, `obj_newline` aligns chunks to whole
        lines (None: exact byte ranges).
        """
        map_iterdata = _iterdata_items(map_iterdata)
        plan = self._data_plan(map_function, map_iterdata, chunk_size, chunk_n,
                               obj_chunk_size, obj_chunk_number, obj_newline)
        if plan is not None:
            map_iterdata = plan.items
        _check_iterdata(map_iterdata)
        job, tasks = self._prepare(map_function, map_iterdata, JobKind.MAP,
                                   extra_params=extra_params if extra_params is not None
                                   else extra_args, extra_env=extra_env,
                                   runtime_memory=runtime_memory, timeout=timeout,
                                   include_modules=include_modules,
                                   exclude_modules=exclude_modules, chunksize=chunksize,
                                   data_processing=plan is not None)
        self._invoke(job, tasks)
        return FuturesList(futures_of(job), self)

    def map_reduce(self, map_function: Callable[..., Any], map_iterdata: Iterable[Any],
                   reduce_function: Callable[..., Any], extra_params: Any = None,
                   extra_env: Mapping[str, str] | None = None,
                   map_runtime_memory: int | None = None,
                   reduce_runtime_memory: int | None = None, timeout: float | None = None,
                   include_modules: Sequence[str] | None = [],
                   exclude_modules: Sequence[str] = [], chunksize: int | None = None,
                   reducer_wait_local: bool = False, spawn_reducer: Any = 20,
                   *, extra_args: Any = None, chunk_size: int | None = None,
                   chunk_n: int | None = None, obj_chunk_size: int | None = None,
                   obj_chunk_number: int | None = None, obj_newline: str | bytes | None = "\n",
                   reducer_one_per_object: bool = False,
                   obj_reduce_by_key: bool = False) -> FuturesList:
        """Map, then reduce all map results (in map order) with `reduce_function`.

        By default the reducer runs remotely and is spawned once `spawn_reducer` percent of
        the map calls are done (as in Lithops: `ALWAYS` at once, `ANY_COMPLETED` after the
        first, `ALL_COMPLETED` after all); `reducer_wait_local=True` waits for the map here
        first. Returns a `FuturesList` of the map's futures and the reducer's.
        `get_result()` on the returned futures gives only the reducer's result. The data
        options are those of `map`; `reducer_one_per_object=True` (alias
        `obj_reduce_by_key`) runs one reducer per input object over its chunks' results.
        """
        from wren.reducing import local_reducer_items, remote_reducer

        share = percentage(spawn_reducer, "spawn_reducer")
        map_iterdata = _iterdata_items(map_iterdata)
        plan = self._data_plan(map_function, map_iterdata, chunk_size, chunk_n,
                               obj_chunk_size, obj_chunk_number, obj_newline)
        groups = None
        if reducer_one_per_object or obj_reduce_by_key:
            if plan is None:
                raise InvalidInputError("reducer_one_per_object needs a data-processing map: "
                                        "a map function with a parameter named `obj`, and "
                                        "items that name objects")
            groups = plan.groups
        if plan is not None:
            map_iterdata = plan.items
        _check_iterdata(map_iterdata)
        map_job, map_tasks = self._prepare(
            map_function, map_iterdata, JobKind.MAP, extra_params=extra_params if extra_params
            is not None else extra_args, extra_env=extra_env, runtime_memory=map_runtime_memory,
            timeout=timeout, include_modules=include_modules, exclude_modules=exclude_modules,
            chunksize=chunksize, produces_output=False, data_processing=plan is not None)
        self._invoke(map_job, map_tasks)

        def prepare_reducer(func: Callable[..., Any], items: list[Any]
                            ) -> tuple[JobState, list[Task]]:
            return self._prepare(func, items, JobKind.REDUCE, extra_env=extra_env,
                                 runtime_memory=reduce_runtime_memory, timeout=timeout,
                                 include_modules=include_modules,
                                 exclude_modules=exclude_modules)

        if reducer_wait_local:
            self._session.wait(futures_of(map_job), throw_except=True, jobs=[map_job])
            self._session.fetch_jobs([map_job])
            reduce_job, reduce_tasks = prepare_reducer(
                reduce_function, local_reducer_items(list(map_job.values), groups))
            self._invoke(reduce_job, reduce_tasks)
        else:
            reducer, items = remote_reducer(reduce_function, map_job.job_key,
                                            map_job.size, self.serializer.name, groups)
            reduce_job, reduce_tasks = prepare_reducer(reducer, items)
            # ANY_COMPLETED (-1): once any map call is done, however large the map.
            self._schedule_reducer(map_job, reduce_job, reduce_tasks,
                                   share / 100 if share >= 0 else 1e-12)
        return FuturesList([*futures_of(map_job), *futures_of(reduce_job)], self)

    def _data_plan(self, func: Callable[..., Any], iterdata: Any, *chunking: Any
                   ) -> DataPlan | None:
        """The calls of a data-processing map (None for an ordinary map), see `map`."""
        if not any(option is not None for option in chunking[:4]) and not takes_obj(func):
            return None  # an ordinary map: wren.dataproc need not even be imported
        from wren.dataproc import ChunkingOptions, DataTarget, plan_data_job

        target = DataTarget(self.storage, self.storage_backend_name,
                            self.compute.supports(capabilities.SHARED_FILESYSTEM))
        return plan_data_job(func, iterdata, target, ChunkingOptions.from_arguments(*chunking))

    def _schedule_reducer(self, map_job: JobState, reduce_job: JobState,
                          tasks: list[Task], threshold: float) -> None:
        fired = threading.Event()

        def spawn() -> None:
            if not fired.is_set():
                fired.set()
                self._invoke(reduce_job, tasks)

        with self._condition:
            if map_job.done_fraction >= threshold:
                ready = True
            else:
                map_job.progress_hooks.append((threshold, spawn))
                ready = False
        if ready:
            spawn()

    # Waiting and results ------------------------------------------------------------------
    def wait(self, fs: Futures = None, throw_except: bool = True,
             return_when: Any = ALL_COMPLETED, download_results: bool = False,
             timeout: float | None = None, **lithops_options: Any
             ) -> tuple[list[ResponseFuture], list[ResponseFuture]]:
        """Wait for futures (default: all of this executor's); return `(done, not_done)`.

        `return_when` is `ALL_COMPLETED`, `ANY_COMPLETED`, `ALWAYS` or a percentage of the
        futures (see `wren._constants`). Futures of another executor are waited for by that
        executor. With `download_results=True` (and all futures waited for), a call that
        returned futures of an executor it created counts as done once those are. Lithops' `threadpool_size`, `wait_dur_sec` and `show_progressbar` are
        accepted and unused (the `progress` setting decides about the bar)."""
        _lithops_only(lithops_options, "wait")
        futures = _as_list(fs) if fs is not None else self.futures
        owner, session = self._owner_of(futures)
        if owner is not self:
            return owner.wait(futures, throw_except, return_when, download_results, timeout)
        done, not_done = session.wait(futures, return_when, timeout, throw_except,
                                      download_results)
        if download_results and percentage(return_when) == ALL_COMPLETED:
            late = {id(f) for f in Follower(throw_except, timeout).late(done)}
            if late:
                not_done += [f for f in done if id(f) in late]
                done = [f for f in done if id(f) not in late]
        return done, not_done

    def get_result(self, fs: Futures = None, throw_except: bool = True,
                   timeout: float | None = None, **lithops_options: Any) -> Any:
        """Results of `fs` (default: of the jobs not read yet): a value after `call_async`,
        a list in call order after `map`, the reducer's result after `map_reduce`. A result
        that is a future, or a list of futures, of an executor the function created in its
        worker is replaced by their results.

        With `throw_except=False` a failed call's place in the list holds None (its future
        keeps the error) and one warning names the failed calls; otherwise the first failure
        in call order is raised."""
        _lithops_only(lithops_options, "get_result")
        session = self._session
        if fs is None:
            with self._condition:
                jobs = list(self._unread)
            whole = not any(job.any_read for job in jobs)
            futures = [f for job in jobs for f in futures_of(job)
                       if whole or not job.read[f.index]]
        else:
            futures = _as_list(fs)
            jobs = jobs_of(futures)
            owner, session = self._owner_of(futures, jobs)
            if owner is not self:
                return owner.get_result(fs, throw_except, timeout)
            whole = covers_whole_jobs(futures, jobs)
        single = wants_single_value(fs, jobs)
        follower = Follower(throw_except, timeout)
        _, not_done = session.wait(futures, ALL_COMPLETED, timeout, throw_except=False,
                                   jobs=jobs if whole else None)
        if not_done:
            raise WaitTimeoutError(f"{len(not_done)} of {len(futures)} calls had not finished "
                                   f"after {timeout:g} s; call get_result again to keep "
                                   "waiting")
        try:
            if whole:
                session.fetch_jobs([j for j in jobs if j.produces_output or j.failed])
            else:
                session.fetch([f for f in futures if f.produces_output or f.error])
            values, failed = collect_jobs(jobs, throw_except, single) if whole else \
                collect_futures(futures, throw_except, single)
            if any(job.returned_futures for job in jobs):  # else no value is a future
                values = follower.follow(values, single)
        finally:
            mark_read(futures, jobs, whole)
            with self._condition:
                self._unread = [j for j in self._unread if not j.all_read]
            if self.config.wren["data_cleaner"]:
                self._clean_jobs([j for j in [*jobs, *follower.jobs.values()]
                                  if j.finished and j.all_read])
        warn_failed([*failed, *follower.failed], len(futures) + follower.followed)
        return values

    def _owner_of(self, futures: Sequence[ResponseFuture],
                  jobs: Sequence[JobState] | None = None
                  ) -> tuple[FunctionExecutor, ClientSession]:
        """The executor that made all of `futures` (this one when there are none), and the
        session that reads them (that of a nested executor for futures a result returned);
        `jobs` are their jobs when the caller has them."""
        sessions = {id(job.executor_services): job.executor_services
                    for job in (jobs_of(futures) if jobs is None else jobs)}
        if not sessions or list(sessions.values()) == [self._session]:
            return self, self._session
        if len(sessions) > 1:
            ids = sorted({f.executor_id for f in futures})
            raise InvalidInputError(
                f"these futures come from {len(ids)} executors ({', '.join(ids)}); wait for "
                "or get the results of each executor's futures through that executor")
        found = next(iter(sessions.values()))
        if not isinstance(found, ClientSession):
            found.wait_and_fetch(futures)  # raises, saying why nothing here can read them
            raise AssertionError("unreachable")
        session = found
        reference = getattr(session, "owner", None)
        owner = reference() if reference is not None else None
        if not isinstance(owner, FunctionExecutor):
            raise InvalidInputError(
                f"these futures belong to executor {futures[0].executor_id}, which no longer "
                "exists; keep a reference to an executor while you use its futures")
        return owner, session

    # Seeing what ran ----------------------------------------------------------------------
    def create_execution_plots(self, dst_dir: str | os.PathLike[str], dst_name: str,
                               fs: Futures = None, figsize: tuple[float, float] | None = None
                               ) -> tuple[str, ...]:
        """Write `<dst_dir>/<dst_name>_timeline.png`, `_histogram.png` and `_workers.png` for
        the finished calls among `fs` (default: all of this executor's); return the paths.
        Needs the `plots` extra (`pip install 'wren-core[plots]'`)."""
        from wren.plots import create_execution_plots

        futures = self.futures if fs is None else _as_list(fs)
        return create_execution_plots(dst_dir, dst_name, futures, figsize)

    def plot(self, fs: Futures = None, dst: str | os.PathLike[str] | None = None,
             figsize: tuple[float, float] | None = None) -> tuple[str, ...]:
        """`create_execution_plots` with `dst` as the path prefix (default:
        `./plots/<date>_<time>`): `<dst>_timeline.png`, `<dst>_histogram.png` and
        `<dst>_workers.png`; `figsize` in inches, as in Lithops."""
        if dst is None:
            dst = os.path.join("plots", time.strftime("%Y%m%d_%H%M%S"))
        dst_dir, dst_name = os.path.split(os.path.abspath(dst))
        return self.create_execution_plots(dst_dir, dst_name, fs, figsize)

    def job_summary(self, dst_dir: str | os.PathLike[str] = "summaries",
                    fs: Futures = None) -> list[str]:
        """Write a CSV per job (a row per call: times, sizes, cost) and one with a row per
        job under `dst_dir`; return their paths. See `wren.client.summary`."""
        from wren.client.summary import write_job_summaries

        return write_job_summaries(self.futures if fs is None else _as_list(fs), dst_dir,
                                   self.compute.call_cost)

    # Cleaning -----------------------------------------------------------------------------
    def clean(self, fs: Futures = None,
              cs: Iterable[CloudObject] | CloudObject | None = None,
              clean_cloudobjects: bool = True, force: bool = False) -> None:
        """Delete the temporary data (arguments, statuses, results) and the captured output
        of these futures' jobs, or of every job of this executor, once nothing of a job is
        left to read (each call's result was read, or it failed). `clean_cloudobjects` also
        deletes the cloud objects their calls stored without a key. `force` cleans jobs
        with calls still running or results not read too: their results are lost, and what
        running calls write afterwards is deleted when the executor closes. `cs`: cloud
        objects to delete; given alone (no `fs`), only those are deleted. Complete when it
        returns; only this executor's own jobs and the objects in `cs` are touched."""
        if cs is not None:
            self._cleaner.delete_cloudobjects(cs)
            if fs is None:
                self._cleaner.flush()
                return
        jobs = list(self._jobs) if fs is None else jobs_of(_as_list(fs))
        if not force:
            busy = [j.job_key for j in jobs if not settled(j)]
            if busy:
                logger.warning("not cleaning jobs with calls running or results not read: %s"
                               " (clean(force=True) cleans them too)", ", ".join(busy))
            jobs = [j for j in jobs if settled(j)]
        self._clean_jobs(jobs, cloudobjects=clean_cloudobjects, logs=True)
        self._cleaner.flush()

    def _clean_jobs(self, jobs: list[JobState], *, cloudobjects: bool = False,
                    logs: bool = False) -> None:
        with self._condition:  # results that running calls still read stay until they end
            self._consumers = [(s, c) for s, c in self._consumers if not c.finished]
            busy = {id(source) for source, _ in self._consumers}
        self._cleaner.submit([job for job in jobs if id(job) not in busy],
                             cloudobjects=cloudobjects, logs=logs)
