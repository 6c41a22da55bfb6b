"""`RuntimeInfo`: what a runtime offers, as the runtime itself reports it, and its JSON form.

Every runtime describes itself with `wren.worker.metadata.runtime_metadata()` and every
client reads that with `RuntimeInfo.decode`, whatever carries the bytes (an HTTP answer, an
activation result, a blob). The document is data, never a pickle, and names its format
(`protocol`, `RUNTIME_PROTOCOL`): a document of another format, or not a JSON object, is a
`RuntimeMismatchError` naming both wren versions where it can. `python_version` is
`"<major>.<minor>"` of the runtime's interpreter (e.g. `"3.11"`), which must equal the
client's for pickled functions to load; `preinstalled_modules` are the top-level names the
runtime can import, so a client ships only the modules a runtime lacks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

from wren._errors import RuntimeMismatchError

#: Format of the runtime metadata document; raised when a field changes meaning.
RUNTIME_PROTOCOL = 1


@attrs.frozen
class RuntimeInfo:
    """What a runtime offers, as read from the runtime itself."""

    name: str
    python_version: str
    wren_version: str
    preinstalled_modules: frozenset[str] = frozenset()
    #: Anything else the runtime says about itself (full Python version, worker processes).
    extra: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"protocol": RUNTIME_PROTOCOL, "name": self.name,
                "python_version": self.python_version, "wren_version": self.wren_version,
                "preinstalled_modules": sorted(self.preinstalled_modules), **self.extra}

    def encode(self) -> bytes:
        return json.dumps(self.to_dict()).encode()

    @classmethod
    def from_dict(cls, data: Any, name: str | None = None) -> RuntimeInfo:
        """Decode a runtime's answer; `name` (the client's name for the runtime) wins over
        the name the runtime gives itself."""
        if not isinstance(data, Mapping) or "python_version" not in data:
            raise RuntimeMismatchError(
                f"runtime {name or '?'} did not report its metadata ({data!r:.200}); is it "
                "a wren runtime?")
        version = data.get("protocol")
        if version != RUNTIME_PROTOCOL:
            from wren.__about__ import __version__

            raise RuntimeMismatchError(
                f"runtime {name or data.get('name') or '?'} runs wren "
                f"{data.get('wren_version', '?')}, whose runtime metadata (format "
                f"{version}) this client (wren {__version__}, format {RUNTIME_PROTOCOL}) "
                "cannot read; build and deploy the runtime with this client's wren")
        known = {"protocol", "name", "python_version", "wren_version", "preinstalled_modules"}
        return cls(name=str(name or data.get("name") or ""),
                   python_version=str(data["python_version"]),
                   wren_version=str(data["wren_version"]),
                   preinstalled_modules=frozenset(data.get("preinstalled_modules") or ()),
                   extra={k: v for k, v in data.items() if k not in known})

    @classmethod
    def decode(cls, raw: bytes | str, name: str | None = None) -> RuntimeInfo:
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise RuntimeMismatchError(f"runtime {name or '?'} answered metadata that is not "
                                       f"JSON ({exc})") from exc
        return cls.from_dict(data, name)
