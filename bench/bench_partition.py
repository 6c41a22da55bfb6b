"""Benchmark of data processing on localhost storage: partition and read a large text object
line-aligned, and list and partition a prefix of many objects.

    hatch run bench:partition [--size-mb 1024] [--chunk-mb 64] [--objects 10000]

1. A text object of `--size-mb` MiB (lines of 9-200 bytes) is split with
   `chunk_size=--chunk-mb` MiB by the `lines` partitioner and every chunk is read through
   the localhost storage backend's ranged streams, counting newlines in 1 MiB blocks:
   once directly (the partitioner and storage only, `--workers` processes) and once through
   `FunctionExecutor.map` on localhost compute with `--workers` worker processes, from
   `map()` to `get_result()`; then once more through `map` iterating over the lines of each
   chunk in Python (`for line in obj.data_stream`), for scale. Every run checks that the
   line count equals the object's. Target: >= 500 MB/s aggregate on 2 cores.
2. `--objects` small objects under one prefix: the time for `plan_data_job` to list the
   prefix and partition every object (target: <= 1 s), and for `map()` to submit them.

The data is written to a temporary directory (or `--dir`) and removed afterwards. Reads hit
the page cache: the figures measure wren, not the disk.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import wren
from wren import plugins
from wren.dataproc import ChunkingOptions, DataTarget, plan_data_job
from wren.testing.functions import count_lines

MiB = 1 << 20


def write_text_object(path: str, size: int, seed: int = 1) -> int:
    """Write `size` bytes of lines of random length; return the number of newlines."""
    rnd = random.Random(seed)
    lines = [b"%07d " % i + b"abcdefghij" * rnd.randint(0, 19) + b"\n" for i in range(9973)]
    block = b"".join(lines)
    per_block = block.count(b"\n")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    written = count = 0
    with open(path, "wb") as out:
        while written < size:
            piece = block[:size - written]
            out.write(piece)
            written += len(piece)
            count += per_block if len(piece) == len(block) else piece.count(b"\n")
    return count


def iterate_lines(obj: Any) -> int:
    """Count a chunk's lines by iterating over them (pickled by value into the workers)."""
    return sum(1 for _ in obj.data_stream)


def _read_partition(args: tuple[str, Any]) -> int:
    storage_dir, part = args
    storage = plugins.storage_backend_class("localhost")({"storage_dir": storage_dir})
    partitioner = plugins.partitioner_class("lines")()
    bucket, key = "bench", "big.txt"
    stream = partitioner.open(part, lambda s, e: storage.get_object_stream(bucket, key, (s, e)))
    count = 0
    while block := stream.read(MiB):
        count += block.count(b"\n")
    stream.close()
    return count


def bench_big_object(storage_dir: str, size: int, chunk: int, workers: int,
                     repeats: int) -> dict[str, Any]:
    path = os.path.join(storage_dir, "bench", "big.txt")
    print(f"writing a {size / MiB:.0f} MiB text object ...", flush=True)
    expected = write_text_object(path, size)
    actual = os.path.getsize(path)
    partitioner = plugins.partitioner_class("lines")()
    parts = partitioner.plan("localhost://bench/big.txt", actual, chunk_size=chunk)
    direct = []
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_read_partition, [(storage_dir, parts[0])]))  # start the processes
        for _ in range(repeats):
            began = time.perf_counter()
            counts = list(pool.map(_read_partition, [(storage_dir, p) for p in parts]))
            direct.append(time.perf_counter() - began)
            assert sum(counts) == expected, (sum(counts), expected)
    mapped = []
    with wren.FunctionExecutor(storage_dir=storage_dir, storage_bucket="bench",
                               worker_processes=workers) as fexec:
        fexec.get_result(fexec.map(count_lines, ["bench/big.txt"], chunk_n=workers))  # warm
        for _ in range(repeats):
            began = time.perf_counter()
            futures = fexec.map(count_lines, "localhost://bench/big.txt", chunk_size=chunk)
            counts = fexec.get_result(futures)
            mapped.append(time.perf_counter() - began)
            assert sum(counts) == expected and len(counts) == len(parts)
        began = time.perf_counter()
        counts = fexec.get_result(fexec.map(iterate_lines, "bench/big.txt", chunk_size=chunk))
        iterated = time.perf_counter() - began
        with open(path, "rb") as handle:
            handle.seek(-1, os.SEEK_END)
            unterminated = handle.read() != b"\n"
        assert sum(counts) == expected + unterminated
    os.remove(path)
    return {"bytes": actual, "chunks": len(parts), "lines": expected,
            "direct_s": statistics.median(direct), "map_s": statistics.median(mapped),
            "lines_s": iterated}


