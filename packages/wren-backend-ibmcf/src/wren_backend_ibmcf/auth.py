"""Credentials for the OpenWhisk REST API: Basic auth, or IBM Cloud IAM bearer tokens.

`BasicAuth` sends `uuid:key` (vanilla OpenWhisk, Cloud Foundry-based IBM namespaces).
`IamAuth` trades an IAM API key for a bearer token at the IAM token endpoint, renews it
before it expires (when less than a fifth of its life, at most five minutes, is left), and
renews it at once when the API answers 401 with the token in use. Both are thread-safe: many
invoker threads share one credential and at most one of them fetches a new token.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from typing import Any

import requests
from wren import ConfigError, WrenError

GRANT_TYPE = "urn:ibm:params:oauth:grant-type:apikey"


class AuthError(WrenError):
    """The platform rejected the credentials."""


class BasicAuth:
    """HTTP Basic auth with an OpenWhisk `uuid:key`."""

    kind = "Basic"

    def __init__(self, api_key: str) -> None:
        if ":" not in api_key:
            raise ConfigError("`api_key` must be the `uuid:key` pair OpenWhisk gave you "
                              "(see `wsk property get --auth`)")
        self._header = "Basic " + base64.b64encode(api_key.encode()).decode()
        self.identity = hashlib.sha256(api_key.encode()).hexdigest()[:16]

    def header(self) -> str:
        return self._header

    def renew(self, stale: str) -> bool:
        """A rejected Basic key cannot be renewed."""
        return False


class IamAuth:
    """IAM bearer tokens for an API key, renewed before expiry and after a 401."""

    kind = "IAM"

    def __init__(self, api_key: str, endpoint: str, session: requests.Session | None = None,
                 verify: bool = True) -> None:
        self.api_key, self.endpoint, self.verify = api_key, endpoint, verify
        self.identity = hashlib.sha256(api_key.encode()).hexdigest()[:16]
        self.session = session or requests.Session()
        self._lock = threading.Lock()
        self._header = ""
        self._renew_at = 0.0
        self.fetched = 0

    def header(self) -> str:
        if time.time() >= self._renew_at:
            with self._lock:
                if time.time() >= self._renew_at:
                    self._fetch()
        return self._header

    def renew(self, stale: str) -> bool:
        """Fetch a new token unless another thread already replaced `stale`."""
        with self._lock:
            if self._header == stale:
                self._fetch()
        return True

    def _fetch(self) -> None:
        try:
            answer = self.session.post(
                self.endpoint, data={"grant_type": GRANT_TYPE, "apikey": self.api_key},
                headers={"Accept": "application/json"}, timeout=30, verify=self.verify)
        except requests.RequestException as exc:
            raise AuthError(f"cannot reach the IAM token endpoint {self.endpoint}: {exc}; "
                            "check `iam_endpoint` and the network") from exc
        body = _json(answer)
        if answer.status_code != 200 or "access_token" not in body:
            detail = body.get("errorMessage") or body.get("error") or answer.text[:200]
            raise AuthError(f"IAM refused the API key ({answer.status_code}: {detail}); fix "
                            "`iam_api_key` (in the `ibm` or `ibm_cf` config section)")
        lifetime = float(body.get("expires_in") or 3600)
        expires = float(body.get("expiration") or time.time() + lifetime)
        self._header = f"{body.get('token_type') or 'Bearer'} {body['access_token']}"
        self._renew_at = expires - min(300.0, 0.2 * lifetime)
        self.fetched += 1


def _json(answer: requests.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
