"""The runtime image name rule (`wren.ports.images`): lowercase `[registry/]user/name:tag`,
each rejection naming the problem and the fix."""

from __future__ import annotations

import re

import pytest
from wren import InvalidInputError
from wren.ports import check_image_name, image_registry
from wren.ports.images import suggest_image_name


@pytest.mark.parametrize("name", [
    "jdoe/wren-runtime:0.1", "jdoe/wren_runtime:py3.11-1", "org/team/runtime:latest",
    "127.0.0.1:5000/jdoe/rt:1", "us.icr.io/ns/rt:2", "localhost/wren/base:bookworm",
    "jdoe/a__b:1", "jdoe/a--b:_x",
])
def test_valid_names_pass(name: str) -> None:
    assert check_image_name(name) == name


@pytest.mark.parametrize(("name", "message"), [
    ("JDoe/Runtime:1", "must be lowercase: use 'jdoe/runtime:1'"),
    ("Bad Name", "must be lowercase user/name:tag, e.g. 'jdoe/bad-name:latest'"),
    ("JDoe/My Runtime:V1", "must be lowercase: use 'jdoe/my-runtime:v1'"),
    ("jdoe/runtime", "has no tag, e.g. 'jdoe/runtime:latest'"),
    ("jdoe/runtime:", "is not valid"),
    ("runtime:1", "has no user part, e.g. 'jdoe/runtime:1'"),
    ("localhost:5000/runtime:1", "has no user part"),
    ("jdoe/-runtime:1", "is not valid"),
    ("jdoe//runtime:1", "is not valid"),
    ("jdoe/run time:1", "is not valid"),
    ("jdoe/runtime:.1", "is not valid"),
    ("jdoe/runtime:1@sha256:abc", "has a digest"),
    ("", "is required"),
])
def test_invalid_names_say_what_is_wrong(name: str, message: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        check_image_name(name)
    assert message in str(caught.value)
    proposed = re.search(r"(?:use|e\.g\.) '([^']+)'", str(caught.value))
    assert proposed is not None, caught.value
    assert check_image_name(proposed.group(1)) == proposed.group(1)  # only valid proposals


@pytest.mark.parametrize("name", ["Bad Name", "JDoe/rt:1", "a b c", "X:Y", "ü/ä:1",
                                  "Host.IO/A/B:C", "jdoe/rt", "-/-:-", "UPPER", "a//b:1"])
def test_suggestions_are_valid_names(name: str) -> None:
    suggestion = suggest_image_name(name)
    assert suggestion is None or check_image_name(suggestion[0]) == suggestion[0]
    assert suggest_image_name("Bad Name") == ("jdoe/bad-name:latest", True)


@pytest.mark.parametrize(("name", "registry"), [
    ("jdoe/rt:1", None), ("127.0.0.1:5000/jdoe/rt:1", "127.0.0.1:5000"),
    ("us.icr.io/ns/rt:1", "us.icr.io"), ("localhost/w/b:1", "localhost"), ("rt:1", None),
])
def test_registry_of_a_name(name: str, registry: str | None) -> None:
    assert image_registry(name) == registry
