"""Kafka's FailureReason (org.apache.kafka.streams.query): why one partition of a store could not answer a query.
A store answers a failed QueryResult with one of these instead of raising."""
from __future__ import annotations

import enum


class FailureReason(enum.Enum):
    """The six reasons of Kafka 4.1, in Kafka's order."""

    #: the store does not know how to run this query (e.g. a WindowKeyQuery on a key-value store)
    UNKNOWN_QUERY_TYPE = "UNKNOWN_QUERY_TYPE"
    #: require_active() was asked but the partition is a standby, restoring, or its thread is not RUNNING
    NOT_ACTIVE = "NOT_ACTIVE"
    #: the partition's position is behind the request's PositionBound: retry later or ask another replica
    NOT_UP_TO_BOUND = "NOT_UP_TO_BOUND"
    #: the requested partition is not on this instance (it may have migrated): ask another instance
    NOT_PRESENT = "NOT_PRESENT"
    #: the requested partition does not exist at all (partition 4 of a store with partitions 0..3)
    DOES_NOT_EXIST = "DOES_NOT_EXIST"
    #: the store raised while running the query; the message has the exception
    STORE_EXCEPTION = "STORE_EXCEPTION"
