"""IQv2 on real stores without a broker: each query kind on the store kinds that know it (and
UNKNOWN_QUERY_TYPE on the others), skip_cache against the record cache, position bounds, and KafkaStreams.query's
per-partition logic (NOT_PRESENT, DOES_NOT_EXIST, NOT_ACTIVE, global stores, unknown stores) over a client whose
threads hold real stores. Queries run on a thread other than the one that initialized the stores (an interactive
query's situation: the record cache is only looked at)."""
from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest

from pystreams.query import (
    FailureReason,
    KeyQuery,
    Position,
    PositionBound,
    RangeQuery,
    StateQueryRequest,
    StreamsNotStartedError,
    StreamsStoppedError,
    TimestampedKeyQuery,
    TimestampedRangeQuery,
    WindowKeyQuery,
    WindowRangeQuery,
)
from pystreams.query.runner import run_query, task_position
from pystreams.query.store_query import query_store
from pystreams.runtime.queries import UnknownStateStoreError
from pystreams.serdes import Serdes
from pystreams.serdes.windowed import SessionWindow, Windowed
from pystreams.state import Stores
from pystreams.state.api import ValueAndTimestamp
from pystreams.state.context import StateStoreContext
from pystreams.state.internals.cache import ThreadCache

pytestmark = pytest.mark.unit

UNBOUNDED = PositionBound.unbounded()


def _init(store: Any, tmp_path: Any, task: str, cache: ThreadCache | None = None) -> Any:
    store.init(StateStoreContext("app", task, str(tmp_path), cache=cache, changelog_sender=lambda *r: None), store)
    return store


def _kv(tmp_path: Any, timestamped: bool, cached: bool, task: str = "0_0") -> Any:
    make = Stores.timestamped_key_value_store_builder if timestamped else Stores.key_value_store_builder
    builder = make(Stores.in_memory_key_value_store("kv"), Serdes.String(), Serdes.Long())
    if cached:
        builder = builder.with_caching_enabled()
    return _init(builder.build(), tmp_path, task, ThreadCache(1 << 20) if cached else None)


