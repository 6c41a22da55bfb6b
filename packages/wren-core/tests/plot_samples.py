"""Synthetic call facts for the plot tests (and for looking at big plots): a map of `n` calls
run by `workers` processes, tasks of `chunk` calls each, calls of a few hundred milliseconds
with some under a millisecond, the odd failure, and a one-call reducer after it."""

from __future__ import annotations

import heapq
import math
import random

import numpy as np
from wren.plots.data import MOMENTS, CallTimes


def synthetic_times(n: int, workers: int = 8, chunk: int = 5, failed: tuple[int, ...] = (),
                    reducer: bool = True, seed: int = 7, jobs: int = 1) -> CallTimes:
    rng = random.Random(seed)
    total = n + (1 if reducer else 0)
    raw = np.full((len(MOMENTS), total), math.nan)
    free = [(0.3 + 0.05 * w, w) for w in range(workers)]
    heapq.heapify(free)
    lane = np.zeros(total, dtype=np.int64)
    per_job = math.ceil(n / jobs)
    for first in range(0, n, chunk):
        at, worker = heapq.heappop(free)
        submit = (first // per_job) * 0.5
        start = max(at, submit + 0.2) + rng.uniform(0.0, 0.05)
        clock = start + 0.02
        for i in range(first, min(first + chunk, n)):
            length = 0.0004 if i % 7 == 3 else rng.lognormvariate(-1.2, 0.6)
            raw[:, i] = (submit, start, clock, clock + length, math.nan, math.nan)
            clock += length + 0.001
            lane[i] = worker
        known = clock + rng.uniform(0.02, 0.2)
        raw[4, first:i + 1] = known
        raw[5, first:i + 1] = known + 0.03
        heapq.heappush(free, (clock, worker))
    if reducer:
        end = float(np.nanmax(raw[3, :n]))
        raw[:, n] = (end + 0.1, end + 0.3, end + 0.35, end + 0.6, end + 0.7, end + 0.75)
        lane[n] = 0
    success = np.ones(total, dtype=bool)
    success[list(failed)] = False
    job_rows = np.minimum(np.arange(total) // per_job, jobs - 1)
    spans = [(f"abc123-0/M{j:03d}", j * per_job, min(per_job, n - j * per_job))
             for j in range(jobs)]
    if reducer:
        job_rows[n] = jobs
        spans.append((f"abc123-0/R{jobs:03d}", n, 1))
    columns = {name: raw[k] for k, name in enumerate(MOMENTS)}
    return CallTimes(0.0, columns, success, spans, job_rows, lane,
                     [f"host-{w // 4} {1000 + w}" for w in range(workers)])
