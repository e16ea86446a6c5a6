"""Everything a request handler may read or change: config, topic catalogue, logs, groups.

Why: handlers are functions of (header, request, state); keeping all mutable broker state in one
object lets unit tests build a state with a temp dir and call handlers without sockets.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from pystreams.broker.config import BrokerConfig
from pystreams.broker.metadata import (INTERNAL_TOPICS, ClusterMetadata, TopicInfo,
                                       topic_name_error)
from pystreams.broker.server import codes as ErrorCode

if TYPE_CHECKING:
    from pystreams.broker.coordinator.service import GroupService
    from pystreams.broker.log import LogManager
    from pystreams.broker.server.fetch_sessions import FetchSessionCache

log = logging.getLogger("pystreams.broker.server")

#: Topic-level config keys and the broker-level key that supplies their default.
TOPIC_CONFIG_DEFAULTS: dict[str, str] = {
    "cleanup.policy": "log.cleanup.policy",
    "retention.ms": "log.retention.ms",
    "retention.bytes": "log.retention.bytes",
    "segment.bytes": "log.segment.bytes",
    "segment.ms": "log.roll.ms",
    "segment.index.bytes": "log.index.size.max.bytes",
    "index.interval.bytes": "log.index.interval.bytes",
    "flush.messages": "log.flush.interval.messages",
    "flush.ms": "log.flush.interval.ms",
    "max.message.bytes": "message.max.bytes",
    "message.timestamp.type": "log.message.timestamp.type",
    "min.insync.replicas": "min.insync.replicas",
    "compression.type": "compression.type",
    "delete.retention.ms": "log.cleaner.delete.retention.ms",
    "min.compaction.lag.ms": "log.cleaner.min.compaction.lag.ms",
    "file.delete.delay.ms": "log.segment.delete.delay.ms",
}
#: Kafka's defaults for those keys when the broker config does not set them.
TOPIC_CONFIG_KAFKA_DEFAULTS: dict[str, str] = {
    "cleanup.policy": "delete", "retention.ms": "604800000", "retention.bytes": "-1",
    "segment.bytes": "1073741824", "segment.ms": "604800000", "segment.index.bytes": "10485760",
    "index.interval.bytes": "4096", "flush.messages": "9223372036854775807",
    "flush.ms": "9223372036854775807", "max.message.bytes": "1048588",
    "message.timestamp.type": "CreateTime", "min.insync.replicas": "1",
    "compression.type": "producer", "delete.retention.ms": "86400000",
    "min.compaction.lag.ms": "0", "file.delete.delay.ms": "60000",
}


#: A single node refuses absurd partition counts instead of creating a million directories.
MAX_PARTITIONS_PER_TOPIC = 100_000


class TopicError(Exception):
    """A topic operation failed with a Kafka error code and a message for the client."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class BrokerState:
    """The single node's state, shared by every connection of one broker process."""

    config: BrokerConfig
    metadata: ClusterMetadata
    logs: LogManager
    host: str = "127.0.0.1"
    port: int = 0
    clock_ms: Callable[[], int] = field(default=lambda: int(time.time() * 1000))
    coordinator: GroupService | None = None
    fetch_sessions: FetchSessionCache | None = None
    _data_event: asyncio.Event | None = None

    @property
    def node_id(self) -> int:
        """This broker's node id, leader of every partition."""
        return self.config.node_id

    # --- data arrival (long-poll fetch wakes up on produce) ---------------------------------
    def data_event(self) -> asyncio.Event:
        """An event set at the next append; Fetch waits on it instead of polling."""
        if self._data_event is None:
            self._data_event = asyncio.Event()
        return self._data_event

    def notify_append(self) -> None:
        """Wake every waiting Fetch: new data may satisfy its min_bytes."""
        if self._data_event is not None:
            self._data_event.set()
            self._data_event = None

    # --- topics ------------------------------------------------------------------------------
    def topic_config(self, info: TopicInfo) -> dict[str, str]:
        """Effective topic-level config: overrides, else the broker default, else Kafka's."""
        out = {}
        for key, broker_key in TOPIC_CONFIG_DEFAULTS.items():
            if key in info.configs:
                out[key] = info.configs[key]
            else:
                value = self.config.props.get(broker_key)
                if value is None and key == "retention.ms":
                    hours = self.config.props.get("log.retention.hours")
                    minutes = self.config.props.get("log.retention.minutes")
                    if minutes is not None:
                        value = str(int(minutes) * 60000)
                    elif hours is not None:
                        value = str(int(hours) * 3600000)
                out[key] = value if value is not None else TOPIC_CONFIG_KAFKA_DEFAULTS[key]
        for key, value in info.configs.items():
            out.setdefault(key, value)
        return out

    def validate_new_topic(self, name: str, num_partitions: int, replication_factor: int,
                           internal_ok: bool = False) -> None:
        """Raise TopicError with Kafka's code when CreateTopics must refuse this topic."""
        why = topic_name_error(name)
        if why:
            raise TopicError(ErrorCode.INVALID_TOPIC_EXCEPTION, why)
        if name in self.metadata.topics:
            raise TopicError(ErrorCode.TOPIC_ALREADY_EXISTS, f"Topic '{name}' already exists.")
        if name in INTERNAL_TOPICS and not internal_ok:
            raise TopicError(ErrorCode.INVALID_TOPIC_EXCEPTION, f"{name} is an internal topic")
        canonical = name.replace(".", "_")
        for other in self.metadata.topics:
            if other.replace(".", "_") == canonical:  # Kafka's metric-name collision rule
                raise TopicError(ErrorCode.INVALID_TOPIC_EXCEPTION,
                                 f"Topic '{name}' collides with existing topic: {other}")
        if num_partitions <= 0:
            raise TopicError(ErrorCode.INVALID_PARTITIONS,
                             "Number of partitions was set to an invalid non-positive value.")
        if num_partitions > MAX_PARTITIONS_PER_TOPIC:
            raise TopicError(ErrorCode.INVALID_PARTITIONS,
                             f"Number of partitions {num_partitions} is more than this broker "
                             f"allows per topic ({MAX_PARTITIONS_PER_TOPIC}).")
        if replication_factor <= 0 or replication_factor > 1:
            raise TopicError(ErrorCode.INVALID_REPLICATION_FACTOR,
                             f"Unable to replicate the partition {replication_factor} time(s): "
                             "The target replication factor of "
                             f"{replication_factor} cannot be reached because only 1 broker(s) "
                             "are registered.")

    def create_topic(self, name: str, num_partitions: int, configs: dict[str, str] | None = None
                     ) -> TopicInfo:
        """Create the partitions' logs, then record the topic (so a crash leaves no ghost)."""
        configs = dict(configs or {})
        for p in range(num_partitions):
            self.logs.create_partition(name, p, configs)
        info = self.metadata.add_topic(name, num_partitions, configs)
        log.info("topic created", extra={"topic": name, "partitions": num_partitions})
        return info

    def delete_topic(self, name: str) -> None:
        """Forget the topic, then delete its partition directories."""
        self.metadata.remove_topic(name)
        self.logs.delete_topic(name)
        if self.fetch_sessions is not None:
            self.fetch_sessions.forget_topic(name)
        log.info("topic deleted", extra={"topic": name})

    def add_partitions(self, name: str, count: int) -> None:
        """Grow a topic to `count` partitions (never shrinks)."""
        info = self.metadata.topics[name]
        for p in range(info.num_partitions, count):
            self.logs.create_partition(name, p, info.configs)
        self.metadata.set_partitions(name, count)

    def partition_log(self, topic: str, partition: int):
        """The PartitionLog of (topic, partition), or None when the topic/partition is unknown."""
        info = self.metadata.topics.get(topic)
        if info is None or not 0 <= partition < info.num_partitions:
            return None
        return self.logs.get(topic, partition)

    def maybe_auto_create(self, name: str) -> TopicInfo | None:
        """Auto-create `name` with num.partitions when the broker allows it, as Kafka does."""
        if not self.config.get_bool("auto.create.topics.enable"):
            return None
        if topic_name_error(name) or name in INTERNAL_TOPICS:
            return None
        try:
            self.validate_new_topic(name, self.config.get_int("num.partitions"), 1)
        except TopicError:
            return None
        return self.create_topic(name, self.config.get_int("num.partitions"))
