"""What every port shares: a registered name, a declared capability set, and a clear error
for optional operations an adapter does not offer."""

from __future__ import annotations

from typing import ClassVar, NoReturn

from wren._errors import NotSupportedError


class Port:
    """Base of the four ports. Subclasses set `name` (the entry-point name users type) and
    `capabilities` (a frozenset of the strings in `wren.ports.capabilities`)."""

    name: ClassVar[str] = ""
    capabilities: ClassVar[frozenset[str]] = frozenset()

    def supports(self, capability: str) -> bool:
        """True when this adapter declares `capability`."""
        return capability in self.capabilities

    def require(self, capability: str, operation: str) -> None:
        """Raise `NotSupportedError` for `operation` unless `capability` is declared."""
        if capability not in self.capabilities:
            self.unsupported(operation)

    def unsupported(self, operation: str, hint: str = "") -> NoReturn:
        raise NotSupportedError(operation, self.name or type(self).__name__, hint)
