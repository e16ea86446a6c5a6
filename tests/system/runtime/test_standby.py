"""num.standby.replicas=1: when an instance dies, the survivor takes its tasks over from warm standbys and
restores far fewer changelog records than a cold instance does in the same scenario; with two stream threads per
instance (standbys are placed by the Streams assignor, one StandbyManager per thread), on both brokers."""
from __future__ import annotations

import os
import random
import re
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition

from pystreams.runtime.checkpoint import read_checkpoint
from tests.integration.runtime.helpers import (
    create_topics,
    produce_lines,
    read_counts_until,
    unique,
    word_counts,
)
from tests.integration.runtime.instances import APP, ROOT, Instance

pytestmark = [pytest.mark.system, pytest.mark.slow]


def _restored(instance: Instance) -> int:
    for line in reversed(instance.lines):
        m = re.search(r"restored ([\d,]+)", line)
        if m:
            return int(m.group(1).replace(",", ""))
    return -1


def _caught_up_count_dirs(bootstrap: str, app_dir: Path, changelog: str) -> int:
    """How many of an instance's count-task directories (1_*) hold a .checkpoint at their changelog's end: its
    standbys that applied the whole changelog (a standby checkpoints every few seconds; an active task with fewer
    than 10,000 new changelog records writes its checkpoint only at close, so it does not count here)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("probe")})
    try:
        caught_up = 0
        for task_dir in app_dir.glob("1_*"):
            partition = int(task_dir.name.split("_")[1])
            end = consumer.get_watermark_offsets(TopicPartition(changelog, partition), timeout=10, cached=False)[1]
            caught_up += read_checkpoint(str(task_dir)).get((changelog, partition)) == end - 1
        return caught_up
    finally:
        consumer.close()


def _failover_restore(bootstrap: str, tmp_path, standbys: int, threads: int) -> int:
    """Run 2 instances, count 2,000 distinct words, SIGKILL one; records the survivor restored on takeover."""
    app_id, source, sink = unique("wc-standby"), unique("text"), unique("counts")
    create_topics(bootstrap, 4, source, sink)
    script = tmp_path / f"wc_app_{standbys}.py"
    script.write_text(APP)
    env = {**os.environ, "WC_SOURCE": source, "WC_SINK": sink, "PYTHONPATH": str(ROOT)}
    extra = {"num.standby.replicas": str(standbys), "commit.interval.ms": "200",
             # a short session (no broker floor in the tests) so the takeover comes soon; heartbeats well inside it
             "consumer.session.timeout.ms": "3000", "consumer.heartbeat.interval.ms": "500",
             "num.stream.threads": str(threads),
             "pystreams.assignor": "streams"}
    rng = random.Random(standbys)
    lines = [" ".join(f"w{rng.randrange(2000)}" for _ in range(4)) for _ in range(2500)]
    instances = [Instance(script, bootstrap, app_id, tmp_path / f"state-{standbys}-{i}", env, extra)
                 for i in range(2)]
    try:
        deadline = time.monotonic() + 90  # 8 tasks, 4 of them stateful: each instance keeps standbys of the
        # other's 2 stateful tasks (num.standby.replicas=1), none with 0
        while [i.tasks() for i in instances] != [4, 4] or [i.standbys() for i in instances] != [2 * standbys] * 2:
            assert time.monotonic() < deadline, "\n".join(i.output() for i in instances)
            time.sleep(0.2)
        produce_lines(bootstrap, source, lines)
        expected = word_counts(lines)
        assert read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=90) == expected
        survivor = instances[1]
        # the survivor's standbys apply the changelog's tail before the kill: what they still lack then is restored
        # on takeover (a takeover closes the standby, which checkpoints what it applied). Wait for their checkpoints
        # to reach the changelog ends rather than a fixed sleep, which a loaded machine can outlast.
        deadline = time.monotonic() + 60
        changelog, survivor_dir = f"{app_id}-word-counts-changelog", tmp_path / f"state-{standbys}-1" / app_id
        while _caught_up_count_dirs(bootstrap, survivor_dir, changelog) < 2 * standbys:
            assert time.monotonic() < deadline, survivor.output()
            time.sleep(0.5)
        before = _restored(survivor)
        instances[0].kill()
        deadline = time.monotonic() + 90
        while survivor.tasks() != 8 or survivor.standbys() != 0:  # its standbys became active
            assert time.monotonic() < deadline and survivor.proc.poll() is None, survivor.output()
            time.sleep(0.2)
        more = [f"w{i} w{i}" for i in range(50)]
        produce_lines(bootstrap, source, more, len(lines))
        expected = word_counts(lines + more)
        assert read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=90) == expected
        assert survivor.stop() == 0, survivor.output()
        return _restored(survivor) - before
    finally:
        for i in instances:
            i.kill()


def test_standby_takes_over_with_less_restore_work(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    cold = _failover_restore(bootstrap, tmp_path, standbys=0, threads=2)
    warm = _failover_restore(bootstrap, tmp_path, standbys=1, threads=2)
    assert cold >= 500, cold  # about half of the 2,000 words' changelog records moved with the dead instance
    assert warm * 10 <= cold, (warm, cold)
