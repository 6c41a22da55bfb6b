"""The first-job table of issue 16: every row measured in FRESH client processes
(bench/first_job_client.py), one per library, row and repetition, median of `repeat`,
printed with the ratio of each figure to the row's baseline and the issue's target.

`run_table` interleaves the libraries within each repetition (so load from other work on
the machine spreads over all of them), after one untimed warm-up process per library (it
fills the page cache and any on-disk state a first use creates). A process that fails or
times out is recorded with its error and left out of the median. wren's processes join the
user's pool server, which outlives a script by `pool_idle_timeout` (30 s): as for a user
running scripts one after another, whenever `KEEP_WARM_S` passed since the last wren
process (the slow baselines take that long on the big maps) an untimed one runs before the
next process of any library, so the server and its workers stay warm and a row measures
wren's first job, not a server start (nor a fresh worker's imports). Every timed process
starts `SETTLE_S` after the previous one ended: Ray's and Dask's daemons take a moment to
exit and would otherwise share the two CPUs with the next library's first job. Before
anything is timed,
`compile_sources` writes the bytecode of wren's editable sources, as `pip install` does for
every installed package (the baselines' included): on a machine with
PYTHONDONTWRITEBYTECODE set, an editable checkout would otherwise recompile wren in every
fresh process and count that as wren's start-up.
"""

from __future__ import annotations

import compileall
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from schedule import best_schedule

HERE = Path(__file__).resolve().parent
CLIENT = HERE / "first_job_client.py"
TIMEOUT_S = 900
#: This long after the last wren process, an untimed one runs before the next process (the
#: user's pool server stops 30 s after its last client left).
KEEP_WARM_S = 8.0
#: Pause before each timed process (the previous library's processes exiting meanwhile).
SETTLE_S = 0.5


@attrs.frozen
class Row:
    """One line of the table: which client case gives it, which figure, and its target.
    `baseline` is a column name, or "ideal" for a fixed best possible time; `target` is an
    absolute limit in seconds (`limit`) or a multiple of the baseline (`ratio`)."""

    key: str
    label: str
    case: str
    size: int
    field: str
    baseline: str = "mp.Pool"
    limit: float | None = None
    ratio: float | None = None


def rows() -> list[Row]:
    return [
        Row("first_call", "first call after the executor exists", "first", 0, "first_call_s"),
        Row("second_call", "second call (warm)", "first", 0, "second_call_s", limit=0.002),
        Row("map_100", "first map of 100 no-op calls", "map", 100, "took_s", ratio=2),
        Row("map_1000", "first map of 1,000 no-op calls", "map", 1000, "took_s", ratio=2),
        Row("map_10000", "first map of 10,000 no-op calls", "map", 10_000, "took_s",
            ratio=2),
        Row("map_reduce_1000", "map_reduce of 1,000", "map_reduce", 1000, "took_s", ratio=5),
        Row("args_20x5MB", "20 x 5 MB arguments", "args", 20, "took_s", "Ray", ratio=1),
        Row("results_20x5MB", "20 x 5 MB results", "results", 20, "took_s", "Ray", ratio=1),
        Row("client_cpu", "client CPU for a one-call job", "first", 0, "client_cpu_s",
            limit=0.020),
        Row("start_first_call", "executor start + first call", "first", 0,
            "start_first_call_s", ratio=1),
        Row("whole_process", "whole fresh process (python, import, executor, 1 call, exit)",
            "whole", 0, "wall_s", limit=0.15),
        Row("any_completed", "ANY_COMPLETED on 40 x 0.3 s calls", "any", 40, "took_s",
            "ideal", limit=0.35),
        Row("random_64", "64 calls of 10-500 ms (seed 16), all done", "random", 64, "took_s",
            "ideal", ratio=1.05),
    ]


def ideal(row: Row, workers: int) -> float:
    if row.case == "any":
        return 0.3
    if row.case == "random":
        return best_schedule(workers)["lower_bound_s"]
    raise ValueError(row.key)


def compile_sources() -> None:
    """Write the bytecode of the wren packages' sources (editable installs), as an install
    of the wheels would have; prints nothing."""
    sources = sorted((HERE.parent / "packages").glob("*/src"))
    previous = sys.dont_write_bytecode
    sys.dont_write_bytecode = False
    try:
        for folder in sources:
            compileall.compile_dir(str(folder), quiet=1, workers=os.cpu_count() or 1)
    finally:
        sys.dont_write_bytecode = previous


