"""Wheels of the wren distributions this client runs and of everything they require, for the
build context of a runtime image, so the image runs exactly what the client runs and its
build needs no package index.

A distribution installed from a wheel is repacked from the files its RECORD lists (compiled
extensions included). One installed in editable mode (a source checkout) is built with
`pip wheel`. Requirements are followed through the installed metadata, without extras.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from wren import WrenError

_SKIPPED_META = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}


class WheelError(WrenError):
    """A distribution cannot be turned into a wheel for a runtime image."""


def requirement_closure(names: Iterable[str]) -> list[metadata.Distribution]:
    """The installed distributions `names` and everything they require, each once."""
    seen: dict[str, metadata.Distribution] = {}
    queue: list[tuple[str, str | None]] = [(name, None) for name in names]
    while queue:
        name, wanted_by = queue.pop()
        key = canonicalize_name(name)
        if key in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            by = f" (required by {wanted_by})" if wanted_by else ""
            raise WheelError(f"{name}{by} is not installed here, so it cannot go into the "
                             f"runtime image; install it with: pip install {name}") from None
        seen[key] = dist
        for line in dist.requires or ():
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                queue.append((requirement.name, dist.metadata["Name"]))
    return sorted(seen.values(), key=lambda d: canonicalize_name(d.metadata["Name"]))


def editable_source(dist: metadata.Distribution) -> Path | None:
    """The source directory of an editable install, else None."""
    raw = dist.read_text("direct_url.json")
    if not raw:
        return None
    info = json.loads(raw)
    url = str(info.get("url", ""))
    if info.get("dir_info", {}).get("editable") and url.startswith("file://"):
        return Path(url[len("file://"):])
    return None


def _tags(wheel_meta: str) -> str:
    """The compressed tag set of a WHEEL file (`py3-none-any`, `cp311-cp311-a.b`)."""
    found = [line.split(":", 1)[1].strip() for line in wheel_meta.splitlines()
             if line.startswith("Tag:")]
    if not found:
        raise ValueError("no Tag lines")
    parts = [sorted({tag.split("-")[i] for tag in found}) for i in range(3)]
    return "-".join(".".join(p) for p in parts)


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(
        b"=").decode()


def repack(dist: metadata.Distribution, dest: Path) -> Path:
    """Write the installed distribution back into a wheel in `dest`."""
    name, version = dist.metadata["Name"], dist.version
    wheel_meta = dist.read_text("WHEEL")
    if not wheel_meta or dist.files is None:
        raise WheelError(f"{name} {version} was not installed from a wheel (no WHEEL or RECORD "
                         "file), so it cannot be repacked; reinstall it with pip")
    info_dir = next((f.parts[0] for f in dist.files if f.parts[0].endswith(".dist-info")), None)
    filename = f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}-{_tags(wheel_meta)}.whl"
    target = dest / filename
    records: list[tuple[str, str, str]] = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as wheel:
        for file in dist.files:
            path = str(file)
            if (path.startswith("..") or "__pycache__" in file.parts or path.endswith(".pyc")
                    or (file.parts[0] == info_dir and file.name in _SKIPPED_META)):
                continue
            source = Path(str(dist.locate_file(file)))
            if not source.is_file():
                continue
            data = source.read_bytes()
            wheel.writestr(path, data)
            records.append((path, _digest(data), str(len(data))))
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerows(records)
        writer.writerow((f"{info_dir}/RECORD", "", ""))
        wheel.writestr(f"{info_dir}/RECORD", buffer.getvalue())
    return target


def build_from_source(source: Path, dest: Path) -> Path:
    """Build the wheel of a source checkout with pip."""
    before = set(dest.glob("*.whl"))
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                             "--wheel-dir", str(dest), str(source)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        tail = " ".join((result.stderr or result.stdout).strip().splitlines()[-3:])
        raise WheelError(f"could not build a wheel of {source}: {tail}")
    built = set(dest.glob("*.whl")) - before
    if len(built) != 1:
        raise WheelError(f"pip built {len(built)} wheels from {source}, expected one")
    return built.pop()


def write_wheels(names: Iterable[str], dest: Path) -> list[Path]:
    """Wheels of `names` and of everything they require, written into `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for dist in requirement_closure(names):
        source = editable_source(dist)
        written.append(build_from_source(source, dest) if source is not None
                       else repack(dist, dest))
    return written
