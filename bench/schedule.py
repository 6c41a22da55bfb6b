"""The best possible schedule of independent calls of known durations on N identical workers,
for bench:local's "64 calls of random durations" row.

`random_durations()` gives the row's calls (64 durations, 10-500 ms, fixed seed), the same
in every process. `lower_bound` is what no schedule can beat: the longest call, or the total
work spread evenly over the workers. `lpt_makespan` is the length of the longest-processing-
time-first schedule (Graham: within 4/3 - 1/(3N) of optimal; on these inputs within a
fraction of a percent of the lower bound), a schedule that exists, so the optimum lies
between the two.
"""

from __future__ import annotations

import heapq
import random

SEED = 16
CALLS = 64


def random_durations(calls: int = CALLS, seed: int = SEED) -> list[float]:
    rng = random.Random(seed)
    return [round(rng.uniform(0.010, 0.500), 4) for _ in range(calls)]


def lower_bound(durations: list[float], workers: int) -> float:
    return max(max(durations), sum(durations) / workers)


def lpt_makespan(durations: list[float], workers: int) -> float:
    loads = [0.0] * workers
    heapq.heapify(loads)
    for duration in sorted(durations, reverse=True):
        heapq.heappush(loads, heapq.heappop(loads) + duration)
    return max(loads)


def best_schedule(workers: int) -> dict[str, float]:
    durations = random_durations()
    return {"workers": workers, "calls": len(durations), "seed": SEED,
            "total_work_s": sum(durations), "lower_bound_s": lower_bound(durations, workers),
            "lpt_makespan_s": lpt_makespan(durations, workers)}
