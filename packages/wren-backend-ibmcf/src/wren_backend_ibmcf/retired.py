"""IBM Cloud Functions is retired: a one-time notice when `ibm_cf` talks to IBM's endpoints.

IBM deprecated Cloud Functions (no new entities since 28 December 2023, existing ones removed
after October 2024) and names IBM Cloud Code Engine as its successor. The `ibm_cf` backend
stays for existing users and for OpenWhisk deployments that speak IBM's API; when its endpoint
is one of IBM's own (`<region>.functions.cloud.ibm.com`, `<region>.functions.appdomain.cloud`)
wren logs one warning per process that points to `code_engine` and to `openwhisk`. It is a
warning, never an error: a namespace IBM still serves keeps working.
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import urlsplit

logger = logging.getLogger("wren")

#: Host suffixes of IBM Cloud Functions' public API endpoints.
IBM_FUNCTIONS_HOSTS = (".functions.cloud.ibm.com", ".functions.appdomain.cloud")

NOTICE = ("IBM Cloud Functions is retired by IBM (no new entities since December 2023; "
          "existing namespaces are being removed). The `ibm_cf` backend is kept for existing "
          "users: move to IBM Cloud Code Engine with backend `code_engine`, or to a self-hosted "
          "Apache OpenWhisk with backend `openwhisk` (see docs/backends/ibm_cf.md)")

_lock = threading.Lock()
_warned = False


def is_ibm_functions(endpoint: str) -> bool:
    """True when `endpoint` is one of IBM Cloud Functions' own API hosts."""
    host = (urlsplit(endpoint).hostname or "").lower()
    return any(host.endswith(suffix) for suffix in IBM_FUNCTIONS_HOSTS)


def warn_if_retired(endpoint: str) -> bool:
    """Log the retirement notice once per process when `endpoint` is IBM's; True if it was
    logged by this call."""
    global _warned
    if not is_ibm_functions(endpoint):
        return False
    with _lock:
        if _warned:
            return False
        _warned = True
    logger.warning(NOTICE)
    return True


def _reset() -> None:
    """Forget that the notice was logged (for tests)."""
    global _warned
    with _lock:
        _warned = False
