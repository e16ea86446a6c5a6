"""watermarks(): retriable ListOffsets answers (a just-created topic on Apache Kafka) are retried, others are not."""
from __future__ import annotations

import time

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from pystreams.runtime.watermarks import watermarks

pytestmark = pytest.mark.unit


class _Consumer:
    def __init__(self, answers: list[object]) -> None:
        self.answers = answers
        self.calls = 0

    def get_watermark_offsets(self, tp: TopicPartition, timeout: float, cached: bool) -> tuple[int, int]:
        self.calls += 1
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, int):
            raise KafkaException(KafkaError(answer))
        assert isinstance(answer, tuple)
        return answer


def test_not_leader_is_retried_until_the_leader_is_known() -> None:
    consumer = _Consumer([KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.UNKNOWN_TOPIC_OR_PART, (0, 42)])
    assert watermarks(consumer, TopicPartition("t", 0), timeout=5) == (0, 42)
    assert consumer.calls == 3


def test_a_non_retriable_error_is_raised_at_once() -> None:
    consumer = _Consumer([KafkaError.TOPIC_AUTHORIZATION_FAILED, (0, 1)])
    with pytest.raises(KafkaException) as info:
        watermarks(consumer, TopicPartition("t", 0), timeout=5)
    assert info.value.args[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert consumer.calls == 1


def test_retries_stop_at_the_timeout() -> None:
    consumer = _Consumer([KafkaError.NOT_LEADER_FOR_PARTITION])
    started = time.monotonic()
    with pytest.raises(KafkaException):
        watermarks(consumer, TopicPartition("t", 0), timeout=0.5)
    assert time.monotonic() - started < 2.0
    assert consumer.calls >= 2
