"""Trust of wren.multiprocessing's shared state, tested as an attacker who can write to
Redis but cannot run code on the client: nothing forged, moved or sealed under another
executor's key is ever unpickled (TamperedDataError), and neither the Redis password nor the
executor key travels with a pickled object or lands in storage: workers get the password
through the executor's secret channel (or their own config).
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import cloudpickle
import pytest
import redis
import wren.multiprocessing as mp
from wren import TamperedDataError
from wren.multiprocessing import context
from wren.multiprocessing.redis_settings import PASSWORD_ENV

from tests.servers.redis import RedisServer


class _Exploit:
    """A pickle that creates a file when it is loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, ...]:
        return (Path.touch, (self.marker,))


def _client(server: RedisServer) -> redis.Redis:
    return redis.Redis(port=server.port, password=server.password)


def test_pickled_objects_carry_no_secret(mp_redis: RedisServer) -> None:
    key = context.executor()._key
    objects = [mp.Queue(), *mp.Pipe(), mp.Value("i", 1), mp.Lock(), mp.Event(),
               mp.Manager().dict(a=1), mp.Manager().list([1])]
    for obj in objects:
        blob = cloudpickle.dumps(obj)
        assert mp_redis.password.encode() not in blob, obj
        assert key not in blob, obj


def test_forged_queue_item_is_refused_and_never_unpickled(mp_redis: RedisServer,
                                                          tmp_path: Path) -> None:
    q = mp.Queue()
    marker = tmp_path / "pwned"
    _client(mp_redis).rpush(q._name, pickle.dumps(_Exploit(marker)))
    with pytest.raises(TamperedDataError):
        q.get(timeout=5)
    _client(mp_redis).rpush(q._name, b"WRN1" + b"\0" * 32 + pickle.dumps(_Exploit(marker)))
    with pytest.raises(TamperedDataError):
        q.get(timeout=5)
    assert not marker.exists()
    q.put("fine")
    assert q.get(timeout=5) == "fine"


def test_item_moved_from_another_queue_is_refused(mp_redis: RedisServer) -> None:
    a, b = mp.Queue(), mp.Queue()
    a.put("for a only")
    client = _client(mp_redis)
    client.rpush(b._name, client.lpop(a._name))
    with pytest.raises(TamperedDataError):
        b.get(timeout=5)


def test_item_sealed_by_another_executor_is_refused(mp_redis: RedisServer) -> None:
    q = mp.Queue()
    q.put("from the first program")
    same_queue = pickle.loads(pickle.dumps(q))
    context.configure(config={"multiprocessing": mp_redis.config})  # a new executor key
    with pytest.raises(TamperedDataError):
        same_queue.get(timeout=5)


def test_forged_dict_list_value_and_pipe_data_are_refused(mp_redis: RedisServer,
                                                          tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    exploit = pickle.dumps(_Exploit(marker))
    client = _client(mp_redis)
    with mp.Manager() as manager:
        d = manager.dict(a=1, b=2)
        fields = client.hgetall(d._name)
        (fa, va), (fb, vb) = sorted(fields.items())
        client.hset(d._name, mapping={fa: vb, fb: va})  # values swapped between keys
        with pytest.raises(TamperedDataError):
            d["a"]
        client.hset(d._name, exploit, exploit)
        with pytest.raises(TamperedDataError):
            d.keys()
        items = manager.list([1])
        client.rpush(items._name, exploit)
        with pytest.raises(TamperedDataError):
            items[:]
        value = manager.Value("i", 1)
        client.set(value._name, exploit)
        with pytest.raises(TamperedDataError):
            _ = value.value
    reader, _writer = mp.Pipe(duplex=False)
    client.rpush(reader.key("b2a"), exploit)
    with pytest.raises(TamperedDataError):
        reader.recv()
    assert not marker.exists()


def put(q: mp.Queue) -> None:
    q.put("from the worker")


def test_no_password_or_key_in_anything_the_job_stores(redis_server: RedisServer,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    """A queue goes to a worker as an argument and a process's function; the worker gets
    the password through the secret channel, and nothing the jobs wrote to storage holds
    the password or the executor key."""
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    storage = tmp_path / "storage"
    context.configure(config={"multiprocessing": redis_server.config,
                              "wren": {"data_cleaner": False},
                              "localhost": {"storage_dir": str(storage)}})
    try:
        q = mp.Queue()
        p = mp.Process(target=put, args=(q,))
        p.start()
        p.join()
        assert p.exitcode == 0
        with mp.Pool(1) as pool:
            pool.starmap(produce_two, [(q,)])
        assert sorted(q.get(timeout=10) for _ in range(3)) == [
            "from the worker", "one", "two"]
        key = context.executor()._key
    finally:
        context.shutdown()
        context.configure()
    files = [f for f in storage.rglob("*") if f.is_file()]
    assert files, "the jobs stored nothing?"
    for path in files:
        data = path.read_bytes()
        assert redis_server.password.encode() not in data, path
        assert key not in data, path


def produce_two(q: mp.Queue) -> None:
    q.put("one")
    q.put("two")


_PROGRAM = textwrap.dedent("""
    import sys
    import wren.multiprocessing as mp

    def put(q):
        q.put("from the worker")

    if __name__ == "__main__":
        if len(sys.argv) > 2:
            mp.configure(config={"multiprocessing": {"url": sys.argv[1],
                                                     "password": sys.argv[2]}})
        q = mp.Queue()
        p = mp.Process(target=put, args=(q,))
        p.start()
        p.join()
        print("exitcode", p.exitcode)
        if p.exitcode == 0:
            print(q.get(timeout=10))
""")


def _run_program(tmp_path: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "program.py"
    script.write_text(_PROGRAM)
    env = {k: v for k, v in os.environ.items() if k != PASSWORD_ENV}
    env["HOME"] = str(home)
    return subprocess.run([sys.executable, str(script), *args], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)


def test_a_program_with_the_password_in_code_only(redis_server: RedisServer,
                                                  tmp_path: Path) -> None:
    """No variable and no config file anywhere: the workers of a fresh program get the
    password from the executor's secret channel to the worker pool."""
    home = tmp_path / "home"
    home.mkdir()
    run = _run_program(tmp_path, home, redis_server.url, redis_server.password)
    assert "exitcode 0" in run.stdout and "from the worker" in run.stdout, \
        run.stdout + run.stderr


def test_a_program_with_the_password_in_its_config_file(redis_server: RedisServer,
                                                        tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".wren").mkdir(parents=True)
    (home / ".wren" / "config").write_text(
        f"multiprocessing:\n  url: {redis_server.url}\n  password: {redis_server.password}\n")
    run = _run_program(tmp_path, home)
    assert "exitcode 0" in run.stdout and "from the worker" in run.stdout, \
        run.stdout + run.stderr
