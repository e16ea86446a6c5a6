"""Interactive Queries v2 (Kafka's org.apache.kafka.streams.query, KIP-796/805/806/968/992):
`streams.query(StateQueryRequest.in_store(name).with_query(KeyQuery.with_key(k)))` returns a StateQueryResult
with one QueryResult per store partition of this instance, each a result or a FailureReason, with the
partition's Position (how far it has read its input) so callers can ask for a PositionBound."""
from __future__ import annotations

from pystreams.query.errors import (
           QueryResultAccessError,
           StreamsNotStartedError,
           StreamsStoppedError,
)
from pystreams.query.failure_reason import FailureReason
from pystreams.query.key_query import KeyQuery, TimestampedKeyQuery
from pystreams.query.position import Position, PositionBound
from pystreams.query.range_query import RangeQuery, TimestampedRangeQuery
from pystreams.query.request import InStore, StateQueryRequest
from pystreams.query.result import QueryResult, StateQueryResult
from pystreams.query.result_order import ResultOrder
from pystreams.query.window_query import WindowKeyQuery, WindowRangeQuery

__all__ = ["FailureReason", "InStore", "KeyQuery", "Position", "PositionBound", "QueryResult",
           "QueryResultAccessError", "RangeQuery", "ResultOrder", "StateQueryRequest", "StateQueryResult",
           "StreamsNotStartedError", "StreamsStoppedError", "TimestampedKeyQuery", "TimestampedRangeQuery",
           "WindowKeyQuery", "WindowRangeQuery"]
