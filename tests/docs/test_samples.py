"""Every code sample of the documentation works as written (issue 18).

Each ```python block of docs/**/*.md and README.md runs as a script in a fresh Python
process on the localhost backend (no configuration, as a new user's first try), in its own
home, temp and working directory, and must exit 0; its own asserts are the checks. Blocks
that cannot run here carry a marker saying why (tests/docs/samples.py). Each ```yaml block is
validated against the config schemas of the installed packages, section by section.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.docs.samples import REPO, Sample, all_samples, samples_in

ALL = all_samples()
PYTHON = [s for s in ALL if s.lang == "python" and s.kind != "excerpt"]
YAML = [s for s in ALL if s.lang == "yaml"]
EXCERPTS = [s for s in ALL if s.kind == "excerpt"]
#: Skipped samples a page may have: a page whose samples all need a cloud still shows one
#: runnable sample (its config is checked as YAML), or it says why in prose.
MAX_SKIPPED_PER_PAGE = 3


def _ids(samples: list[Sample]) -> list[str]:
    return [s.id for s in samples]


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("sample", PYTHON, ids=_ids(PYTHON))
def test_python_sample_runs(sample: Sample, tmp_path: Path) -> None:
    if sample.kind == "skip":
        pytest.skip(f"{sample.id}: {sample.arg}")
    home, tmp, work = tmp_path / "home", tmp_path / "tmp", tmp_path / "work"
    for directory in (home / ".wren", tmp, work):
        directory.mkdir(parents=True)
    tmp.chmod(0o700)
    # The environment, not the sample: no shared pool server outliving the sample.
    (home / ".wren" / "config").write_text("localhost:\n  pool_idle_timeout: 0\n")
    script = work / "sample.py"
    script.write_text(sample.code, encoding="utf-8")
    env = {**os.environ, "HOME": str(home), "TMPDIR": str(tmp), "MPLBACKEND": "Agg"}
    for name in ("WREN_CONFIG_FILE", "LITHOPS_CONFIG_FILE", "PYTHONPATH"):
        env.pop(name, None)
    done = subprocess.run([sys.executable, str(script)], cwd=work, env=env, text=True,
                          capture_output=True, timeout=240, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, (
        f"the sample at {sample.id} failed (exit {done.returncode}):\n{sample.code}\n"
        f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}")


@pytest.mark.parametrize("sample", EXCERPTS, ids=_ids(EXCERPTS))
def test_excerpt_is_verbatim(sample: Sample) -> None:
    source = (REPO / sample.arg).read_text(encoding="utf-8")
    assert sample.code.rstrip("\n") in source, (
        f"{sample.id} is no longer an excerpt of {sample.arg}: update the page")


def test_markers_are_known_and_explained() -> None:
    marked = [s for s in ALL if s.kind]
    for sample in marked:
        assert sample.kind in ("skip", "excerpt"), f"{sample.id}: unknown marker {sample.kind!r}"
        if sample.kind == "skip":
            assert sample.arg.startswith("(") and sample.arg.endswith(")") and len(
                sample.arg) > 10, f"{sample.id}: say why it cannot run: (needs ...)"
        else:
            assert (REPO / sample.arg).is_file(), f"{sample.id}: no file {sample.arg}"
    pages = Counter(s.path for s in PYTHON if s.kind == "skip")
    crowded = [str(page.relative_to(REPO)) for page, n in pages.items()
               if n > MAX_SKIPPED_PER_PAGE]
    assert not crowded, f"more than {MAX_SKIPPED_PER_PAGE} skipped samples in {crowded}"


def test_the_pages_have_runnable_samples() -> None:
    runnable = [s for s in PYTHON if not s.kind]
    pages = {s.path.name for s in runnable}
    assert len(runnable) >= 10
    assert {"README.md", "getting-started.md", "localhost.md"} <= pages


@pytest.mark.parametrize("sample", YAML, ids=_ids(YAML))
def test_yaml_config_sample_is_valid(sample: Sample) -> None:
    from wren import plugins
    from wren.config import reference

    documents = list(yaml.safe_load_all(sample.code))
    if all(isinstance(d, dict) and "apiVersion" in d and "kind" in d for d in documents):
        return  # a Kubernetes manifest (e.g. RBAC for a backend): parsing it is the check
    sections = documents[0] if len(documents) == 1 else None
    assert isinstance(sections, dict) and sections, f"{sample.id}: not a config mapping"
    schemas, aliases = reference.section_schemas(), reference.section_aliases()
    for name, body in sections.items():
        section = "wren" if name == "lithops" else aliases.get(name, name)
        assert section in schemas, f"{sample.id}: unknown config section {name!r}"
        values = schemas[section].validate(body)  # raises ConfigError naming the key
        if section == "wren":
            for key, group in (("backend", plugins.COMPUTE_GROUP),
                               ("storage", plugins.STORAGE_GROUP)):
                assert values[key] in plugins.registered(group), (
                    f"{sample.id}: {key} {values[key]!r} is not installed")


def test_extraction_sees_markers_and_indented_blocks(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(textwrap.dedent("""\
        text
        <!-- sample: skip (needs a cloud) -->
        ```python
        print(1)
        ```
        - item

          ```yaml
          wren:
            backend: localhost
          ```

        ```
        plain
        ```
        """))
    first, second = samples_in(page)
    assert (first.lang, first.kind, first.arg, first.code) == ("python", "skip",
                                                               "(needs a cloud)", "print(1)\n")
    assert (second.lang, second.kind, second.line) == ("yaml", "", 8)
    assert yaml.safe_load(second.code) == {"wren": {"backend": "localhost"}}
