"""The broker's background cleaner pass (server/log_cleaner.py) over a LogManager: compact and
compact,delete topics are compacted (key map on the worker thread), delete-only topics are
left alone, and cleaner-offset-checkpoint records where the next pass starts."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pystreams.broker.log import LogConfig, LogManager
from pystreams.broker.log.checkpoint import read_checkpoint
from pystreams.broker.protocol.record_batch import build_batch, iter_batches, read_records
from pystreams.broker.server.log_cleaner import clean_once

pytestmark = pytest.mark.unit
SMALL = {"segment.bytes": "400", "min.cleanable.dirty.ratio": "0.01"}


def _fill(plog, n: int = 60) -> None:
    for i in range(n):
        plog.append(build_batch([(b"k%d" % (i % 4), b"v%d" % i)], timestamp=1_000), now_ms=1_000)


def _count(plog) -> int:
    data = plog.read(plog.log_start_offset, 1 << 30).to_bytes()
    return sum(len(read_records(v.buf)) for v in iter_batches(data))


def test_clean_once_compacts_compact_and_compact_delete_only(tmp_path: Path) -> None:
    logs = LogManager(tmp_path, LogConfig.from_props({}))
    for topic, policy in (("c", "compact"), ("cd", "compact,delete"), ("d", "delete")):
        logs.create_partition(topic, 0, {**SMALL, "cleanup.policy": policy})
        _fill(logs.get(topic, 0))
    with ThreadPoolExecutor(1) as pool:
        cleaned = asyncio.run(clean_once(logs, 2_000, pool))
    assert cleaned > 0
    for topic in ("c", "cd"):
        plog = logs.get(topic, 0)
        assert _count(plog) < 60 // 2  # superseded records below the active segment are gone
        assert plog.first_dirty_offset > 0
    assert _count(logs.get("d", 0)) == 60
    checkpoint = read_checkpoint(tmp_path / "cleaner-offset-checkpoint")
    assert set(checkpoint) == {("c", 0), ("cd", 0)}
    logs.close()
