"""The runtime's bearer token: made random, read once from the environment, checked exactly."""

from __future__ import annotations

import pytest
from wren_backend_knative.ingress import Route
from wren_backend_knative.runtime_auth import (
    TOKEN_ENV,
    MissingTokenError,
    authorization,
    is_authorized,
    new_token,
    runtime_token,
)


def test_tokens_are_long_and_fresh() -> None:
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50
    assert all(len(token) >= 43 for token in tokens)


def test_the_token_is_taken_out_of_the_environment() -> None:
    token = new_token()
    environ = {TOKEN_ENV: f" {token}\n", "OTHER": "x"}
    assert runtime_token(environ) == token
    assert environ == {"OTHER": "x"}  # no worker process inherits it


@pytest.mark.parametrize("environ", [{}, {TOKEN_ENV: ""}, {TOKEN_ENV: "short-token"}])
def test_a_missing_or_short_token_is_refused(environ: dict[str, str]) -> None:
    with pytest.raises(MissingTokenError, match=f"{TOKEN_ENV} .*refuses to start"):
        runtime_token(environ)


def test_only_the_bearer_token_itself_is_authorized() -> None:
    token = new_token()
    assert is_authorized(authorization(token)["Authorization"], token)
    assert is_authorized(f"bearer {token}", token)
    for header in (None, "", token, f"Bearer {token}x", f"Bearer {token[:-1]}",
                   f"Basic {token}", "Bearer ", f"Bearer {new_token()}"):
        assert not is_authorized(header, token), header


def test_a_route_never_shows_its_token() -> None:
    token = new_token()
    route = Route("svc", "http://gw:80", "svc.ns.example.com", 256, token)
    assert token not in repr(route) and token not in str(route)
