"""The remote query helper when the instance holding a key is SIGKILLed, on both brokers: right after the kill a
call with a short budget fails with a clear HostUnreachableError in that time (the group still lists the dead
instance); a call with a budget longer than the dead instance's session timeout waits for the next assignment,
retries once on the new owner (this instance, after restoring the partition) and returns the right value."""
from __future__ import annotations

import os
import random
import time
from collections import Counter
from pathlib import Path

import pytest
from confluent_kafka import Producer

from pystreams import Serdes
from pystreams.runtime import KafkaStreams, State
from pystreams.runtime.queries import HostInfo, InvalidStateStoreError
from pystreams.runtime.remote_queries import HostUnreachableError
from tests.integration.runtime.helpers import WORDS, create_topics, free_port, unique
from tests.integration.runtime.instances import ROOT, Instance
from tests.integration.runtime.test_iq_standby import APP, STORE, counting_topology

pytestmark = pytest.mark.integration


def _get(app: KafkaStreams, word: str) -> object:
    try:
        return app.query(STORE, word, Serdes.String(), timeout=2)
    except (InvalidStateStoreError, HostUnreachableError):  # rebalancing / the other one not serving yet
        return None


def test_a_query_retries_on_the_new_owner_after_the_owner_is_killed(kafka_broker, tmp_path: Path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink = unique("iq-retry"), unique("words"), unique("counts")
    create_topics(bootstrap, 2, source, sink)
    rng = random.Random(5)
    words = [rng.choice(WORDS) + str(rng.randint(0, 5)) for _ in range(200)]
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "partitioner": "murmur2_random"})
    for word in words:
        producer.produce(source, key=word.encode(), value=b"1")
    assert producer.flush(30) == 0
    expected = dict(Counter(words))
    script = tmp_path / "iq_app.py"
    script.write_text(APP)
    env = {**os.environ, "IQ_SOURCE": source, "IQ_SINK": sink, "PYTHONPATH": str(ROOT)}
    here, there = HostInfo("127.0.0.1", free_port()), HostInfo("127.0.0.1", free_port())
    app = KafkaStreams(counting_topology(source, sink), {
        "application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path / "s0"),
        "commit.interval.ms": 100, "application.server": str(here), "consumer.session.timeout.ms": 10000})
    other = Instance(script, bootstrap, app_id, tmp_path / "s1", env,
                     {"application.server": str(there), "commit.interval.ms": "100",
                      # the group drops it 3 s after the kill (heartbeats every 0.5 s, as the failover tests)
                      "consumer.session.timeout.ms": "3000", "consumer.heartbeat.interval.ms": "500"})
    try:
        app.start()
        deadline = time.monotonic() + 90
        while True:  # one partition each, every count right (half of them over HTTP from the other process)
            owners = {w: app.query_metadata_for_key(STORE, w, Serdes.String()).active_host for w in expected}
            if (app.state is State.RUNNING and set(owners.values()) == {here, there}
                    and all(_get(app, w) == c for w, c in expected.items())):
                break
            assert time.monotonic() < deadline, (app.state, owners, other.output())
            time.sleep(0.3)
        word = next(w for w, h in owners.items() if h == there)
        other.kill()
        started = time.monotonic()
        with pytest.raises(HostUnreachableError, match=f"cannot query store {STORE} on {there}.*still names only"):
            app.query(STORE, word, Serdes.String(), timeout=1)
        assert time.monotonic() - started < 2.5  # the budget, not a hang
        assert app.query(STORE, word, Serdes.String(), timeout=40) == expected[word]  # waits, then asks again
        took = time.monotonic() - started
        assert 2 < took < 40, took  # it did wait for the group to drop the dead instance (3 s session)
        assert app.query_metadata_for_key(STORE, word, Serdes.String()).active_host == here
        assert all(app.query(STORE, w, Serdes.String(), timeout=5) == c for w, c in expected.items())
    finally:
        other.kill()
        app.close(60)
