"""Kafka's QueryResult (one store partition's answer: a result or a FailureReason with a message, its Position
and optional execution info) and StateQueryResult (every partition's QueryResult, or the global store's)."""
from __future__ import annotations

from typing import Any

from pystreams.query.errors import QueryResultAccessError
from pystreams.query.failure_reason import FailureReason
from pystreams.query.position import Position, PositionBound


class QueryResult:
    """Success (get_result) or failure (get_failure_reason / get_failure_message); the other getter raises."""

    __slots__ = ("_execution_info", "_message", "_position", "_reason", "_result")

    def __init__(self, result: Any = None, reason: FailureReason | None = None, message: str | None = None) -> None:
        self._result = result
        self._reason = reason
        self._message = message
        self._position: Position | None = None
        self._execution_info: list[str] = []

    @classmethod
    def for_result(cls, result: Any) -> QueryResult:
        return cls(result)

    @classmethod
    def for_failure(cls, reason: FailureReason, message: str) -> QueryResult:
        if not isinstance(reason, FailureReason):
            raise QueryResultAccessError(f"for_failure takes a FailureReason, got {reason!r}")
        return cls(None, reason, message)

    @classmethod
    def for_unknown_query_type(cls, query: Any, store: Any) -> QueryResult:
        return cls.for_failure(FailureReason.UNKNOWN_QUERY_TYPE,
                               f"This store ({type(store).__name__}) doesn't know how to execute the given query "
                               f"({query}). Contact the store maintainer if you need support for a new query type.")

    @classmethod
    def not_up_to_bound(cls, position: Position, bound: PositionBound, partition: int | None) -> QueryResult:
        if partition is None:
            return cls.for_failure(FailureReason.NOT_UP_TO_BOUND,
                                   f"The store is not initialized yet, so it is not yet up to the bound {bound}")
        return cls.for_failure(FailureReason.NOT_UP_TO_BOUND,
                               f"For store partition {partition}, the current position {position} is not yet up "
                               f"to the bound {bound}")

    def is_success(self) -> bool:
        return self._reason is None

    def is_failure(self) -> bool:
        return self._reason is not None

    def get_result(self) -> Any:
        if self._reason is not None:
            raise QueryResultAccessError(f"Cannot get result for failed query. Failure is {self._reason.name}: "
                                         f"{self._message}")
        return self._result

    def get_failure_reason(self) -> FailureReason:
        if self._reason is None:
            raise QueryResultAccessError("Cannot get failure reason for a successful query: the query succeeded")
        return self._reason

    def get_failure_message(self) -> str:
        if self._reason is None:
            raise QueryResultAccessError("Cannot get failure message for a successful query: the query succeeded")
        return self._message or ""

    def get_position(self) -> Position | None:
        """The store partition's position when it answered (None: not known, e.g. on most failures)."""
        return self._position

    def set_position(self, position: Position | None) -> None:
        self._position = position

    def get_execution_info(self) -> list[str]:
        """What the store did and how long it took, when the request enabled execution info (else empty)."""
        return list(self._execution_info)

    def add_execution_info(self, message: str) -> None:
        self._execution_info.append(message)

    def __repr__(self) -> str:
        if self._reason is None:
            return f"SucceededQueryResult{{result={self._result!r}, position={self._position}}}"
        return f"FailedQueryResult{{failureReason={self._reason.name}, failure={self._message!r}}}"


class StateQueryResult:
    """What KafkaStreams.query returns: partition -> QueryResult for the partitions asked (and found), or the
    global result for a global store."""

    def __init__(self) -> None:
        self._partition_results: dict[int, QueryResult] = {}
        self._global_result: QueryResult | None = None

    def add_result(self, partition: int, result: QueryResult) -> None:
        self._partition_results[partition] = result

    def set_global_result(self, result: QueryResult) -> None:
        self._global_result = result

    def get_partition_results(self) -> dict[int, QueryResult]:
        return self._partition_results

    def get_only_partition_result(self) -> QueryResult | None:
        """The one successful partition result with a non-None result (a key query: the partition holding the
        key), None when there is none; QueryResultAccessError when several partitions have one."""
        found = [r for r in self._partition_results.values() if r.is_success() and r.get_result() is not None]
        if len(found) > 1:
            raise QueryResultAccessError(f"The query did not return exactly one partition result: "
                                         f"{self._partition_results}")
        return found[0] if found else None

    def get_global_result(self) -> QueryResult | None:
        return self._global_result

    def get_position(self) -> Position:
        """The merged positions of the partition results (or the global result's)."""
        if self._global_result is not None:
            return self._global_result.get_position() or Position.empty_position()
        merged = Position.empty_position()
        for result in self._partition_results.values():
            merged.merge(result.get_position())
        return merged

    def __repr__(self) -> str:
        return f"StateQueryResult{{partitionResults={self._partition_results}, globalResult={self._global_result}}}"
