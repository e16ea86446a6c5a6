"""pystreams.runtime: KafkaStreams runs a compiled Topology on Kafka with confluent-kafka clients.
Imports compiler/processor/state/serdes/errors and the sans-IO codec pystreams.broker.protocol; never testing, cli
or the rest of the broker.

Assignment (docs/adr/0004-streams-assignor.md): Kafka Streams' way. Each stream thread is a member of the
application's group through our own membership client (runtime/group/, protocol "stream"), and the leader runs
runtime/assignment/'s StreamsPartitionAssignor: one task per (sub-topology, partition) with its co-partitioned
partitions together; clients (processes, by process id) balanced, their tasks spread over their threads; sticky;
state-aware (a stateful task goes to a client whose local state is within acceptable.recovery.lag of the changelog
end; a cold target gets up to max.warmup.replicas warm-up replicas and a probing rebalance every
probing.rebalance.interval.ms moves the task once it has caught up); num.standby.replicas standbys on other
clients, warm ones first, for any num.stream.threads; cooperative rebalancing (only moved tasks close; a move takes
a revoke round, then an assign round). The assignment carries every instance's partitions for interactive queries
(query_metadata_for_key, metadata_for_all_streams_clients) and SHUTDOWN_REQUESTED, so an uncaught-exception
handler answering SHUTDOWN_APPLICATION stops every instance (state ERROR). (The librdkafka-subscribe fallback,
`pystreams.assignor=librdkafka`, was removed: a config naming it is refused with a ConfigError.)
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pystreams.runtime.config import StreamsConfig
from pystreams.runtime.kafka_streams import (
    IllegalStateError,
    KafkaStreams,
    State,
    StreamThreadExceptionResponse,
)
from pystreams.runtime.restore_listeners import (
    StandbyUpdateListener,
    StateRestoreListener,
    SuspendReason,
)
from pystreams.runtime.thread_admin import CloseOptions, GroupMembershipOperation
from pystreams.runtime.topics import InternalTopicError, MissingSourceTopicError

if TYPE_CHECKING:
    from pystreams.runtime.queries import StoreQueryParameters

__all__ = ["CloseOptions", "GroupMembershipOperation", "IllegalStateError", "InternalTopicError", "KafkaStreams",
           "MissingSourceTopicError", "StandbyUpdateListener", "State", "StateRestoreListener",
           "StoreQueryParameters", "StreamThreadExceptionResponse", "StreamsConfig", "SuspendReason"]


def __getattr__(name: str) -> Any:
    """StoreQueryParameters loads the interactive-query module on first use (an app without queries skips it)."""
    if name == "StoreQueryParameters":
        from pystreams.runtime.queries import StoreQueryParameters

        globals()[name] = StoreQueryParameters
        return StoreQueryParameters
    raise AttributeError(f"module 'pystreams.runtime' has no attribute {name!r}")
