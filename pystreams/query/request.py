"""Kafka's StateQueryRequest: which store, which query, which partitions, how fresh (PositionBound), active only
or any replica, with or without execution info. Immutable: every with_*/enable_*/require_* returns a new one."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from pystreams.errors import PystreamsError
from pystreams.query.position import PositionBound


@dataclass(frozen=True)
class StateQueryRequest:
    """Build with StateQueryRequest.in_store(name).with_query(query); defaults as Kafka's: all partitions,
    unbounded, any replica, no execution info."""

    store_name: str
    query: Any
    position_bound: PositionBound = field(default_factory=PositionBound.unbounded)
    partitions: frozenset[int] | None = None  # None: all partitions
    collect_execution_info: bool = False
    active_only: bool = False

    @staticmethod
    def in_store(name: str) -> InStore:
        if not isinstance(name, str) or not name:
            raise PystreamsError(f"StateQueryRequest.in_store takes a store name, got {name!r}")
        return InStore(name)

    def with_position_bound(self, position_bound: PositionBound) -> StateQueryRequest:
        if not isinstance(position_bound, PositionBound):
            raise PystreamsError(f"with_position_bound takes a PositionBound (PositionBound.at(position) or "
                                 f"unbounded()), got {type(position_bound).__name__}")
        return replace(self, position_bound=position_bound)

    def with_all_partitions(self) -> StateQueryRequest:
        return replace(self, partitions=None)

    def with_partitions(self, partitions: Iterable[int]) -> StateQueryRequest:
        chosen = frozenset(partitions)
        bad = [p for p in chosen if isinstance(p, bool) or not isinstance(p, int) or p < 0]
        if bad:
            raise PystreamsError(f"with_partitions takes partition numbers >= 0, got {sorted(map(repr, bad))}")
        return replace(self, partitions=chosen)

    def enable_execution_info(self) -> StateQueryRequest:
        return replace(self, collect_execution_info=True)

    def require_active(self) -> StateQueryRequest:
        """Only a RUNNING active task may answer (a standby or restoring copy answers NOT_ACTIVE); as in Kafka
        the position bound is then not checked."""
        return replace(self, active_only=True)

    def get_store_name(self) -> str:
        return self.store_name

    def get_query(self) -> Any:
        return self.query

    def get_position_bound(self) -> PositionBound:
        return self.position_bound

    def execution_info_enabled(self) -> bool:
        return self.collect_execution_info

    def is_require_active(self) -> bool:
        return self.active_only

    def is_all_partitions(self) -> bool:
        return self.partitions is None

    def get_partitions(self) -> frozenset[int]:
        if self.partitions is None:
            raise PystreamsError("Cannot list partitions of an 'all partitions' request")
        return self.partitions


@dataclass(frozen=True)
class InStore:
    """StateQueryRequest.in_store(name): the half-built request; with_query(query) finishes it."""

    name: str

    def with_query(self, query: Any) -> StateQueryRequest:
        if query is None:
            raise PystreamsError("with_query takes a query (KeyQuery, RangeQuery, ...), got None")
        return StateQueryRequest(self.name, query)
