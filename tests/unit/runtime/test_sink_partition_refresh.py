"""KafkaRecordCollector.partitions_for (the partition count a StreamPartitioner is given), without a broker: a dict
hit per record, read again every metadata.max.age.ms of the producer (Kafka's producer refreshes its metadata that
often) from poll(), never per record; a sink topic that grew gets its new count, one that cannot be read now
keeps the old one."""
from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from confluent_kafka import KafkaError, KafkaException

from pystreams.runtime import collector as collector_module
from pystreams.runtime.collector import KafkaRecordCollector

pytestmark = pytest.mark.unit


class MetadataProducer:
    """list_topics answers from `counts` (the cluster); counts the Metadata requests per topic."""

    counts: ClassVar[dict[str, int]] = {}
    fail: ClassVar[bool] = False

    def __init__(self, config: dict[str, Any]) -> None:
        self.reads: list[str] = []

    def list_topics(self, topic: str | None = None, timeout: float = -1) -> Any:
        self.reads.append(str(topic))
        if MetadataProducer.fail:
            raise KafkaException(KafkaError(KafkaError._TRANSPORT))
        n = MetadataProducer.counts.get(str(topic))
        topics = {} if n is None else {topic: SimpleNamespace(error=None, partitions={p: None for p in range(n)})}
        return SimpleNamespace(topics=topics)

    def poll(self, timeout: float = 0) -> int:
        return 0

    def produce(self, *args: Any, **kwargs: Any) -> None:
        pass


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    counts = {"out": 2, "other": 3}
    monkeypatch.setattr(MetadataProducer, "counts", counts)
    monkeypatch.setattr(MetadataProducer, "fail", False)
    monkeypatch.setattr(collector_module, "Producer", MetadataProducer)
    return counts


def _collector(**config: Any) -> KafkaRecordCollector:
    return KafkaRecordCollector({"bootstrap.servers": "127.0.0.1:1", **config})


def _due(c: KafkaRecordCollector) -> None:
    c._partitions_refresh_at = time.monotonic() - 1


def test_the_count_is_read_once_then_a_dict_hit(cluster: dict[str, int]) -> None:
    c = _collector()
    assert [c.partitions_for("out") for _ in range(1000)] == [2] * 1000
    assert c.producer.reads == ["out"]
    assert c.partitions_for("missing") is None and c.partitions_for("missing") is None
    assert c.producer.reads == ["out", "missing", "missing"]  # unknown: asked again, never cached


def test_poll_reads_the_cached_counts_again_after_metadata_max_age(cluster: dict[str, int]) -> None:
    c = _collector(**{"metadata.max.age.ms": 60_000})
    assert c.partitions_max_age_s == 60.0
    c.partitions_for("out")
    c.partitions_for("other")
    cluster["out"] = 4
    for _ in range(100):
        c.poll()  # not due: no request
    assert c.producer.reads == ["out", "other"] and c.partitions_for("out") == 2
    _due(c)
    c.poll()
    assert sorted(c.producer.reads[2:]) == ["other", "out"]  # one request per cached topic
    assert c.partitions_for("out") == 4 and c.partitions_for("other") == 3
    c.poll()
    assert len(c.producer.reads) == 4  # the next refresh is metadata.max.age.ms away again


def test_the_refresh_is_due_metadata_max_age_after_the_first_read(cluster: dict[str, int]) -> None:
    c = _collector(**{"metadata.max.age.ms": "50"})  # a --set value arrives as a string
    c.partitions_for("out")
    cluster["out"] = 5
    c.poll()
    assert c.partitions_for("out") == 2
    time.sleep(0.08)
    c.poll()
    assert c.partitions_for("out") == 5


def test_without_cached_counts_poll_never_asks(cluster: dict[str, int]) -> None:
    c = _collector(**{"metadata.max.age.ms": 1})
    for _ in range(10):
        c.poll()
        time.sleep(0.002)
    assert c.producer.reads == []


def test_a_topic_that_cannot_be_read_keeps_its_count(cluster: dict[str, int]) -> None:
    c = _collector()
    c.partitions_for("out")
    MetadataProducer.fail = True
    _due(c)
    c.poll()
    assert c.partitions_for("out") == 2
    MetadataProducer.fail = False
    del cluster["out"]  # deleted (or not in the answer): the old count stays, the send reports the error
    _due(c)
    c.poll()
    assert c.partitions_for("out") == 2
    cluster["out"] = 6
    _due(c)
    c.poll()
    assert c.partitions_for("out") == 6


@pytest.mark.parametrize(("config", "seconds"), [({}, 300.0), ({"metadata.max.age.ms": 1000}, 1.0),
                                                 ({"metadata.max.age.ms": "2500"}, 2.5)])
def test_the_interval_is_the_producers_metadata_max_age(cluster: dict[str, int], config: dict[str, Any],
                                                        seconds: float) -> None:
    assert _collector(**config).partitions_max_age_s == seconds
