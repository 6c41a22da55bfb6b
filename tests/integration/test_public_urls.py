"""Public URLs as map inputs, against a real HTTP server on loopback (tests/servers/) that
accepts byte ranges, refuses them, or advertises them and ignores them: chunks are read with
Range requests in the first case, in one call for the whole object in the second, and by
skipping to the chunk in the third; lines are exact in all three."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import wren
from wren.testing import functions as fn
from wren.testing.textdata import make_text, split_lines

from tests.servers.http_files import serve_files

MiB = 1 << 20


@pytest.fixture
def fexec(tmp_path: Path) -> Iterator[wren.FunctionExecutor]:
    with wren.FunctionExecutor(storage_dir=str(tmp_path / "storage"),
                               worker_processes=2) as executor:
        yield executor


@pytest.fixture(params=["ranges", "none", "ignored"])
def site(request: Any, tmp_path: Path) -> Iterator[tuple[str, Path, str]]:
    """`(base URL, request log, range mode)` of a server over a few text files."""
    root = tmp_path / "site"
    (root / "data").mkdir(parents=True)
    (root / "data" / "big.txt").write_bytes(make_text(3 * MiB + 500, seed=21,
                                                      long_line=MiB + 7))
    (root / "data" / "crlf.txt").write_bytes(make_text(50_000, seed=22, newline=b"\r\n",
                                                       final_newline=False))
    log = tmp_path / "requests.log"
    with serve_files(root, log, request.param) as base:
        yield base, log, request.param


def _requests(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_chunks_of_a_url_hold_exactly_its_lines(fexec: wren.FunctionExecutor,
                                                site: tuple[str, Path, str],
                                                tmp_path: Path) -> None:
    base, log, mode = site
    text = (tmp_path / "site" / "data" / "big.txt").read_bytes()
    futures = fexec.map(fn.chunk_lines, base + "/data/big.txt", chunk_size=MiB)
    chunks = fexec.get_result(futures)
    assert [line for chunk in chunks for line in chunk] == split_lines(text)
    gets = [r for r in _requests(log) if r["method"] == "GET"]
    if mode != "none":
        assert len(chunks) == 4
        status = 206 if mode == "ranges" else 200
        assert gets and all(r["status"] == status and r["range"] for r in gets)
        assert {f"bytes=0-{MiB - 1}", f"bytes={3 * MiB - 1}-{len(text) - 1}"} <= {
            r["range"] for r in gets}
    else:
        assert len(chunks) == 1
        assert len(gets) == 1 and gets[0]["range"] is None and gets[0]["status"] == 200


def test_url_chunks_know_their_url(fexec: wren.FunctionExecutor,
                                   site: tuple[str, Path, str], tmp_path: Path) -> None:
    base, _, mode = site
    url = base + "/data/crlf.txt"
    text = (tmp_path / "site" / "data" / "crlf.txt").read_bytes()
    infos = fexec.get_result(fexec.map(fn.chunk_info, [url, {"obj": url}], chunk_n=3))
    assert len(infos) == (2 if mode == "none" else 6)
    assert all(i["url"] == url and i["key"] is None and i["bucket"] is None for i in infos)
    lines = fexec.get_result(fexec.map(fn.chunk_lines, url, chunk_n=3, obj_newline="\r\n"))
    assert [line for chunk in lines for line in chunk] == split_lines(text, b"\r\n")
    exact = fexec.get_result(fexec.map(fn.chunk_bytes, url, chunk_n=3, obj_newline=None))
    assert b"".join(exact) == text


def test_unreadable_urls_fail_before_anything_runs(fexec: wren.FunctionExecutor,
                                                   site: tuple[str, Path, str]) -> None:
    base, _, _ = site
    with pytest.raises(wren.InvalidInputError, match="HTTP 404"):
        fexec.map(fn.chunk_lines, [base + "/data/big.txt", base + "/data/nope.txt"])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with pytest.raises(wren.InvalidInputError, match="cannot reach"):
        fexec.map(fn.chunk_lines, f"http://127.0.0.1:{closed}/x.txt")
    assert fexec.futures == []