def bench_many_objects(storage_dir: str, count: int, repeats: int) -> dict[str, Any]:
    storage = plugins.storage_backend_class("localhost")({"storage_dir": storage_dir})
    print(f"writing {count} small objects ...", flush=True)
    rnd = random.Random(2)
    for i in range(count):
        storage.put_object("bench", f"many/{i // 1000:02d}/{i:06d}.txt",
                           b"row\n" * rnd.randint(1, 300))
    target = DataTarget(storage, "localhost", True)
    options = ChunkingOptions.from_arguments(chunk_size=64 * MiB)
    planned = []
    for _ in range(repeats):
        began = time.perf_counter()
        plan = plan_data_job(count_lines, "localhost://bench/many/", target, options)
        planned.append(time.perf_counter() - began)
        assert plan is not None and len(plan.items) == count
    with wren.FunctionExecutor(storage_dir=storage_dir, storage_bucket="bench") as fexec:
        began = time.perf_counter()
        futures = fexec.map(count_lines, "localhost://bench/many/", chunk_size=64 * MiB)
        submitted = time.perf_counter() - began
        total = sum(fexec.get_result(futures))
        finished = time.perf_counter() - began
    assert total == sum(storage.get_object("bench", k).count(b"\n")
                        for k in storage.list_keys("bench", "many/"))
    return {"objects": count, "plan_s": statistics.median(planned), "submit_s": submitted,
            "job_s": finished}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="big object size (MiB)")
    parser.add_argument("--chunk-mb", type=int, default=64, help="chunk_size (MiB)")
    parser.add_argument("--objects", type=int, default=10_000, help="objects under a prefix")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dir", help="where to write the data (default: a temp dir)")
    args = parser.parse_args(argv)
    root = tempfile.mkdtemp(prefix="wren-bench-", dir=args.dir)
    storage_dir = os.path.join(root, "storage")
    try:
        big = bench_big_object(storage_dir, args.size_mb * MiB, args.chunk_mb * MiB,
                               args.workers, args.repeats)
        many = bench_many_objects(storage_dir, args.objects, args.repeats)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    mb = big["bytes"] / 1e6
    print(f"\nlines partitioner, {mb:.0f} MB object, chunk_size={args.chunk_mb} MiB "
          f"({big['chunks']} chunks, {big['lines']} lines), {args.workers} processes:")
    print(f"  partition + read, direct:              {big['direct_s']:.2f} s = "
          f"{mb / big['direct_s']:.0f} MB/s (target >= 500)")
    print(f"  partition + read, FunctionExecutor.map: {big['map_s']:.2f} s = "
          f"{mb / big['map_s']:.0f} MB/s (target >= 500)")
    print(f"  map iterating over every line:          {big['lines_s']:.2f} s = "
          f"{mb / big['lines_s']:.0f} MB/s, {big['lines'] / big['lines_s'] / 1e6:.1f} M "
          "lines/s")
    print(f"{many['objects']} objects under one prefix:")
    print(f"  list + partition (plan_data_job):       {many['plan_s']:.3f} s (target <= 1)")
    print(f"  map() submission:                       {many['submit_s']:.3f} s; whole job "
          f"{many['job_s']:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
