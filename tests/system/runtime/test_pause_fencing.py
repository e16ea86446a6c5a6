"""exactly_once_v2: an instance paused with SIGSTOP loses its tasks to the other instance; when it resumes
(SIGCONT) its open transaction is fenced, it rejoins, and the read_committed output still has every count
exactly once (each word's updates are 1, 2, ..., n with no repeat and no gap)."""
from __future__ import annotations

import signal
import threading
import time

import pytest

from tests.integration.runtime.helpers import (
    produce_lines,
    random_lines,
    read_count_updates,
    word_counts,
)
from tests.integration.runtime.instances import Instance, wordcount_app

pytestmark = [pytest.mark.system, pytest.mark.slow]

TXN_TIMEOUT_MS = 5000


def test_a_paused_instance_is_fenced(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink, script, env = wordcount_app(bootstrap, tmp_path, "wc-pause", 2)
    # a short session (no broker floor in the tests) and transaction timeout, so the pause is short; heartbeats
    # well inside the session so the running instance is never dropped spuriously
    extra = {"processing.guarantee": "exactly_once_v2", "statestore.cache.max.bytes": "0",
             "consumer.session.timeout.ms": "3000", "consumer.heartbeat.interval.ms": "500",
             "producer.transaction.timeout.ms": str(TXN_TIMEOUT_MS)}
    lines = random_lines(44, 1200)
    instances = [Instance(script, bootstrap, app_id, tmp_path / f"state-{i}", env, extra) for i in range(2)]
    paused = instances[0]
    try:
        deadline = time.monotonic() + 90
        while sorted(i.tasks() for i in instances) != [2, 2]:
            assert time.monotonic() < deadline, "\n".join(i.output() for i in instances)
            time.sleep(0.2)
        feeder = threading.Thread(target=lambda: [produce_lines(bootstrap, source, lines[s:s + 50], s)
                                                  or time.sleep(0.25) for s in range(0, len(lines), 50)])
        feeder.start()
        time.sleep(1.5)
        paused.proc.send_signal(signal.SIGSTOP)
        stopped = time.monotonic()
        # the session (3 s) expires and the other instance takes every task over (bounded wait) ...
        deadline = stopped + 60
        while instances[1].tasks() != 4:
            assert time.monotonic() < deadline and instances[1].proc.poll() is None, instances[1].output(20)
            time.sleep(0.2)
        # ... and the paused one stays stopped past its transaction timeout, so the broker aborts its open
        # transaction (checked every second on the test brokers) and the resumed zombie is fenced
        time.sleep(max(0.0, stopped + TXN_TIMEOUT_MS / 1000 + 1.5 - time.monotonic()))
        paused.proc.send_signal(signal.SIGCONT)
        feeder.join(120)
        expected = word_counts(lines)
        per_word = read_count_updates(bootstrap, sink, sum(expected.values()), timeout=120)  # settles, re-reads
        assert per_word == {w: list(range(1, n + 1)) for w, n in expected.items()}
        codes = [i.stop() for i in instances]
        fenced = ("tasks migrated", "commit on revocation failed", "partitions lost")
        assert any(f in line for line in paused.lines for f in fenced), paused.output(20)  # it lost its tasks
        assert codes == [0, 0], "\n".join(i.output(20) for i in instances)
    finally:
        for i in instances:
            if i.proc.poll() is None:
                i.proc.send_signal(signal.SIGCONT)
            i.kill()
