"""What Azure says about a Container App's revision, read so that a failure is an error at once.

Each deploy of a Container App makes a revision; Azure provisions it (`provisioningState`:
Provisioning, then Provisioned or Failed) and starts its replicas (`runningState`: Running,
Processing, Degraded, Failed, ...). A revision whose image cannot be pulled, or whose
container cannot start, ends in Failed with the platform's reason in `provisioningError`
(and, since API 2024, `runningStateDetails`). `RevisionState` holds those fields;
`RevisionFailed` is the error that names the revision, quotes the reason and says where to
look next.
"""

from __future__ import annotations

from typing import Any

import attrs
from wren import WrenError

_FAILED = "failed"
_READY = "provisioned"


def enum_text(value: Any) -> str:
    """A state the SDK gives as a string or as one of its str enums ("" for None)."""
    return "" if value is None else str(getattr(value, "value", value))


class RevisionFailed(WrenError):
    """Azure reports the runtime's revision as failed (image pull, start-up, ...)."""


@attrs.frozen
class RevisionState:
    """The state of one revision as ARM reports it."""

    name: str
    provisioning: str = ""
    running: str = ""
    health: str = ""
    reason: str = ""

    @classmethod
    def of(cls, revision: Any) -> RevisionState:
        def text(field: str) -> str:
            return enum_text(getattr(revision, field, None))

        reasons = [text("provisioning_error"), text("running_state_details")]
        return cls(name=text("name"), provisioning=text("provisioning_state"),
                   running=text("running_state"), health=text("health_state"),
                   reason="; ".join(dict.fromkeys(r for r in reasons if r)))

    @property
    def failed(self) -> bool:
        return _FAILED in (self.provisioning.lower(), self.running.lower())

    @property
    def ready(self) -> bool:
        return self.provisioning.lower() == _READY and not self.failed

    def describe(self) -> str:
        states = ", ".join(f"{what} {value}" for what, value in (
            ("provisioning", self.provisioning), ("running", self.running),
            ("health", self.health)) if value)
        return f"revision {self.name!r} ({states or 'no state yet'})"

    def failure(self, app: str, resource_group: str | None) -> RevisionFailed:
        reason = self.reason or "Azure gave no reason"
        return RevisionFailed(
            f"{self.describe()} of Container App {app!r} failed: {reason}. Check the image "
            "name (`runtime`) and how the registry is reached (`docker_password` or "
            "`registry_identity` in section 'azure_containers'); the platform's own log: "
            f"az containerapp logs show --name {app} --resource-group {resource_group} "
            "--type system")
