"""wren's `k8s` compute backend: maps as indexed `batch/v1` Jobs on any Kubernetes cluster.

Each wren job is one Job with `completionMode: Indexed` whose pods run wren's runtime image
(this package's runtime/); a pod's `JOB_COMPLETION_INDEX` picks its task from the job's sealed
task list in storage, and the executor key and storage credentials reach it only through a
Kubernetes Secret. A pod killed for memory or evicted becomes an error on its calls.
"""

from typing import TYPE_CHECKING

from wren._lazy import lazy_exports

from wren_backend_k8s.__about__ import __version__

if TYPE_CHECKING:
    from wren_backend_k8s.cluster import Cluster
    from wren_backend_k8s.compute import K8sCompute
    from wren_backend_k8s.errors import K8sError

__all__ = ["Cluster", "K8sCompute", "K8sError", "__version__"]

# Imported on first use: the kubernetes client is large and only the client side needs it.
_LAZY = {"Cluster": ".cluster", "K8sCompute": ".compute", "K8sError": ".errors"}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
