"""Task idling decisions (Kafka's PartitionGroup.readyToProcess, KIP-353/KIP-695), without a consumer."""
from __future__ import annotations

import pytest

from pystreams.errors import ConfigError
from pystreams.processor.internals.task_idling import (
    MAX_TASK_IDLE_MS_DISABLED,
    TaskIdling,
    parse_max_task_idle_ms,
)

pytestmark = pytest.mark.unit

A, B = ("stream", 0), ("table", 0)


def buffered(**counts: int):
    table = {A: counts.get("a", 0), B: counts.get("b", 0)}
    return lambda tp: table[tp]


def test_all_partitions_buffered_is_ready_without_any_lag_known():
    idling = TaskIdling([A, B], 0)
    assert idling.ready_to_process(1000, buffered(a=3, b=1))
    assert not idling.enforced


@pytest.mark.parametrize("idle_ms", [0, 50, 10_000])
def test_an_empty_partition_with_unknown_lag_blocks_whatever_the_idle_time(idle_ms):
    idling = TaskIdling([A, B], idle_ms)
    idling.update_lags({A: 0})  # B: no fetch answer yet
    for now in (0, 100, 10**9):
        assert not idling.ready_to_process(now, buffered(a=5))
    idling.update_lags({A: 0, B: None})
    assert not idling.ready_to_process(10**9 + 1, buffered(a=5))


def test_an_empty_partition_with_records_on_the_broker_blocks_until_they_are_buffered():
    idling = TaskIdling([A, B], 0)
    idling.update_lags({A: 0, B: 7})
    assert not idling.ready_to_process(0, buffered(a=5))
    assert not idling.ready_to_process(10**9, buffered(a=5))  # no deadline for lag > 0
    assert idling.ready_to_process(10**9, buffered(a=5, b=7))
    assert not idling.enforced


def test_default_zero_processes_at_once_when_the_empty_partition_is_caught_up_and_counts_it_enforced():
    idling = TaskIdling([A, B], 0)
    idling.update_lags({A: 0, B: 0})
    assert idling.ready_to_process(500, buffered(a=5))
    assert idling.enforced
    idling.processed(5)
    assert idling.enforced_processing_total == 5
    assert idling.ready_to_process(501, buffered(a=2, b=1))  # both buffered: not enforced
    idling.processed(3)
    assert not idling.enforced and idling.enforced_processing_total == 5


def test_a_caught_up_empty_partition_is_waited_for_max_task_idle_ms_from_when_it_was_first_seen_empty():
    idling = TaskIdling([A, B], 100)
    idling.update_lags({A: 0, B: 0})
    assert not idling.ready_to_process(1000, buffered(a=5))  # deadline 1100
    assert not idling.ready_to_process(1099, buffered(a=5))
    assert idling.ready_to_process(1100, buffered(a=5))
    assert idling.enforced
    # records arrive on B: its deadline is dropped; empty again later -> a new idle period starts then
    assert idling.ready_to_process(1200, buffered(a=5, b=1))
    assert not idling.ready_to_process(1300, buffered(a=5))  # deadline 1400
    assert idling.ready_to_process(1400, buffered(a=5))


def test_lag_rising_again_drops_the_deadline():
    idling = TaskIdling([A, B], 100)
    idling.update_lags({A: 0, B: 0})
    assert not idling.ready_to_process(0, buffered(a=1))  # deadline 100
    idling.update_lags({A: 0, B: 2})
    assert not idling.ready_to_process(150, buffered(a=1))
    idling.update_lags({A: 0, B: 0})
    assert not idling.ready_to_process(160, buffered(a=1))  # new deadline 260, not the old 100
    assert idling.ready_to_process(260, buffered(a=1))


def test_nothing_buffered_anywhere_is_not_ready_even_past_every_deadline():
    idling = TaskIdling([A, B], 0)
    idling.update_lags({A: 0, B: 0})
    assert not idling.ready_to_process(10**9, buffered())
    assert not idling.enforced


def test_disabled_never_waits_and_counts_nothing():
    idling = TaskIdling([A, B], MAX_TASK_IDLE_MS_DISABLED)
    assert not idling.may_wait
    idling.update_lags({A: 0, B: 9})
    assert idling.ready_to_process(0, buffered(a=1))
    idling.processed(1)
    assert idling.enforced_processing_total == 0
    assert idling.lag(B) is None  # Kafka does not even track lags when disabled


def test_a_single_partition_task_never_needs_the_check():
    assert not TaskIdling([A], 0).may_wait
    assert not TaskIdling([A, A], 0).may_wait  # duplicates are one partition
    assert TaskIdling([A, B], 0).may_wait


def test_clear_forgets_lags_and_deadlines():
    idling = TaskIdling([A, B], 100)
    idling.update_lags({A: 0, B: 0})
    assert not idling.ready_to_process(0, buffered(a=1))
    idling.clear()
    assert idling.lag(B) is None
    assert not idling.ready_to_process(500, buffered(a=1))  # unknown lag again


@pytest.mark.parametrize("value,expected", [(0, 0), ("250", 250), (-1, -1), (1.0, 1), (10**12, 10**12)])
def test_parse_accepts_kafka_values(value, expected):
    assert parse_max_task_idle_ms(value) == expected


@pytest.mark.parametrize("value", [-2, "soon", None, True, 1.5])
def test_parse_refuses_bad_values_with_a_config_error(value):
    with pytest.raises(ConfigError, match="max.task.idle.ms"):
        parse_max_task_idle_ms(value)
