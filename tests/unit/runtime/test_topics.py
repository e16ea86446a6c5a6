"""Internal topic planning: partition counts like Kafka's RepartitionTopics, changelogs per task, prefixes."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from confluent_kafka import KafkaError, KafkaException

from pystreams import (
    Consumed,
    Grouped,
    Materialized,
    Produced,
    Repartitioned,
    Serdes,
    StreamsBuilder,
)
from pystreams.runtime.topics import (
    MissingSourceTopicError,
    ensure_internal_topics,
    plan_topology,
)

pytestmark = pytest.mark.unit


class FakeAdmin:
    """list_topics()/create_topics() over a dict of topic -> partition count (no sockets)."""

    def __init__(self, topics: dict[str, int]) -> None:
        self.topics = dict(topics)
        self.created: list = []

    def list_topics(self, timeout: float = 0):
        return SimpleNamespace(topics={name: SimpleNamespace(partitions=dict.fromkeys(range(n)), error=None)
                                       for name, n in self.topics.items()})

    def describe_topics(self, topics, request_timeout: float = 0):
        """Admin.describeTopics by name: a missing topic's future fails with UNKNOWN_TOPIC_OR_PART."""
        def future(name):
            def result(timeout=None):
                if name not in self.topics:
                    raise KafkaException(KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART))
                return SimpleNamespace(partitions=list(range(self.topics[name])))
            return SimpleNamespace(result=result)
        return {name: future(name) for name in topics.topic_names}

    def create_topics(self, new_topics, **_kw):
        futures = {}
        for t in new_topics:
            self.created.append(t)
            self.topics[t.topic] = t.num_partitions
            futures[t.topic] = SimpleNamespace(result=lambda timeout=None: None)
        return futures


def _wordcount(repartitioned=None):
    b = StreamsBuilder()
    s = b.stream("text", Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
    s = s.flat_map_values(lambda v: v.split())
    if repartitioned is not None:
        s = s.select_key(lambda k, v: v).repartition(repartitioned)
        grouped = s.group_by_key(Grouped(key_serde=Serdes.String(), value_serde=Serdes.String()))
    else:
        grouped = s.group_by(lambda k, v: v, Grouped(key_serde=Serdes.String(), value_serde=Serdes.String()))
    grouped.count(Materialized(name="counts")).to_stream().to("out", Produced(Serdes.String(), Serdes.Long()))
    return b.build()


def test_repartition_and_changelog_partitions_follow_the_source():
    topology = _wordcount()
    admin = FakeAdmin({"text": 4, "out": 1})
    plan = plan_topology(topology, "wc", admin)
    assert [(s.id, s.source_topics, s.partitions) for s in plan.subtopologies] == [
        (0, ["text"], 4), (1, ["wc-counts-repartition"], 4)]
    assert plan.repartition_topics == {"wc-counts-repartition": 4}
    assert plan.changelog_topics == {"wc-counts-changelog": 4}
    assert plan.subscription() == ["text", "wc-counts-repartition"]
    created = ensure_internal_topics(topology, plan, admin)
    assert sorted(created) == ["wc-counts-changelog", "wc-counts-repartition"]
    configs = {t.topic: t.config for t in admin.created}
    assert configs["wc-counts-changelog"]["cleanup.policy"] == "compact"
    assert configs["wc-counts-repartition"]["cleanup.policy"] == "delete"
    assert ensure_internal_topics(topology, plan, admin) == []  # nothing left to create


def test_repartitioned_partition_count_wins():
    topology = _wordcount(Repartitioned(name="by-word", num_partitions=6))
    plan = plan_topology(topology, "wc", FakeAdmin({"text": 2, "out": 1}))
    assert plan.repartition_topics == {"wc-by-word-repartition": 6}
    assert plan.changelog_topics == {"wc-counts-changelog": 6}


def test_missing_source_topic_is_refused_with_its_name():
    with pytest.raises(MissingSourceTopicError, match="source topic text"):
        plan_topology(_wordcount(), "wc", FakeAdmin({"out": 1}))


def test_internal_topic_with_the_wrong_partition_count_is_refused():
    topology = _wordcount()
    admin = FakeAdmin({"text": 3, "wc-counts-changelog": 1})
    plan = plan_topology(topology, "wc", admin)
    with pytest.raises(Exception, match="Existing internal topic wc-counts-changelog has invalid partitions: "
                       "expected: 3; actual: 1; reset the application with `pystreams reset --application-id wc "
                       "--input-topics text` \\(Kafka's StreamsResetter\\) or delete the topic"):
        ensure_internal_topics(topology, plan, admin)



def _windowed_and_session():
    import pystreams.compiler.extensions  # noqa: F401  (registers windowed_by on grouped streams)
    from pystreams.dsl.windows import SessionWindows, TimeWindows

    b = StreamsBuilder()
    grouped = b.stream("text", Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())) \
        .group_by_key(Grouped(key_serde=Serdes.String(), value_serde=Serdes.String()))
    grouped.windowed_by(TimeWindows.of_size_and_grace(100_000, 10_000)).count(Materialized(name="win"))
    grouped.windowed_by(SessionWindows.of_inactivity_gap_and_grace(5_000, 1_000)).count(Materialized(name="ses"))
    grouped.count(Materialized(name="kv"))
    return b.build()


