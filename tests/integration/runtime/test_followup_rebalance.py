"""A task that moves between instances runs on its new owner promptly (Kafka Streams' immediate follow-up rebalance).

Cooperative rebalancing moves an active task in two rounds: the first revokes it from its owner (A) and gives it
to nobody, the second gives it to the new owner (B). Kafka's StreamsPartitionAssignor encodes nextRebalanceMs = 0
in the assignment of the member the task was withheld from ("Requesting followup rebalance be scheduled
immediately ... due to tasks changing ownership"), and that member rejoins at once; A rejoins at once too, having
revoked partitions. So the second round needs no heartbeat of B to start: without the follow-up B only learned of
it from its next Heartbeat (REBALANCE_IN_PROGRESS), up to heartbeat.interval.ms later, and the task stood still
that long. Here B's heartbeat.interval.ms is 6 s, so the pause bound (2.5 s) tells the two apart (measured: 6.3-6.4 s
without the follow-up, 0.4 s with it, on both brokers); the session timeout (20 s) and the probing interval (60 s
minimum) are far above it.

Records are produced continuously with keys naming their partition; a peek() before the count records which
instance processed which key when. The pause is the time between A's last and B's first record of the moved
partition; the final counts are exact under both guarantees (A commits the task before revoking it: nothing lost,
nothing counted twice; read_committed under exactly_once_v2).
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest
from confluent_kafka import Producer

from pystreams import Consumed, Materialized, Produced, Serdes, StreamsBuilder
from pystreams.runtime import KafkaStreams, State
from tests.integration.runtime.helpers import create_topics, read_counts_until, unique

pytestmark = pytest.mark.integration

HEARTBEAT_MS = 6000
MAX_PAUSE_S = 2.5


def _topology(source: str, sink: str, name: str, seen: list[tuple[str, float, str]]) -> Any:
    builder = StreamsBuilder()
    (builder.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
        .peek(lambda k, _v: seen.append((name, time.monotonic(), k)))
        .group_by_key()
        .count(Materialized(name="counts"))
        .to_stream()
        .to(sink, Produced(key_serde=Serdes.String(), value_serde=Serdes.Long())))
    return builder.build()


class _Feeder:
    """Produces key p<partition>-k<i % 3> to both partitions every 10 ms until stopped; counts what it sent."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
        self.topic = topic
        self.sent: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        i = 0
        while not self._stop.is_set():
            for partition in (0, 1):
                key = f"p{partition}-k{i % 3}"
                self.producer.produce(self.topic, key=key, value="x", partition=partition)
                self.sent[key] += 1
            self.producer.poll(0)
            i += 1
            time.sleep(0.01)

    def __enter__(self) -> _Feeder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        assert self.producer.flush(30) == 0
        del self.producer  # no librdkafka client left behind for a failed test's traceback to keep


def _active(app: KafkaStreams) -> set:
    return {t for th in app.threads for t in th.tasks}


def _wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once_v2"])
def test_a_moved_task_runs_on_its_new_owner_without_waiting_for_a_heartbeat(kafka_broker, tmp_path, guarantee):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink = unique("followup"), unique("in"), unique("out")
    create_topics(bootstrap, 2, source, sink)
    seen: list[tuple[str, float, str]] = []
    config = {"application.id": app_id, "bootstrap.servers": bootstrap, "commit.interval.ms": 200,
              "processing.guarantee": guarantee,
              "consumer.session.timeout.ms": 20000}
    # B, which the task moves to, heartbeats every 6 s; A every 0.5 s, so that B's join is noticed soon
    heartbeats = {"A": 500, "B": HEARTBEAT_MS}
    apps = {name: KafkaStreams(_topology(source, sink, name, seen), {
        **config, "state.dir": str(tmp_path / name), "consumer.heartbeat.interval.ms": heartbeats[name]})
        for name in ("A", "B")}
    try:
        with _Feeder(bootstrap, source) as feeder:
            apps["A"].start()
            _wait(lambda: len(_active(apps["A"])) == 2
                  and {k[:3] for w, _, k in list(seen) if w == "A"} == {"p0-", "p1-"}, 60, "A runs both tasks")
            apps["B"].start()
            _wait(lambda: len(_active(apps["A"])) == 1 and len(_active(apps["B"])) == 1
                  and all(a.state is State.RUNNING for a in apps.values()), 60, "one task moved to B")
            moved = next(iter(_active(apps["B"])))
            prefix = f"p{moved.partition}-"
            _wait(lambda: any(w == "B" and k.startswith(prefix) for w, _, k in list(seen)), 30,
                  "B processes the moved task")
            time.sleep(0.5)  # a little more input for both after the move
        mine = [(w, t) for w, t, k in list(seen) if k.startswith(prefix)]
        last_a = max(t for w, t in mine if w == "A")
        first_b = min(t for w, t in mine if w == "B")
        pause = first_b - last_a
        print(f"moved task {moved}: paused {pause:.3f} s between A's last and B's first record")
        assert not any(w == "A" and t > first_b for w, t in mine)  # never on both at once
        assert 0 < pause < MAX_PAUSE_S, f"moved task {moved} stood still {pause:.2f} s (heartbeat {HEARTBEAT_MS} ms)"
        expected = dict(feeder.sent)
        isolation = "read_committed" if guarantee == "exactly_once_v2" else "read_uncommitted"
        assert read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=60, isolation=isolation) == expected
    finally:
        for app in apps.values():
            app.close(30)
