"""The errors of IQv2 (KafkaStreams.query(StateQueryRequest)), Kafka's exception names in pystreams' style."""
from __future__ import annotations

from pystreams.errors import PystreamsError
from pystreams.runtime.queries import InvalidStateStoreError


class StreamsNotStartedError(InvalidStateStoreError):
    """Kafka's StreamsNotStartedException: query() before start(); retry after starting the client."""


class StreamsStoppedError(InvalidStateStoreError):
    """Kafka's StreamsStoppedException: query() on a client that is closing or closed; it serves no more queries."""


class QueryResultAccessError(PystreamsError, ValueError):
    """Kafka's IllegalArgumentException from QueryResult: get_result() of a failure, get_failure_reason() of a
    success, or get_only_partition_result() over several non-empty partitions."""
