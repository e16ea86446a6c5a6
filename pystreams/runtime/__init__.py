"""pystreams.runtime: KafkaStreams runs a compiled Topology on Kafka with confluent-kafka clients.
Imports compiler/processor/state/serdes/errors; never testing, cli or the broker.

Assignment (documented choice): librdkafka cannot run a custom (Streams) assignor, so each stream thread's
consumer subscribes to all source topics and tasks are derived from the assigned partitions (task (sub-topology, p)
owns partition p of the sub-topology's topics). Default: the `range` assignor, which gives every member the same
partition numbers of all topics with equal partition counts, so co-partitioned inputs (joins, repartition topics
made with the input's count) always land together and each sub-topology's tasks are spread evenly. Its protocol is
eager: every task is committed, checkpointed and closed on every rebalance and reopened from local state +
checkpoint (reassignment to the same instance restores nothing). Opt-in
`consumer.partition.assignment.strategy=cooperative-sticky` (allowed only when every sub-topology reads one topic,
since it does not co-locate partitions): incremental rebalancing, unaffected tasks keep processing, but the balance
is per member, not per sub-topology. Limits: no state-aware placement (a task goes where the assignor puts it; warm
state helps only if it lands there); standby replicas: num.standby.replicas per stateful task on other instances,
placed by a deterministic rule every instance applies to the group's described assignment
(pystreams/runtime/standby_placement.py; one stream thread only); sub-topologies reading topics with different partition counts may split a task.
"""
from pystreams.runtime.config import StreamsConfig
from pystreams.runtime.kafka_streams import (IllegalStateError, KafkaStreams, State, StreamThreadExceptionResponse)
from pystreams.runtime.topics import InternalTopicError, MissingSourceTopicError

__all__ = ["IllegalStateError", "InternalTopicError", "KafkaStreams", "MissingSourceTopicError", "State",
           "StreamThreadExceptionResponse", "StreamsConfig"]
