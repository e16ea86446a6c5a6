"""pystreams.runtime: KafkaStreams runs a compiled Topology on Kafka with confluent-kafka clients.
Imports compiler/processor/state/serdes/errors; never testing, cli or the broker.

Assignment (documented choice): librdkafka cannot run a custom (Streams) assignor, so each stream thread's
consumer subscribes to all source topics with the `range` assignor. Range gives every member the same partition
numbers of all topics with equal partition counts, so co-partitioned inputs (joins, repartition topics made with
the input's count) of task (sub-topology, p) always land together. Limits: eager rebalancing (all tasks are
committed, checkpointed and closed on every rebalance and reopened from their local state + checkpoint, so
reassignment to the same instance restores nothing); no standby replicas; sub-topologies reading topics with
different partition counts (merge without co-partitioning) may split a task across instances.
"""
from pystreams.runtime.config import StreamsConfig
from pystreams.runtime.kafka_streams import (IllegalStateError, KafkaStreams, State, StreamThreadExceptionResponse)
from pystreams.runtime.topics import InternalTopicError, MissingSourceTopicError

__all__ = ["IllegalStateError", "InternalTopicError", "KafkaStreams", "MissingSourceTopicError", "State",
           "StreamThreadExceptionResponse", "StreamsConfig"]
