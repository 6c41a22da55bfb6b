"""The drop-in benches of `hatch run bench:dropin`: `wren.multiprocessing.Pool.map`
(bench/dropin_pool.py) and, when present, `wren.concurrent.futures`' executor map
(bench/dropin_futures.py), each against the standard library in the same run. Figures are
printed and saved as JSON under bench/results/; the exit status is 1 when a ratio misses
its target.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
RESULTS = HERE / "results"


def _load(name: str) -> Any:
    path = HERE / f"{name}.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # the benches' functions must pickle by reference
    spec.loader.exec_module(module)
    return module


def _ratios(report: Any) -> list[tuple[str, float, float]]:
    """(name, ratio, target) of every `*ratio` figure with a target in a report."""
    if not isinstance(report, dict):
        return []
    target = report.get("target_ratio")
    checked = report.get("checked")  # the ratios the target is for (default: all)
    found = [(k, float(v), float(target)) for k, v in report.items()
             if k.endswith("ratio") and k != "target_ratio" and target is not None
             and isinstance(v, (int, float)) and (checked is None or k in checked)]
    for value in report.values():
        found.extend(_ratios(value))
    return found


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    report: dict[str, Any] = {"python": sys.version.split()[0]}
    for name in ("dropin_pool", "dropin_futures"):
        module = _load(name)
        if module is None:
            print(f"{name}: bench/{name}.py not present, skipped")
            continue
        report[name] = module.main(argv)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"dropin-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2, default=str))
    print(f"saved {out}")
    misses = [(k, r, t) for k, r, t in _ratios(report) if r > t]
    for key, ratio, target in misses:
        print(f"MISSED: {key} = {ratio:.2f} > {target:g}")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
