"""Append throughput of PartitionLog vs a plain file write of the same bytes (not a test).

    .venv/bin/python bench/log/append_bench.py [--total-mb 256] [--dir /tmp]

Batches of 1 KiB records, 16 KiB and 1 MiB per batch (one batch per produce payload, as
librdkafka sends per partition), CreateTime and LogAppendTime (which recomputes the CRC), and
a read pass: fetch 1 MiB at a time materialized with pread. Prints MB/s and the ratio to a
plain `os.write` loop of the same payloads (the floor: page-cache copy speed).
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from pystreams.broker.log import LogConfig, PartitionLog
from pystreams.broker.protocol.record_batch import build_batch


def payload(batch_bytes: int) -> bytes:
    n = max(1, batch_bytes // 1024)
    return build_batch([(b"key-%06d" % i, os.urandom(1000)) for i in range(n)],
                       timestamp=int(time.time() * 1000))


def plain_write(path: Path, raw: bytes, count: int) -> float:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_TRUNC, 0o644)
    t0 = time.perf_counter()
    for _ in range(count):
        os.write(fd, raw)
    elapsed = time.perf_counter() - t0
    os.close(fd)
    return elapsed


def log_append(d: Path, raw: bytes, count: int, props: dict[str, str]) -> tuple[float, PartitionLog]:
    log = PartitionLog.open(d, LogConfig.from_props(props))
    mv = memoryview(raw)
    now = int(time.time() * 1000)
    t0 = time.perf_counter()
    for _ in range(count):
        log.append(mv, now_ms=now)
    return time.perf_counter() - t0, log


def log_read(log: PartitionLog, max_bytes: int) -> tuple[float, int]:
    t0 = time.perf_counter()
    offset, total = log.log_start_offset, 0
    while offset < log.log_end_offset:
        s = log.read(offset, max_bytes)
        total += len(s.to_bytes())
        offset = s.next_offset
    return time.perf_counter() - t0, total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--total-mb", type=int, default=256)
    ap.add_argument("--dir", default=None)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="append-bench-", dir=args.dir))
    print(f"{'case':38} {'MB/s':>8} {'plain MB/s':>10} {'ratio':>6} {'us/append':>9}")
    try:
        for batch_bytes in (16 * 1024, 1024 * 1024):
            raw = payload(batch_bytes)
            count = max(1, args.total_mb * 1024 * 1024 // len(raw))
            mb = count * len(raw) / 1e6
            plain = plain_write(root / "plain.bin", raw, count)
            (root / "plain.bin").unlink()
            for label, props in (("CreateTime", {}),
                                 ("LogAppendTime", {"message.timestamp.type": "LogAppendTime"})):
                d = root / f"bench-{batch_bytes}-{label}"
                elapsed, log = log_append(d, raw, count, props)
                name = f"append {batch_bytes // 1024} KiB batches, {label}"
                print(f"{name:38} {mb / elapsed:8.0f} {mb / plain:10.0f} "
                      f"{plain / elapsed:6.2f} {elapsed / count * 1e6:9.1f}")
                if label == "CreateTime":
                    rt, total = log_read(log, 1024 * 1024)
                    print(f"{'  read 1 MiB fetches (pread)':38} {total / 1e6 / rt:8.0f}")
                log.close()
                shutil.rmtree(d)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
