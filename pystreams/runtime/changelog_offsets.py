"""Where a changelog (or global topic) partition stands against local state: the restore / global consumers'
configs (auto.offset.reset=error, Kafka's "none"), the log start after a jump, and checkpoints the log no longer
covers. Shared by the changelog reader (restore.py), standbys (standby.py) and global stores (global_state.py)."""
from __future__ import annotations

from typing import Any

from confluent_kafka import KafkaError, KafkaException, TopicPartition

from pystreams.runtime.checkpoint import known_offset
from pystreams.runtime.watermarks import watermarks

Partition = tuple[str, int]

#: the restore consumer's position is out of the changelog's range (with auto.offset.reset=error: librdkafka's
#: _AUTO_OFFSET_RESET; Kafka's InvalidOffsetException): the task is corrupted
OUT_OF_RANGE = frozenset({KafkaError._AUTO_OFFSET_RESET, KafkaError.OFFSET_OUT_OF_RANGE})


def restore_consumer_config(config: Any, client_id: str) -> dict[str, Any]:
    """The restore and standby consumers' config: the app's restore consumer config with
    auto.offset.reset=error, as Kafka Streams forces "none" on its restore consumer (librdkafka's name for it):
    a position outside the changelog is then a message error (_AUTO_OFFSET_RESET) and the consumer stops
    fetching that partition, instead of jumping to the earliest offset over state the log no longer has
    (tests/integration/runtime/test_restore_offset_reset.py shows it on both brokers). Not user-overridable."""
    return {**config.restore_consumer_config(client_id), "auto.offset.reset": "error"}


def global_consumer_config(config: Any, client_id: str) -> dict[str, Any]:
    """The global consumer's config: `global.consumer.` over `consumer.` over unprefixed keys (Kafka's
    StreamsConfig.getGlobalConsumerConfigs; `restore.consumer.` keys are not read), with auto.offset.reset=error
    like the restore consumer (Kafka forces "none" on both)."""
    return {**config.global_consumer_config(client_id), "auto.offset.reset": "error"}


def log_start(consumer: Any, tp: Partition) -> int | None:
    """The changelog's log start offset after its offsets jumped forward: the one the last fetch response carried
    (librdkafka keeps it; no request), else asked from the broker; None when it cannot be read. A log start past
    the offset expected next means records were deleted before they were read (DeleteRecords, retention) and the
    consumer's out-of-range position was reset; compaction and transaction markers leave gaps too, but never
    move the log start."""
    try:
        low, _high = consumer.get_watermark_offsets(TopicPartition(*tp), timeout=1.0, cached=True)
        if low is not None and low >= 0:
            return int(low)
    except KafkaException:
        pass
    try:
        return watermarks(consumer, TopicPartition(*tp), timeout=5.0)[0]
    except KafkaException:
        return None


def invalid_checkpoints(checkpoint: dict[Partition, int], marks: dict[Partition, tuple[int, int]],
                        partitions: Any, next_offsets: bool = False) -> dict[Partition, tuple[int, int, int]]:
    """Partition -> (checkpointed offset, log start, log end) of each partition whose checkpoint the log no longer
    covers: the next offset to read (checkpoint + 1; the checkpoint itself with next_offsets, as in the global
    checkpoint) is below the log start (DeleteRecords, retention) or past the log end (the topic was deleted and
    re-created). Kafka's restore consumer finds these as an InvalidOffsetException on its first fetch; checking
    the watermarks first says it before any fetch."""
    out: dict[Partition, tuple[int, int, int]] = {}
    step = 0 if next_offsets else 1
    for tp in partitions:
        known = known_offset(checkpoint.get(tp))
        if tp in marks and known is not None and not marks[tp][0] <= known + step <= marks[tp][1]:
            out[tp] = (known, *marks[tp])
    return out


def describe_invalid(invalid: dict[Partition, tuple[int, int, int]], what: str = "changelog") -> str:
    """invalid_checkpoints() in words, for the corruption warning ("changelog <t>-<p>: checkpointed offset ...")."""
    return "; ".join(f"{what} {t}-{p}: checkpointed offset {known} is out of its range {low}-{high}"
                     for (t, p), (known, low, high) in sorted(invalid.items()))


__all__ = ["OUT_OF_RANGE", "describe_invalid", "global_consumer_config", "invalid_checkpoints", "log_start",
           "restore_consumer_config"]
