"""Schema validation for the Kubernetes API test double (see `tests.doubles.kube_api`).

Every object a request writes (created, replaced, or the result of a patch) is checked with
`kubernetes-validate` against the Kubernetes schema of its kind, in the strict form that
refuses unknown fields, for the Kubernetes version the double reports. A field the real API
would refuse is a 422 `Invalid` answer naming the field, as the API server gives. Kinds with
no published schema (Knative's custom resources) are left to their own admission checks.
"""

from __future__ import annotations

import functools
from typing import Any

import kubernetes_validate
import kubernetes_validate.utils

from tests.doubles.kube_objects import ApiError

#: The Kubernetes version the double stands for (its `/version/` answer).
KUBERNETES_VERSION = "1.31"
# The schemas are read from the package's files once, not on every request.
kubernetes_validate.utils.schema_contents = functools.lru_cache(maxsize=None)(  # type: ignore[assignment]
    kubernetes_validate.utils.schema_contents)


def validate_object(body: dict[str, Any]) -> None:
    """Raise `ApiError` (422) unless `body` is valid for its kind."""
    try:
        kubernetes_validate.validate(body, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        return
    except kubernetes_validate.ValidationError as error:
        path = ".".join(str(part) for part in error.path) or "(root)"
        kind, group = body.get("kind"), str(body.get("apiVersion", "")).rpartition("/")[0]
        name = (body.get("metadata") or {}).get("name")
        raise ApiError(422, "Invalid", f'{kind}.{group or "core"} "{name}" is invalid: '
                       f"{path}: Invalid value: {error.message}",
                       {"name": name, "group": group, "kind": kind}) from None
