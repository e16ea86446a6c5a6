"""Internal topics carry Kafka's configs on both brokers (DescribeConfigs after start()): repartition topics
delete / retention.ms=-1 / 50 MB segments, key-value changelogs compact, window and session changelogs
compact,delete with retention.ms = store retention + windowstore.changelog.additional.retention.ms."""
from __future__ import annotations

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource

import pystreams.compiler.extensions  # noqa: F401  (windowed_by on grouped streams)
from pystreams import Consumed, Grouped, Materialized, Serdes, StreamsBuilder
from pystreams.dsl.windows import SessionWindows, TimeWindows
from pystreams.runtime.kafka_streams import KafkaStreams
from tests.integration.runtime.helpers import create_topics, unique

pytestmark = pytest.mark.integration


def _topology(source: str):
    b = StreamsBuilder()
    by_word = b.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())) \
        .group_by(lambda _k, v: v, Grouped(key_serde=Serdes.String(), value_serde=Serdes.String()))
    by_word.count(Materialized(name="kv"))
    by_word.windowed_by(TimeWindows.of_size_and_grace(60_000, 5_000)).count(Materialized(name="win"))
    by_word.windowed_by(SessionWindows.of_inactivity_gap_and_grace(30_000, 0)).count(Materialized(name="ses"))
    return b.build()


def _describe(bootstrap: str, topics: list[str]) -> dict[str, dict[str, str]]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, t) for t in topics],
                                     request_timeout=30)
    return {res.name: {k: e.value for k, e in fut.result(30).items()} for res, fut in futures.items()}


def test_created_internal_topics_carry_kafkas_configs(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app, source = unique("topiccfg"), unique("topiccfg-in")
    create_topics(bootstrap, 2, source)
    streams = KafkaStreams(_topology(source), {
        "application.id": app, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
        "windowstore.changelog.additional.retention.ms": 1_000})
    try:
        streams.start()  # creates the internal topics before it returns
        names = {"kv": f"{app}-kv-changelog", "win": f"{app}-win-changelog", "ses": f"{app}-ses-changelog"}
        repartition = sorted(streams.plan.repartition_topics)  # one per aggregate, named after its store
        assert repartition == sorted(f"{app}-{s}-repartition" for s in ("kv", "win", "ses"))
        names.update({f"rep{i}": t for i, t in enumerate(repartition)})
        got = _describe(bootstrap, list(names.values()))
    finally:
        assert streams.close(30)
    kv, win, ses = (got[names[k]] for k in ("kv", "win", "ses"))
    reps = [got[t] for t in repartition]
    for rep in reps:
        assert (rep["cleanup.policy"], rep["retention.ms"], rep["segment.bytes"]) == ("delete", "-1", "52428800")
    assert kv["cleanup.policy"] == "compact"
    assert win["cleanup.policy"] == "compact,delete"
    assert win["retention.ms"] == str(65_000 + 1_000)
    assert ses["cleanup.policy"] == "compact,delete"
    assert ses["retention.ms"] == str(30_000 + 1_000)
    for cfg in (*reps, kv, win, ses):
        assert cfg["message.timestamp.type"] == "CreateTime"
