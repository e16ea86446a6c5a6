"""Which exactly_once_v2 commit failures are Kafka's TimeoutException -> TaskCorruptedException (tasks revived in
place, a rebalance enforced) rather than a task migration: offsets of a deleted topic that librdkafka retried
(TxnOffsetCommit UNKNOWN_TOPIC_OR_PARTITION) until max.block.ms and then answered with, abortable; not a fatal error,
not a fenced producer."""
from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, KafkaException

from pystreams.runtime.task_migration import offsets_timed_out

pytestmark = pytest.mark.unit


def _error(code: int, fatal: bool = False) -> KafkaException:
    return KafkaException(KafkaError(code, "Failed to commit offsets to transaction", fatal=fatal,
                                     txn_requires_abort=not fatal))


def test_offsets_of_a_deleted_topic_that_timed_out_corrupt_the_tasks() -> None:
    assert offsets_timed_out(_error(KafkaError.UNKNOWN_TOPIC_OR_PART))


@pytest.mark.parametrize("error", [_error(KafkaError.UNKNOWN_TOPIC_OR_PART, fatal=True),
                                   _error(KafkaError.PRODUCER_FENCED, fatal=True),
                                   _error(KafkaError.ILLEGAL_GENERATION),
                                   RuntimeError("not a client error")],
                         ids=["fatal", "fenced", "generation", "other"])
def test_other_failures_are_not(error: BaseException) -> None:
    assert not offsets_timed_out(error)
