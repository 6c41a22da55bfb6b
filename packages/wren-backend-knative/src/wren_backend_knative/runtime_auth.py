"""The bearer token that keeps a Knative runtime to its owner: made, carried and checked here.

A runtime runs whatever task it is sent, in a worker that can read the storage credentials, so
it must know who sends. When wren deploys a runtime it makes a random token and keeps it in
the runtime's Kubernetes Secret (key `runtime-token`, next to the storage settings); the
Service hands it to the runtime as `WREN_RUNTIME_TOKEN` through a `secretKeyRef`, and any
client that can deploy the runtime (and so read its Secret) reads it back from there. Every
request that runs or describes something carries `Authorization: Bearer <token>`, which the
runtime compares in constant time.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import MutableMapping

#: The environment variable that carries the token into the runtime.
TOKEN_ENV = "WREN_RUNTIME_TOKEN"
#: The key of the token in the runtime's Secret.
TOKEN_KEY = "runtime-token"
#: Shorter tokens are refused: a token is random and secret, not a password.
MIN_TOKEN_LENGTH = 32


class MissingTokenError(RuntimeError):
    """The runtime was started without a usable `WREN_RUNTIME_TOKEN`."""


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def authorization(token: str) -> dict[str, str]:
    """The header that authenticates a request with `token`."""
    return {"Authorization": f"Bearer {token}"}


def is_authorized(header: str | None, token: str) -> bool:
    """Whether an `Authorization` header value carries `token` (constant-time comparison)."""
    scheme, _, given = (header or "").strip().partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                              token.encode())


def runtime_token(environ: MutableMapping[str, str] | None = None) -> str:
    """The callers' token, taken out of `environ` (default `os.environ`) so that no worker
    process inherits it; `MissingTokenError` when it is missing or too short."""
    environ = os.environ if environ is None else environ
    token = (environ.pop(TOKEN_ENV, None) or "").strip()
    if len(token) < MIN_TOKEN_LENGTH:
        problem = "is not set" if not token else f"is shorter than {MIN_TOKEN_LENGTH} characters"
        raise MissingTokenError(
            f"{TOKEN_ENV} {problem}: wren's Knative runtime refuses to start without a token "
            "for its callers, so that nobody else can run code in it. wren sets it from the "
            "runtime's Secret when it deploys the runtime; to run it by hand, set it to a "
            f"random string of at least {MIN_TOKEN_LENGTH} characters (e.g. `python3 -c "
            "'import secrets; print(secrets.token_urlsafe(32))'`) and send "
            "`Authorization: Bearer <token>`")
    return token