def _elsewhere(call: Any) -> Any:
    """call() on another thread (as an interactive query runs), its answer or exception."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = call()
        except BaseException as e:  # noqa: BLE001 - handed back to the test
            out["error"] = e
    t = threading.Thread(target=run)
    t.start()
    t.join(10)
    if "error" in out:
        raise out["error"]
    return out["value"]


def _ask(store: Any, query: Any, bound: PositionBound = UNBOUNDED, position: Position | None = None) -> Any:
    return _elsewhere(lambda: query_store(store, query, bound, position or Position.empty_position(), 0, True))


def test_key_and_range_queries_on_a_timestamped_store(tmp_path):
    store = _kv(tmp_path, timestamped=True, cached=False)
    for i, key in enumerate("abcd"):
        store.put(key, ValueAndTimestamp(i, 100 + i))
    got = _ask(store, KeyQuery.with_key("b"))
    assert got.is_success() and got.get_result() == 1  # KeyQuery: the plain value (KIP-992)
    assert "Handled in" in got.get_execution_info()[0]
    assert _ask(store, KeyQuery.with_key("zz")).get_result() is None
    assert _ask(store, TimestampedKeyQuery.with_key("c")).get_result() == ValueAndTimestamp(2, 102)
    assert list(_ask(store, RangeQuery.with_range("b", "c")).get_result()) == [("b", 1), ("c", 2)]
    assert list(_ask(store, RangeQuery.with_lower_bound("c")).get_result()) == [("c", 2), ("d", 3)]
    assert list(_ask(store, RangeQuery.with_upper_bound("a")).get_result()) == [("a", 0)]
    assert [k for k, _ in _ask(store, RangeQuery.with_no_bounds().with_descending_keys()).get_result()] \
        == ["d", "c", "b", "a"]
    assert list(_ask(store, TimestampedRangeQuery.with_range("a", "b")).get_result()) \
        == [("a", ValueAndTimestamp(0, 100)), ("b", ValueAndTimestamp(1, 101))]
    for query in (WindowKeyQuery.with_key_and_window_start_range("a", 0, 10), WindowRangeQuery.with_key("a"),
                  "not a query"):
        assert _ask(store, query).get_failure_reason() is FailureReason.UNKNOWN_QUERY_TYPE


def test_timestamped_queries_are_unknown_on_a_plain_store(tmp_path):
    store = _kv(tmp_path, timestamped=False, cached=False)
    store.put("a", 1)
    assert _ask(store, KeyQuery.with_key("a")).get_result() == 1
    assert list(_ask(store, RangeQuery.with_no_bounds()).get_result()) == [("a", 1)]
    for query in (TimestampedKeyQuery.with_key("a"), TimestampedRangeQuery.with_no_bounds()):
        assert _ask(store, query).get_failure_reason() is FailureReason.UNKNOWN_QUERY_TYPE


def test_skip_cache_reads_only_what_was_flushed(tmp_path):
    store = _kv(tmp_path, timestamped=True, cached=True)
    store.put("a", ValueAndTimestamp(1, 5))
    store.flush()
    store.put("a", ValueAndTimestamp(2, 6))  # dirty in the cache
    store.put("b", ValueAndTimestamp(3, 7))  # only in the cache
    assert _ask(store, KeyQuery.with_key("a")).get_result() == 2
    assert _ask(store, KeyQuery.with_key("a").skip_cache()).get_result() == 1
    assert _ask(store, KeyQuery.with_key("b").skip_cache()).get_result() is None
    assert _ask(store, TimestampedKeyQuery.with_key("b")).get_result() == ValueAndTimestamp(3, 7)
    assert _ask(store, TimestampedKeyQuery.with_key("a").skip_cache()).get_result() == ValueAndTimestamp(1, 5)
    assert list(_ask(store, RangeQuery.with_no_bounds()).get_result()) == [("a", 2), ("b", 3)]
    store.flush()
    assert _ask(store, KeyQuery.with_key("b").skip_cache()).get_result() == 3


def test_a_query_from_another_thread_leaves_the_record_cache_as_it_was(tmp_path):
    store = _kv(tmp_path, timestamped=True, cached=True)
    store.put("a", ValueAndTimestamp(1, 5))
    store.flush()
    cache = store._caching._cache
    named = store._caching._named
    before = (cache.total, list(named.entries))
    assert _ask(store, KeyQuery.with_key("a")).get_result() == 1  # flushed, so not cached: read from the store
    assert (cache.total, list(named.entries)) == before  # the miss did not fill the cache from the caller's thread


def test_position_bound_reached_or_not(tmp_path):
    store = _kv(tmp_path, timestamped=True, cached=False)
    store.put("a", ValueAndTimestamp(1, 5))
    here = Position.from_map({"in": {0: 41}})
    reached = _ask(store, KeyQuery.with_key("a"), PositionBound.at(Position.from_map({"in": {0: 41}})), here)
    assert reached.get_result() == 1 and reached.get_position() == here
    ahead = _ask(store, KeyQuery.with_key("a"), PositionBound.at(Position.from_map({"in": {0: 42}})), here)
    assert ahead.get_failure_reason() is FailureReason.NOT_UP_TO_BOUND and "not yet up to the bound" in \
        ahead.get_failure_message()


def test_window_and_session_queries(tmp_path):
    win = Stores.timestamped_window_store_builder(Stores.in_memory_window_store("w", 100_000, 10, False),
                                                  Serdes.String(), Serdes.Long()).build()
    _init(win, tmp_path, "0_0")
    win.put("a", ValueAndTimestamp(1, 3), 0)
    win.put("a", ValueAndTimestamp(2, 13), 10)
    win.put("b", ValueAndTimestamp(5, 25), 20)
    assert list(_ask(win, WindowKeyQuery.with_key_and_window_start_range("a", 0, 10)).get_result()) \
        == [(0, 1), (10, 2)]  # plain values, as Kafka's WindowKeyQuery on a timestamped window store
    assert [(w.key, w.window.start, v) for w, v in
            _ask(win, WindowRangeQuery.with_window_start_range(10, 20)).get_result()] == [("a", 10, 2), ("b", 20, 5)]
    for query in (WindowRangeQuery.with_key("a"), KeyQuery.with_key("a")):
        assert _ask(win, query).get_failure_reason() is FailureReason.UNKNOWN_QUERY_TYPE
    sessions = Stores.session_store_builder(Stores.in_memory_session_store("s", 100_000), Serdes.String(),
                                            Serdes.Long()).build()
    _init(sessions, tmp_path, "0_1")
    sessions.put(Windowed("a", SessionWindow(0, 5)), 2)
    sessions.put(Windowed("b", SessionWindow(1, 2)), 3)
    assert [(w.key, w.window.start, w.window.end, v) for w, v in
            _ask(sessions, WindowRangeQuery.with_key("a")).get_result()] == [("a", 0, 5, 2)]
    for query in (WindowRangeQuery.with_window_start_range(0, 5), WindowKeyQuery.with_key_and_window_start_range(
            "a", 0, 5)):
        assert _ask(sessions, query).get_failure_reason() is FailureReason.UNKNOWN_QUERY_TYPE


def test_a_store_that_raises_answers_store_exception(tmp_path):
    store = _kv(tmp_path, timestamped=False, cached=False)
    store.close()
    failed = query_store(store, KeyQuery.with_key("a"), UNBOUNDED, Position.empty_position(), 0, False)
    assert failed.get_failure_reason() is FailureReason.STORE_EXCEPTION and "closed" in failed.get_failure_message()


# ---------------------------------------------------------------- KafkaStreams.query's partition logic
def _client(tmp_path: Any, state: str = "RUNNING") -> SimpleNamespace:
    """A client with one thread: active tasks of partitions 0 and 1 (committed up to offsets 10 and 20), a
    standby of partition 2; partitions 0..3 exist; global store g."""
    stores = {}
    for p in range(3):
        stores[p] = _kv(tmp_path, timestamped=True, cached=False, task=f"0_{p}")
        stores[p].put(f"k{p}", ValueAndTimestamp(p * 10, p))

    def task(p: int, committed: dict[tuple[str, int], int]) -> SimpleNamespace:
        # processed as far as committed (committable_offsets: the task's live next offsets)
        return SimpleNamespace(id=SimpleNamespace(partition=p), task=SimpleNamespace(
            stores={"kv": stores[p]}, committable_offsets=lambda: dict(committed)), committed_offsets=committed)
    thread = SimpleNamespace(running=True, assigned_once=True, rebalancing=False,
                             tasks={0: task(0, {("in", 0): 11}), 1: task(1, {("in", 1): 21})}, _restorer=None,
                             _standby=SimpleNamespace(tasks={2: task(2, {})}))
    sub = SimpleNamespace(id=0, partitions=4, changelogs={"kv": "app-kv-changelog"}, source_topics=["in"])
    topology = SimpleNamespace(store_builders=lambda: {"kv": object()}, global_store_names=lambda: ["g"],
                               subtopologies=lambda: [SimpleNamespace(id=0, store_names=["kv"])])
    return SimpleNamespace(state=SimpleNamespace(name=state), topology=topology, threads=[thread],
                           plan=SimpleNamespace(subtopologies=[sub]))


def _request(query: Any = None) -> Any:
    return StateQueryRequest.in_store("kv").with_query(query or KeyQuery.with_key("k1"))


def test_every_local_partition_answers_and_missing_ones_say_why(tmp_path):
    client = _client(tmp_path)
    everything = _elsewhere(lambda: run_query(client, _request(RangeQuery.with_no_bounds())))
    assert {p: list(r.get_result()) for p, r in everything.get_partition_results().items()} \
        == {0: [("k0", 0)], 1: [("k1", 10)], 2: [("k2", 20)]}  # the standby answers too (no require_active)
    assert everything.get_position() == Position.from_map({"in": {0: 10, 1: 20}})
    one = run_query(client, _request().with_partitions({1}))
    assert list(one.get_partition_results()) == [1] and one.get_only_partition_result().get_result() == 10
    assert run_query(client, _request()).get_only_partition_result().get_result() == 10
    asked = run_query(client, _request().with_partitions({0, 3, 7}).require_active()).get_partition_results()
    assert asked[0].get_result() is None
    assert asked[3].get_failure_reason() is FailureReason.NOT_PRESENT  # exists, but not on this client
    assert asked[7].get_failure_reason() is FailureReason.DOES_NOT_EXIST  # past the 4 partitions
    standby = run_query(client, _request(KeyQuery.with_key("k2")).require_active()).get_partition_results()[2]
    assert standby.get_failure_reason() is FailureReason.NOT_ACTIVE and "not active" in standby.get_failure_message()
    bounded = _request().with_position_bound(PositionBound.at(Position.from_map({"in": {0: 10, 1: 21, 2: 0}})))
    answers = run_query(client, bounded).get_partition_results()
    assert answers[0].is_success()  # partition 0 is at 10
    assert answers[1].get_failure_reason() is FailureReason.NOT_UP_TO_BOUND  # partition 1 at 20 < 21
    assert answers[2].get_failure_reason() is FailureReason.NOT_UP_TO_BOUND  # a standby has no position yet
    # require_active ignores the bound, as Kafka does
    assert run_query(client, bounded.require_active()).get_partition_results()[1].is_success()


def test_global_unknown_and_not_running_clients(tmp_path):
    client = _client(tmp_path)
    glob = run_query(client, StateQueryRequest.in_store("g").with_query(KeyQuery.with_key("x")))
    assert glob.get_partition_results() == {}
    assert glob.get_global_result().get_failure_reason() is FailureReason.UNKNOWN_QUERY_TYPE
    with pytest.raises(UnknownStateStoreError, match="nope"):
        run_query(client, StateQueryRequest.in_store("nope").with_query(KeyQuery.with_key("x")))
    with pytest.raises(StreamsNotStartedError):
        run_query(_client(tmp_path / "c", "CREATED"), _request())
    with pytest.raises(StreamsStoppedError):
        run_query(_client(tmp_path / "n", "NOT_RUNNING"), _request())
    client.threads[0].rebalancing = True  # a thread not RUNNING: require_active refuses even its active tasks
    assert run_query(client, _request().require_active()).get_partition_results()[1].get_failure_reason() \
        is FailureReason.NOT_ACTIVE


def test_a_position_is_what_the_commit_covers_or_what_processing_surely_passed():
    task = SimpleNamespace(committed_offsets={("in", 0): 11, ("in", 1): 5},
                           task=SimpleNamespace(committable_offsets=lambda: {("in", 0): 15, ("in", 1): 5,
                                                                             ("other", 0): 1}))
    # in.0: processing passed 13 (14 may be in progress), the commit covered 10; in.1 committed up to 4;
    # other.0: only offset 0 was handed to processing and may be in progress: nothing sure yet
    assert task_position(task) == Position.from_map({"in": {0: 13, 1: 4}})
    assert task_position(task, flushed_only=True) == Position.from_map({"in": {0: 10, 1: 4}})  # skip_cache
    standby = SimpleNamespace(task=SimpleNamespace(committable_offsets=lambda: {("in", 0): 9}))
    assert task_position(standby).is_empty()  # a standby: no commits, no position
