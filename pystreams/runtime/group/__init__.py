"""pystreams.runtime.group: the classic consumer-group protocol run by pystreams itself (one member per stream
thread), so that Kafka Streams' assignor can run; may import pystreams.broker.protocol (the sans-IO codec) and
nothing else of the broker (docs/adr/0004-streams-assignor.md)."""
from __future__ import annotations

from pystreams.runtime.group.client import GroupClient, JoinResult
from pystreams.runtime.group.errors import (BrokerConnectionError, CoordinatorMovedError, GroupError,
                                            MemberFencedError, RebalanceInProgressError)
from pystreams.runtime.group.membership import GroupMember, MemberConfig, MemberMetadata, MemberState, Rebalance
from pystreams.runtime.group.metadata import consumer_group_metadata, parse_consumer_group_metadata

__all__ = ["BrokerConnectionError", "CoordinatorMovedError", "GroupClient", "GroupError", "GroupMember",
           "JoinResult", "MemberConfig", "MemberFencedError", "MemberMetadata", "MemberState",
           "RebalanceInProgressError", "Rebalance", "consumer_group_metadata", "parse_consumer_group_metadata"]
