"""A tiny installed distribution, `wren-backend-fake`, made on disk for the CLI tests: its
`fake` compute backend keeps deployed runtimes in memory (so the generic runtime verbs can be
checked without any platform), and its `plain` backend offers no runtime management at all.
`install(directory)` writes the module and its `.dist-info` (with the entry points) there."""

from __future__ import annotations

import textwrap
from pathlib import Path

MODULE = textwrap.dedent('''
    from typing import Any, ClassVar

    from wren import WrenError, __version__
    from wren.config import ConfigKey, ConfigSchema
    from wren.ports import ComputeBackend, RuntimeEntry, capabilities


    class PlainCompute(ComputeBackend):
        name = "plain"
        config_schema = ConfigSchema("plain", ())

        def invoke(self, tasks, listener):
            raise WrenError("the plain test backend runs nothing")


    class FakeCompute(PlainCompute):
        name = "fake"
        capabilities = frozenset({capabilities.RUNTIME_MANAGEMENT, capabilities.RUNTIME_BUILD})
        config_schema = ConfigSchema("fake", (ConfigKey("runtime_memory", int, 256),))
        deployed: ClassVar[dict[tuple[str, int], Any]] = {}
        calls: ClassVar[list[tuple[Any, ...]]] = []

        def default_runtime_name(self):
            return "fake/default-runtime:py3"

        def build_runtime(self, name, dockerfile=None, *, builder, **options):
            self.calls.append(("build", name, dockerfile, builder))
            builder.build(name, dockerfile)

        def deploy_runtime(self, name, memory=None, timeout=None):
            memory = memory or self.config["runtime_memory"]
            self.deployed[(name, memory)] = timeout
            return RuntimeEntry(name, memory, __version__, f"fake-{name}-{memory}")

        def _matching(self, name, memory=None):
            found = [key for key in self.deployed if key[0] == name
                     and memory in (None, key[1])]
            if not found:
                raise WrenError(f"runtime {name!r} is not deployed on the fake backend")
            return found

        def update_runtime(self, name):
            for key in self._matching(name):
                self.calls.append(("update", *key))

        def delete_runtime(self, name, memory=None):
            for key in self._matching(name, memory):
                del self.deployed[key]

        def list_runtimes(self):
            return [RuntimeEntry(name, memory, __version__, f"fake-{name}-{memory}")
                    for name, memory in sorted(self.deployed)]
''')

METADATA = "Metadata-Version: 2.1\nName: wren-backend-fake\nVersion: 0.1\n"
ENTRY_POINTS = textwrap.dedent("""
    [wren.compute_backends]
    fake = wren_backend_fake:FakeCompute
    plain = wren_backend_fake:PlainCompute
    broken = wren_backend_fake_gone:GoneCompute
""")


def install(directory: Path) -> None:
    (directory / "wren_backend_fake.py").write_text(MODULE)
    info = directory / "wren_backend_fake-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(METADATA)
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
