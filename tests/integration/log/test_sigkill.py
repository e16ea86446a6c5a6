"""Durability: a process appending in a loop is SIGKILLed; after reopening its data dir every
offset it acknowledged (printed after append returned) is there byte for byte."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pystreams.broker.log import LogConfig, LogManager
from pystreams.broker.protocol.record_batch import iter_batches
from tests.fixtures.log_storage import make_batch

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("run", range(2))
def test_acknowledged_batches_survive_sigkill(tmp_path: Path, run: int) -> None:
    child = subprocess.Popen([sys.executable, "-m", "tests.integration.log.appender_child",
                              str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    acked: list[tuple[int, int, int]] = []
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        deadline = time.monotonic() + 10
        while len(acked) < 1500 + 700 * run and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            partition, offset, tag = map(int, line.split())
            acked.append((partition, offset, tag))
        os.kill(child.pid, signal.SIGKILL)
        rest = child.stdout.read()  # lines printed before the kill landed
        for line in rest.splitlines():
            if len(line.split()) == 3:
                acked.append(tuple(map(int, line.split())))  # type: ignore[arg-type]
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    assert len(acked) >= 1000

    manager = LogManager(tmp_path, LogConfig.from_props({"segment.bytes": "20000",
                                                         "index.interval.bytes": "512"}))
    try:
        assert not manager.had_clean_shutdown
        logs = {p: manager.get("durable", p) for p in range(2)}
        assert all(len(log.segments) > 2 for log in logs.values())  # rolls happened
        for partition, offset, tag in acked:
            log = logs[partition]
            (batch, *_) = iter_batches(log.read(offset, 1).to_bytes())
            sent = make_batch(1 + tag % 4, value_size=64, tag=tag)
            assert batch.header.base_offset == offset
            assert bytes(batch.buf[16:]) == sent[16:]  # all but offset/epoch, byte for byte
            batch.validate()
        # appending continues right after the last stored batch
        for log in logs.values():
            end = log.log_end_offset
            assert log.append(memoryview(make_batch(1)), now_ms=1).base_offset == end
    finally:
        manager.close()
