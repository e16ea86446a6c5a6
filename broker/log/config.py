"""LogConfig: a partition log's topic-level settings under Kafka's key names and defaults, so a
`--config segment.bytes=...` or a server.properties `log.segment.bytes` means what it means in
Kafka."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from .errors import InvalidConfigError

LONG_MAX = 2**63 - 1

# topic key -> (attribute, type); defaults live on the dataclass fields
_TOPIC_KEYS: dict[str, tuple[str, type]] = {
    "segment.bytes": ("segment_bytes", int),
    "segment.ms": ("segment_ms", int),
    "segment.jitter.ms": ("segment_jitter_ms", int),
    "segment.index.bytes": ("segment_index_bytes", int),
    "index.interval.bytes": ("index_interval_bytes", int),
    "retention.ms": ("retention_ms", int),
    "retention.bytes": ("retention_bytes", int),
    "flush.messages": ("flush_messages", int),
    "flush.ms": ("flush_ms", int),
    "cleanup.policy": ("cleanup_policy", str),
    "message.timestamp.type": ("message_timestamp_type", str),
    "message.timestamp.before.max.ms": ("message_timestamp_before_max_ms", int),
    "message.timestamp.after.max.ms": ("message_timestamp_after_max_ms", int),
    "max.message.bytes": ("max_message_bytes", int),
    "file.delete.delay.ms": ("file_delete_delay_ms", int),
    "delete.retention.ms": ("delete_retention_ms", int),
    "min.compaction.lag.ms": ("min_compaction_lag_ms", int),
    "max.compaction.lag.ms": ("max_compaction_lag_ms", int),
    "min.cleanable.dirty.ratio": ("min_cleanable_dirty_ratio", float),
    "compression.type": ("compression_type", str),
    "min.insync.replicas": ("min_insync_replicas", int),
    "preallocate": ("preallocate", bool),
    "producer.id.expiration.ms": ("producer_id_expiration_ms", int),  # broker-level in Kafka
}

# server.properties key -> topic key (Kafka's LogConfig "synonyms"); hours/minutes converted
_BROKER_KEYS: dict[str, str] = {
    "log.segment.bytes": "segment.bytes",
    "log.roll.ms": "segment.ms",
    "log.roll.jitter.ms": "segment.jitter.ms",
    "log.index.size.max.bytes": "segment.index.bytes",
    "log.index.interval.bytes": "index.interval.bytes",
    "log.retention.ms": "retention.ms",
    "log.retention.bytes": "retention.bytes",
    "log.flush.interval.messages": "flush.messages",
    "log.flush.interval.ms": "flush.ms",
    "log.cleanup.policy": "cleanup.policy",
    "log.message.timestamp.type": "message.timestamp.type",
    "log.message.timestamp.before.max.ms": "message.timestamp.before.max.ms",
    "log.message.timestamp.after.max.ms": "message.timestamp.after.max.ms",
    "message.max.bytes": "max.message.bytes",
    "log.segment.delete.delay.ms": "file.delete.delay.ms",
    "log.cleaner.delete.retention.ms": "delete.retention.ms",
    "log.cleaner.min.compaction.lag.ms": "min.compaction.lag.ms",
    "log.cleaner.max.compaction.lag.ms": "max.compaction.lag.ms",
    "log.cleaner.min.cleanable.ratio": "min.cleanable.dirty.ratio",
    "compression.type": "compression.type",
    "min.insync.replicas": "min.insync.replicas",
    "log.preallocate": "preallocate",
    "producer.id.expiration.ms": "producer.id.expiration.ms",
}
# coarser broker keys, finest first: ms beats minutes beats hours (Kafka's precedence)
_BROKER_COARSE: list[tuple[str, str, int]] = [
    ("log.roll.hours", "segment.ms", 3_600_000),
    ("log.roll.jitter.hours", "segment.jitter.ms", 3_600_000),
    ("log.retention.minutes", "retention.ms", 60_000),
    ("log.retention.hours", "retention.ms", 3_600_000),
]


@dataclass(frozen=True)
class LogConfig:
    """Topic-level log settings (immutable; alter a topic by building a new one)."""

    segment_bytes: int = 1024 * 1024 * 1024
    segment_ms: int = 7 * 24 * 3_600_000
    segment_jitter_ms: int = 0
    segment_index_bytes: int = 10 * 1024 * 1024
    index_interval_bytes: int = 4096
    retention_ms: int = 7 * 24 * 3_600_000
    retention_bytes: int = -1
    flush_messages: int = LONG_MAX
    flush_ms: int = LONG_MAX
    cleanup_policy: str = "delete"
    message_timestamp_type: str = "CreateTime"
    message_timestamp_before_max_ms: int = LONG_MAX
    message_timestamp_after_max_ms: int = 3_600_000
    max_message_bytes: int = 1_048_588
    file_delete_delay_ms: int = 60_000
    delete_retention_ms: int = 86_400_000
    min_compaction_lag_ms: int = 0
    max_compaction_lag_ms: int = LONG_MAX
    min_cleanable_dirty_ratio: float = 0.5
    compression_type: str = "producer"
    min_insync_replicas: int = 1
    preallocate: bool = False
    producer_id_expiration_ms: int = 86_400_000
    #: the keys that were set explicitly (DescribeConfigs reports them as topic overrides)
    overrides: Mapping[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def from_props(cls, props: Mapping[str, str], base: LogConfig | None = None) -> LogConfig:
        """Parse topic-level keys (strings, as CreateTopics/AlterConfigs carry them) over `base`
        (default: Kafka's defaults); unknown keys are ignored, bad values raise INVALID_CONFIG."""
        values: dict[str, object] = {}
        for key, raw in props.items():
            if key not in _TOPIC_KEYS:
                continue
            attr, kind = _TOPIC_KEYS[key]
            values[attr] = _parse(key, str(raw), kind)
        merged = {**(base.overrides if base else {}), **{k: str(v) for k, v in props.items()
                                                         if k in _TOPIC_KEYS}}
        config = dataclasses.replace(base or cls(), **values, overrides=merged)  # type: ignore[arg-type]
        config.check()
        return config

    @classmethod
    def from_broker_props(cls, props: Mapping[str, str]) -> LogConfig:
        """The broker-wide default from server.properties keys (log.segment.bytes, log.retention.hours, ...)."""
        topic: dict[str, str] = {}
        for broker_key, scale_key, factor in _BROKER_COARSE:
            if broker_key in props and scale_key not in topic:
                value = _parse(broker_key, props[broker_key], int)
                assert isinstance(value, int)
                topic[scale_key] = str(value * factor if value >= 0 else -1)  # -1: unlimited
        for broker_key, topic_key in _BROKER_KEYS.items():
            if broker_key in props:
                topic[topic_key] = props[broker_key]
        config = cls.from_props(topic)
        return dataclasses.replace(config, overrides={})

    def with_overrides(self, props: Mapping[str, str]) -> LogConfig:
        """This config with topic-level overrides applied (CreateTopics configs, AlterConfigs)."""
        return LogConfig.from_props(props, base=dataclasses.replace(self, overrides={}))

    @property
    def log_append_time(self) -> bool:
        return self.message_timestamp_type == "LogAppendTime"

    @property
    def compact(self) -> bool:
        return "compact" in self.cleanup_policy.split(",")

    @property
    def delete(self) -> bool:
        return "delete" in self.cleanup_policy.split(",")

    def check(self) -> None:
        """Refuse values Kafka refuses, naming the key."""
        def bad(key: str, why: str) -> InvalidConfigError:
            return InvalidConfigError(f"invalid value for {key}: {why}")
        if self.segment_bytes < 14:
            raise bad("segment.bytes", "must be at least 14 bytes")
        if self.segment_ms < 1:
            raise bad("segment.ms", "must be at least 1")
        if self.segment_index_bytes < 8:
            raise bad("segment.index.bytes", "must be at least 8")
        if self.index_interval_bytes < 0:
            raise bad("index.interval.bytes", "must be >= 0")
        if self.retention_ms < -1:
            raise bad("retention.ms", "must be >= -1 (-1: unlimited)")
        if self.flush_messages < 1 or self.flush_ms < 0:
            raise bad("flush.messages/flush.ms", "must be positive")
        if self.max_message_bytes < 0:
            raise bad("max.message.bytes", "must be >= 0")
        if self.message_timestamp_type not in ("CreateTime", "LogAppendTime"):
            raise bad("message.timestamp.type", "must be CreateTime or LogAppendTime")
        policies = set(self.cleanup_policy.split(","))
        if not policies <= {"delete", "compact"} or not self.cleanup_policy:
            raise bad("cleanup.policy", "must be delete, compact or delete,compact")


def _parse(key: str, raw: str, kind: type) -> object:
    text = raw.strip()
    try:
        if kind is bool:
            if text.lower() not in ("true", "false"):
                raise ValueError(text)
            return text.lower() == "true"
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
        return text.replace(" ", "")
    except ValueError:
        raise InvalidConfigError(f"invalid value {raw!r} for {key}: expected "
                                 f"{kind.__name__}") from None
