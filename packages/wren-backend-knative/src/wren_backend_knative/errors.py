"""Errors of the `knative` backend, each naming the problem and the fix."""

from __future__ import annotations

from wren import WrenError


class KnativeError(WrenError):
    """The cluster refused or could not be reached, or Knative is missing."""


class RuntimeDeployError(KnativeError):
    """A runtime's Knative Service did not become Ready; the message quotes its conditions."""
