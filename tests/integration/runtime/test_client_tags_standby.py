"""Rack-aware standbys (KIP-708): three instances, two in zone z1 and one in z2 (`client.tag.zone`), with
`rack.aware.assignment.tags=zone` and one standby per stateful task: every task running in z1 keeps its standby in
z2 and the other way round, so losing a zone never loses both copies of a store. (Without
rack.aware.assignment.tags the two z1 instances keep some of each other's standbys: this test then fails on both
brokers.) The tags travel in the subscriptions, the leader places: whichever instance leads, the result is one."""
from __future__ import annotations

import time

import pytest

from pystreams import Consumed, Materialized, Serdes, StreamsBuilder
from pystreams.runtime import KafkaStreams, State
from tests.integration.runtime.helpers import create_topics, unique

pytestmark = pytest.mark.integration

ZONES = {"a": "z1", "b": "z1", "c": "z2"}


def _topology(source: str):
    builder = StreamsBuilder()
    builder.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())) \
        .group_by_key().count(Materialized(name="counts"))
    return builder.build()


def test_each_standby_is_in_another_zone_than_its_active(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source = unique("zones"), unique("in")
    create_topics(bootstrap, 6, source)
    apps = {name: KafkaStreams(_topology(source), {
        "application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path / name),
        "num.standby.replicas": 1, "client.tag.zone": zone, "rack.aware.assignment.tags": "zone",
        "consumer.session.timeout.ms": 10000, "consumer.heartbeat.interval.ms": 500})
        for name, zone in ZONES.items()}
    try:
        for app in apps.values():
            app.start()
        deadline = time.monotonic() + 60
        while True:
            actives = {n: {t for th in a.threads for t in th.tasks} for n, a in apps.items()}
            standbys = {n: {t for th in a.threads if th._standby is not None for t in th._standby.tasks}
                        for n, a in apps.items()}
            held = [t for s in standbys.values() for t in s]
            if (all(a.state is State.RUNNING for a in apps.values()) and sum(map(len, actives.values())) == 6
                    and len(held) == len(set(held)) == 6 and all(a for a in actives.values())):
                break
            assert time.monotonic() < deadline, (actives, standbys)
            time.sleep(0.1)
        for name, tasks in actives.items():
            for t in tasks:
                (keeper,) = [n for n, s in standbys.items() if t in s]
                assert ZONES[keeper] != ZONES[name], (t, name, keeper, actives, standbys)
    finally:
        for app in apps.values():
            app.close(30)
