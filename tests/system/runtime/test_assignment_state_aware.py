"""State-aware placement: an instance restarted with its state dir gets its own tasks back from the Streams
assignor (its checkpoints make it caught up) and restores next to nothing, while the instance that covered for
it restored those tasks from scratch."""
from __future__ import annotations

import random
import time

import pytest

from pystreams.runtime import KafkaStreams, State
from tests.integration.runtime.helpers import (
    create_topics,
    produce_lines,
    read_counts_until,
    unique,
    word_counts,
    wordcount_topology,
)

pytestmark = [pytest.mark.system, pytest.mark.slow]


def _tasks(app: KafkaStreams) -> set:
    return {t for th in app.threads for t in th.tasks}


def _restored(app: KafkaStreams) -> int:
    return int(app.metrics()["restore-total"])


def random_lines(seed: int, n: int) -> list[str]:
    """Lines of 4 words out of 2,000: a changelog record per distinct word, so restores have work to count."""
    rng = random.Random(seed)
    return [" ".join(f"w{rng.randrange(2000)}" for _ in range(4)) for _ in range(n)]


def _wait(apps: list[KafkaStreams], tasks_each: list[int], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not all(a.state is State.RUNNING and len(_tasks(a)) == n for a, n in zip(apps, tasks_each)):
        assert time.monotonic() < deadline, [(a.state, sorted(map(str, _tasks(a)))) for a in apps]
        time.sleep(0.1)


def test_a_restarted_instance_gets_its_tasks_back_and_restores_almost_nothing(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink = unique("aware"), unique("text"), unique("counts")
    create_topics(bootstrap, 4, source, sink)

    def start(i: int) -> KafkaStreams:
        app = KafkaStreams(wordcount_topology(source, sink), {
            "application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path / f"s{i}"),
            "commit.interval.ms": 100, "consumer.session.timeout.ms": 10000})
        app.start()
        return app

    a, b = start(0), start(1)
    try:
        _wait([a, b], [4, 4])
        lines = random_lines(21, 1500)
        produce_lines(bootstrap, source, lines)
        expected = word_counts(lines)
        assert read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=90) == expected
        b_stateful = {t for t in _tasks(b) if t.subtopology == 1}  # the count (after the repartition) has state
        assert len(b_stateful) == 2
        # before b's close: a hears of the rebalance from a heartbeat and may start restoring b's tasks while close()
        # is still shutting b's clients down (after its LeaveGroup); a restores nothing until then
        before = _restored(a)
        assert b.close(60)  # clean: its stores are checkpointed
        _wait([a], [8])
        cold = _restored(a) - before  # a restored b's stateful tasks from their changelogs
        more = random_lines(22, 20)
        produce_lines(bootstrap, source, more, len(lines))
        expected = word_counts(lines + more)
        assert read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=90) == expected
        b = start(1)  # same state dir, same process id
        _wait([a, b], [4, 4])
        # the changelogs (< 1,000 records per task) are shorter than acceptable.recovery.lag (10,000), so both
        # clients count as caught up on every task: b gets its own tasks back because a, over its quota, gives up
        # the ones b holds warm (placement.py, _regret), not because a's first pick happens to leave them
        back = {t for t in _tasks(b) if t.subtopology == 1}
        assert back == b_stateful, (sorted(map(str, back)), sorted(map(str, b_stateful)), sorted(map(str, _tasks(a))))
        warm = _restored(b)
        assert cold >= 500, cold  # about half of ~1,900 distinct words
        assert warm <= 100, (warm, cold)  # only what changed while it was away (20 lines), not its whole state
        final = random_lines(23, 50)
        produce_lines(bootstrap, source, final, len(lines) + len(more))
        expected = word_counts(lines + more + final)
        assert read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=90) == expected
    finally:
        for app in (a, b):
            app.close(30)
