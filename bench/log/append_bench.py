"""Append throughput of PartitionLog vs a plain file write of the same bytes (not a test).

    .venv/bin/python bench/log/append_bench.py [--total-mb 256] [--rounds 16] [--dir /tmp]

Batches of 1 KiB records, 16 KiB and 1 MiB per batch (one batch per produce payload, as
librdkafka sends per partition), CreateTime and LogAppendTime (which recomputes the CRC), and
a read pass: 1 MiB fetches materialized with pread. The plain `os.write` loop of the same
payloads is the floor (page-cache copy speed). Rounds of both alternate, so load from other
processes on a shared machine hits both alike; the table shows the median round of each.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from pystreams.broker.log import LogConfig, PartitionLog
from pystreams.broker.protocol.record_batch import build_batch


def payload(batch_bytes: int) -> bytes:
    n = max(1, batch_bytes // 1024)
    return build_batch([(b"key-%06d" % i, os.urandom(1000)) for i in range(n)],
                       timestamp=int(time.time() * 1000))


def measure(root: Path, raw: bytes, total: int, rounds: int,
            props: dict[str, str]) -> tuple[float, float, float]:
    """(append MB/s, plain MB/s, read MB/s), medians over alternating rounds."""
    per_round = max(1, total // rounds // len(raw))
    mb = per_round * len(raw) / 1e6
    log = PartitionLog.open(root / "bench-0", LogConfig.from_props(props))
    fd = os.open(root / "plain.bin", os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_TRUNC, 0o644)
    mv, now = memoryview(raw), int(time.time() * 1000)
    appends, plains = [], []
    try:
        for _ in range(rounds):
            t0 = time.perf_counter()
            for _ in range(per_round):
                log.append(mv, now_ms=now)
            appends.append(mb / (time.perf_counter() - t0))
            t0 = time.perf_counter()
            for _ in range(per_round):
                os.write(fd, raw)
            plains.append(mb / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        offset = total_read = 0
        while offset < log.log_end_offset:
            chunk = log.read(offset, 1024 * 1024)
            total_read += len(chunk.to_bytes())
            offset = chunk.next_offset
        read = total_read / 1e6 / (time.perf_counter() - t0)
    finally:
        os.close(fd)
        log.close()
        shutil.rmtree(root / "bench-0")
        (root / "plain.bin").unlink()
    return statistics.median(appends), statistics.median(plains), read


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--total-mb", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=16)
    ap.add_argument("--dir", default=None)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="append-bench-", dir=args.dir))
    total = args.total_mb * 1024 * 1024
    print(f"{'case':40} {'append MB/s':>11} {'plain MB/s':>10} {'ratio':>6} "
          f"{'us/append':>9} {'read MB/s':>9}")
    try:
        for batch_bytes in (16 * 1024, 1024 * 1024):
            raw = payload(batch_bytes)
            for label, props in (("CreateTime", {}),
                                 ("LogAppendTime", {"message.timestamp.type": "LogAppendTime"})):
                append, plain, read = measure(root, raw, total, args.rounds, props)
                name = f"{batch_bytes // 1024} KiB batches, {label}"
                print(f"{name:40} {append:11.0f} {plain:10.0f} {append / plain:6.2f} "
                      f"{len(raw) / append:9.1f} {read:9.0f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
