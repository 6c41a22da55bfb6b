"""Wheels for runtime build contexts: the requirement closure of installed distributions,
and repacking an installed distribution into a wheel that pip accepts as it is."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from wren_cli.wheels import WheelError, repack, requirement_closure


def test_closure_follows_requirements_without_extras() -> None:
    names = {d.metadata["Name"].lower() for d in requirement_closure(["wren-core"])}
    assert {"wren-core", "attrs", "cloudpickle", "pyyaml", "tqdm"} <= names
    assert "pytest" not in names  # only in the `testing` extra


def test_closure_names_what_is_missing() -> None:
    with pytest.raises(WheelError, match="no-such-dist-for-wren is not installed here"):
        requirement_closure(["no-such-dist-for-wren"])


@pytest.mark.parametrize("name", ["attrs", "PyYAML"])
def test_repacked_wheel_matches_its_record(tmp_path: Path, name: str) -> None:
    dist = metadata.distribution(name)
    wheel = repack(dist, tmp_path)
    assert wheel.name.startswith(f"{name.lower()}-{dist.version}-")
    with zipfile.ZipFile(wheel) as zipped:
        info = next(n.split("/")[0] for n in zipped.namelist() if ".dist-info/" in n)
        record = list(csv.reader(io.StringIO(zipped.read(f"{info}/RECORD").decode())))
        listed = {row[0] for row in record}
        assert listed == set(zipped.namelist())
        for path, digest, size in record:
            if path.endswith("RECORD"):
                continue
            data = zipped.read(path)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert digest == "sha256=" + expected.decode() and int(size) == len(data)
        assert not any("__pycache__" in n or n.endswith(".pyc") for n in listed)
        assert f"{info}/WHEEL" in listed and f"{info}/INSTALLER" not in listed
        tags = wheel.name[:-4].split("-")[2:]
        wheel_meta = zipped.read(f"{info}/WHEEL").decode()
        for line in wheel_meta.splitlines():
            if line.startswith("Tag:"):
                python, abi, platform = line.split(":", 1)[1].strip().split("-")
                assert python in tags[0].split(".") and abi in tags[1].split(".")
                assert platform in tags[2].split(".")
