"""Profile of wren's first-job path in a fresh process, for issue 16's before/after:
`import wren`, `FunctionExecutor()` and `call_async(noop, 1).result()`, sampled by
pyinstrument in this (client) process only; worker processes are not profiled.

    hatch run bench:profile                  # prints the call tree, saves it
    hatch run bench:profile --interval 0.0005 --label after-zygote

This script is itself the fresh process: the profiler starts before wren is first imported
(pyinstrument's own import comes before). It prints the phases' wall times, the machine's
load (`uptime`) and pyinstrument's call tree, and saves under bench/results/
`profile-first-job-<label>-<time>.txt` (the same text) and `.pyisession` (the samples;
`pyinstrument --load <file>` renders them again, e.g. with `-r html`).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pyinstrument import Profiler

RESULTS = Path(__file__).resolve().parent / "results"


def noop(x: Any) -> Any:
    return x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval", type=float, default=0.001, help="sampling interval (s)")
    parser.add_argument("--label", default="", help="a word for the saved file names")
    parser.add_argument("--show-all", action="store_true",
                        help="keep library frames pyinstrument hides by default")
    args = parser.parse_args()
    if "wren" in sys.modules:
        raise SystemExit("wren is already imported: the profile would miss the import")
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    profiler = Profiler(interval=args.interval)
    marks = [("start", time.perf_counter())]
    profiler.start()
    import wren

    marks.append(("import wren", time.perf_counter()))
    fexec = wren.FunctionExecutor()
    marks.append(("FunctionExecutor()", time.perf_counter()))
    assert fexec.call_async(noop, 1).result() == 1
    marks.append(("call_async(noop, 1).result()", time.perf_counter()))
    fexec.close()
    marks.append(("close()", time.perf_counter()))
    profiler.stop()
    phases = [f"  {name:<32} {(at - marks[i][1]) * 1000:8.1f} ms"
              for i, (name, at) in enumerate(marks[1:])]
    tree = profiler.output_text(unicode=False, color=False, show_all=args.show_all)
    text = "\n".join([
        f"first-job profile: python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"wren {wren.__version__}, interval {args.interval} s",
        f"load: {uptime}", "phases (wall time, while profiled):", *phases,
        f"  {'total':<32} {(marks[-1][1] - marks[0][1]) * 1000:8.1f} ms", "", tree])
    print(text)
    RESULTS.mkdir(exist_ok=True)
    stem = "-".join(part for part in ("profile-first-job", args.label,
                                      time.strftime("%Y%m%d-%H%M%S")) if part)
    (RESULTS / f"{stem}.txt").write_text(text)
    profiler.last_session.save(str(RESULTS / f"{stem}.pyisession"))
    print(f"saved {RESULTS / stem}.txt and .pyisession")


if __name__ == "__main__":
    main()
