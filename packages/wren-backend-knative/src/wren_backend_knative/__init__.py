"""wren's `knative` compute backend: maps on Knative Serving, on any Kubernetes cluster.

Runtimes are Knative Services running wren's runtime image (this package's runtime/); each task is
one asynchronous request through the cluster's ingress gateway, and the runtime's storage
credentials come from a Kubernetes Secret.
"""

from typing import TYPE_CHECKING

from wren._lazy import lazy_exports

from wren_backend_knative.__about__ import __version__

if TYPE_CHECKING:
    from wren_backend_knative.cluster import Cluster
    from wren_backend_knative.compute import KnativeCompute
    from wren_backend_knative.errors import KnativeError, RuntimeDeployError
    from wren_backend_knative.runtimes import RuntimeManager

__all__ = ["Cluster", "KnativeCompute", "KnativeError", "RuntimeDeployError", "RuntimeManager",
           "__version__"]

# Imported on first use: the kubernetes client is large and only the client side needs it.
_LAZY = {"Cluster": ".cluster", "KnativeCompute": ".compute", "KnativeError": ".errors",
         "RuntimeDeployError": ".errors", "RuntimeManager": ".runtimes"}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