def run_client(library: str, case: str, size: int) -> dict[str, Any]:
    argv = [sys.executable, str(CLIENT), library, case, str(size)]
    started = time.perf_counter()
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S,
                              cwd=HERE)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {TIMEOUT_S} s"}
    wall = time.perf_counter() - started
    if done.returncode != 0:
        return {"error": f"exit {done.returncode}: {done.stderr.strip()[-600:]}"}
    if case == "whole":
        return {"wall_s": wall}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"error": f"no figures printed: {done.stdout[-300:]} {done.stderr[-300:]}"}
    return {**json.loads(lines[-1]), "wall_s": wall}


def run_table(libraries: list[str], table_rows: list[Row], repeat: int,
              log: Callable[[str], None]) -> dict[str, Any]:
    cases = sorted({(row.case, row.size) for row in table_rows})
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {}
    compile_sources()
    for library in libraries:
        log(f"warm-up process: {library}")
        run_client(library, "first", 0)
    last_wren = time.monotonic()
    for repetition in range(repeat):
        for case, size in cases:
            for library in libraries:
                if "wren" in libraries and time.monotonic() - last_wren > KEEP_WARM_S:
                    log("untimed wren process: the pool server has been idle a while")
                    run_client("wren", "first", 0)
                    last_wren = time.monotonic()
                time.sleep(SETTLE_S)
                figures = run_client(library, case, size)
                if library == "wren":
                    last_wren = time.monotonic()
                runs.setdefault(f"{case}:{size}", {}).setdefault(library, []).append(figures)
                log(f"[{repetition + 1}/{repeat}] {case} {size or ''} {library}: "
                    f"{json.dumps(figures)[:300]}")
    medians: dict[str, dict[str, float | None]] = {}
    for row in table_rows:
        medians[row.key] = {}
        for library in libraries:
            values = [r[row.field] for r in runs[f"{row.case}:{row.size}"][library]
                      if row.field in r]
            medians[row.key][library] = statistics.median(values) if values else None
    return {"runs": runs, "medians": medians}


def baseline_value(row: Row, medians: dict[str, float | None], workers: int) -> float | None:
    if row.baseline == "ideal":
        return ideal(row, workers)
    value = medians.get(row.baseline)
    if value is None and row.baseline == "Ray":  # Ray not installed: fall back, and say so
        value = medians.get("mp.Pool")
    return value


def target_text(row: Row, base_name: str) -> str:
    if row.limit is not None:
        return f"<= {fmt(row.limit)}"
    if row.ratio is not None:
        return f"<= {row.ratio:g}x {base_name.split(':')[0]}"
    return "-"


def met(row: Row, wren: float | None, base: float | None) -> str:
    if wren is None:
        return "?"
    ok = True
    if row.limit is not None:
        ok = wren <= row.limit
    elif row.ratio is not None and base:
        ok = wren <= row.ratio * base
    elif row.ratio is None:
        return ""
    return " (met)" if ok else " (NOT met)"


def fmt(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 1:
        return f"{seconds * 1000:.3g} ms" if seconds >= 0.001 else f"{seconds * 1000:.2f} ms"
    return f"{seconds:.3g} s"


def times(ratio: float) -> str:
    return f"{ratio:.0f}x" if ratio >= 10 else f"{ratio:.2f}x"


def render(table_rows: list[Row], libraries: list[str], medians: dict[str, Any],
           workers: int) -> str:
    head = ["fresh process, first job", *libraries, "ratios to", "issue 16 target (wren)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in table_rows:
        values = medians[row.key]
        base = baseline_value(row, values, workers)
        base_name = row.baseline
        if row.baseline == "Ray" and values.get("Ray") is None:
            base_name = "mp.Pool (Ray not run)"
        if row.baseline == "ideal":
            bound = best_schedule(workers)
            base_name = ("ideal 0.3 s" if row.case == "any" else
                         f"best schedule on {workers} workers: >= {fmt(base)} "
                         f"(LPT {fmt(bound['lpt_makespan_s'])})")
        cells = []
        for library in libraries:
            value = values.get(library)
            ratio = f" ({times(value / base)})" if value is not None and base else ""
            cells.append(fmt(value) + ratio)
        target = target_text(row, base_name) + met(row, values.get("wren"), base)
        lines.append("| " + " | ".join([row.label, *cells, base_name, target]) + " |")
    return "\n".join(lines)
