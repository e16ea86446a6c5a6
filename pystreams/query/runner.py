"""KafkaStreams.query(StateQueryRequest) (Kafka's KafkaStreams#query): every task of this client that holds the
store and a requested partition answers for its partition; requested partitions no task here holds answer
NOT_PRESENT (DOES_NOT_EXIST when past the store's partition count). Tasks are this client's running and restoring
active tasks and its standby tasks, as Kafka's readOnlyAllTasks; with require_active() only a running active task
of a RUNNING thread answers, the others NOT_ACTIVE. Global stores answer a global UNKNOWN_QUERY_TYPE result, as in
Kafka 4.1 ("use KafkaStreams#store instead")."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pystreams.errors import PystreamsError
from pystreams.query.errors import StreamsNotStartedError, StreamsStoppedError
from pystreams.query.failure_reason import FailureReason
from pystreams.query.position import Position, PositionBound
from pystreams.query.request import StateQueryRequest
from pystreams.query.result import QueryResult, StateQueryResult
from pystreams.query.store_query import query_store

_STOPPED = ("PENDING_SHUTDOWN", "NOT_RUNNING", "PENDING_ERROR", "ERROR")


def run_query(streams: Any, request: StateQueryRequest) -> StateQueryResult:
    """The StateQueryResult of request on this client (see the module doc)."""
    from pystreams.runtime.queries import check_known

    if not isinstance(request, StateQueryRequest):
        raise TypeError(f"query() takes a StateQueryRequest, got {type(request).__name__}")
    name = request.store_name
    check_known(streams, name)  # UnknownStateStoreError, as IQv1 and Kafka's UnknownStateStoreException
    state = streams.state.name
    if state == "CREATED":
        raise StreamsNotStartedError("KafkaStreams has not been started, you can retry after calling start().")
    if state in _STOPPED:
        raise StreamsStoppedError(f"KafkaStreams has been stopped ({state}). This instance can no longer serve "
                                  "queries.")
    result = StateQueryResult()
    if name in streams.topology.global_store_names():
        result.set_global_result(QueryResult.for_failure(
            FailureReason.UNKNOWN_QUERY_TYPE,
            "Global stores do not yet support the KafkaStreams#query API. Use KafkaStreams#store instead."))
        return result
    wanted = request.partitions
    query, info = request.query, request.collect_execution_info
    bound = PositionBound.unbounded() if request.active_only else request.position_bound
    for thread in list(streams.threads):
        thread_running = bool(getattr(thread, "running", False) and getattr(thread, "assigned_once", False)
                              and not getattr(thread, "rebalancing", False))
        for task, kind in _tasks(thread):
            partition = task.id.partition
            if wanted is not None and partition not in wanted:
                continue
            store = task.task.stores.get(name)
            if store is None or not store.is_open():
                continue
            if request.active_only and (kind != "active" or not thread_running):
                result.add_result(partition, QueryResult.for_failure(
                    FailureReason.NOT_ACTIVE,
                    f"Query requires a running active task, but partition was in state "
                    f"{'RUNNING' if thread_running else 'PARTITIONS_ASSIGNED'} and was "
                    f"{'active (restoring)' if kind == 'restoring' else 'active' if kind == 'active' else 'not active'}."))
            else:
                position = task_position(task, flushed_only=bool(getattr(query, "skips_cache", False)))
                result.add_result(partition, query_store(store, query, bound, position, partition, info))
            if wanted is not None and wanted <= result.get_partition_results().keys():
                return result
    if wanted is not None:
        count = _partition_count(streams, name)
        for partition in sorted(wanted - result.get_partition_results().keys()):
            if count is not None and partition >= count:
                result.add_result(partition, QueryResult.for_failure(
                    FailureReason.DOES_NOT_EXIST,
                    f"Store {name} has {count} partitions (0..{count - 1}): partition {partition} does not exist."))
            else:
                result.add_result(partition, QueryResult.for_failure(
                    FailureReason.NOT_PRESENT, "The requested partition was not present at the time of the query."))
    return result


def _tasks(thread: Any) -> Iterator[tuple[Any, str]]:
    """(task, "active" | "restoring" | "standby") of one stream thread (lists copied: the thread changes them)."""
    for task in list(getattr(thread, "tasks", {}).values()):
        yield task, "active"
    restorer = getattr(thread, "_restorer", None)
    for restoring in list(getattr(restorer, "restoring", {}).values()):
        yield restoring.at, "restoring"
    standby = getattr(thread, "_standby", None)
    for task in list(getattr(standby, "tasks", {}).values()):
        yield task, "standby"


def task_position(task: Any, flushed_only: bool = False) -> Position:
    """The store position of a task, from the offsets the task keeps for its commits (nothing per record): per
    input partition, the offset its last commit covers (the committed next offset - 1: the commit flushed the record
    cache into the store first), or, when higher and not flushed_only, the offset processing has passed minus one
    (the task's next offset - 2: the record at next offset - 1 may still be in progress on the stream thread, as
    the task advances that offset before it processes the record; a chunk's offsets are set after the chunk).
    flushed_only (a skip_cache read, which sees the store under the cache): the commit's offsets only. Standby
    tasks have none (empty): Kafka carries positions in changelog headers, pystreams does not."""
    position = Position.empty_position()
    for (topic, partition), next_offset in list(getattr(task, "committed_offsets", {}).items()):
        if next_offset > 0:
            position.with_component(topic, partition, next_offset - 1)
    if not flushed_only:
        live = getattr(getattr(task, "task", None), "committable_offsets", None)
        if callable(live) and getattr(task, "committed_offsets", None) is not None:  # an active task
            for (topic, partition), next_offset in list(live().items()):
                if next_offset > 1:
                    position.with_component(topic, partition, next_offset - 2)
    return position


def _partition_count(streams: Any, name: str) -> int | None:
    plan = getattr(streams, "plan", None)
    if plan is None:
        return None
    from pystreams.runtime.queries import _sub_of

    try:
        return int(_sub_of(streams, name).partitions)
    except PystreamsError:  # a store the plan cannot place: say NOT_PRESENT rather than guess
        return None