def test_internal_topics_get_kafkas_configs():
    """RepartitionTopicConfig / UnwindowedUnversionedChangelogTopicConfig as Kafka creates them."""
    topology = _wordcount()
    admin = FakeAdmin({"text": 2, "out": 1})
    ensure_internal_topics(topology, plan_topology(topology, "wc", admin), admin)
    configs = {t.topic: t.config for t in admin.created}
    assert configs["wc-counts-repartition"] == {"cleanup.policy": "delete", "retention.ms": "-1",
                                                "segment.bytes": "52428800", "message.timestamp.type": "CreateTime"}
    assert configs["wc-counts-changelog"] == {"cleanup.policy": "compact", "message.timestamp.type": "CreateTime"}


def test_window_and_session_changelogs_are_compact_delete_with_retention_plus_a_day():
    """WindowedChangelogTopicConfig: retention.ms = store retention (size + grace; gap + grace) + 1 day."""
    topology = _windowed_and_session()
    admin = FakeAdmin({"text": 2})
    ensure_internal_topics(topology, plan_topology(topology, "app", admin), admin)
    configs = {t.topic: t.config for t in admin.created}
    day = 86_400_000
    assert configs["app-win-changelog"] == {"cleanup.policy": "compact,delete", "retention.ms": str(110_000 + day),
                                            "message.timestamp.type": "CreateTime"}
    assert configs["app-ses-changelog"]["cleanup.policy"] == "compact,delete"
    assert configs["app-ses-changelog"]["retention.ms"] == str(6_000 + day)
    assert configs["app-kv-changelog"]["cleanup.policy"] == "compact"
    assert "retention.ms" not in configs["app-kv-changelog"]


def test_additional_retention_topic_prefix_and_store_log_config_override_in_kafkas_order():
    """library defaults < `topic.*` configs < the store's log config; a log-config retention.ms is kept as is."""
    from pystreams.runtime.config import StreamsConfig
    from pystreams.runtime.topics import (
        changelog_topic_config,
        repartition_topic_config,
    )

    cfg = StreamsConfig({"application.id": "a", "topic.segment.bytes": "1000", "topic.min.insync.replicas": 2,
                         "windowstore.changelog.additional.retention.ms": 5})
    assert cfg.topic_configs() == {"segment.bytes": "1000", "min.insync.replicas": "2"}
    assert cfg.windowstore_changelog_additional_retention_ms == 5
    assert repartition_topic_config(cfg.topic_configs())["segment.bytes"] == "1000"
    window = SimpleNamespace(retention_period_ms=100, log_config={"segment.bytes": 7})
    got = changelog_topic_config(window, cfg.topic_configs(), cfg.windowstore_changelog_additional_retention_ms)
    assert got == {"cleanup.policy": "compact,delete", "retention.ms": "105", "segment.bytes": "7",
                   "min.insync.replicas": "2", "message.timestamp.type": "CreateTime"}
    fixed = SimpleNamespace(retention_period_ms=100, log_config={"retention.ms": "42"})
    assert changelog_topic_config(fixed, {}, 5)["retention.ms"] == "42"
    huge = SimpleNamespace(retention_period_ms=2**63 - 10, log_config=None)
    assert changelog_topic_config(huge, {}, 86_400_000)["retention.ms"] == str(2**63 - 1)  # Kafka: Long.MAX_VALUE
