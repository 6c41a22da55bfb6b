"""Errors of the `k8s` backend, each naming the problem and the fix."""

from __future__ import annotations

from wren import WrenError


class K8sError(WrenError):
    """The cluster refused or could not be reached, or a runtime could not be validated."""
