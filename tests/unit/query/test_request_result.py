"""IQv2's value objects (pystreams.query): StateQueryRequest building, the query objects, QueryResult /
StateQueryResult accessors, Position merging and PositionBound checks, with Kafka's semantics."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pystreams.errors import PystreamsError
from pystreams.query import (
    FailureReason,
    KeyQuery,
    Position,
    PositionBound,
    QueryResult,
    QueryResultAccessError,
    RangeQuery,
    ResultOrder,
    StateQueryRequest,
    StateQueryResult,
    TimestampedKeyQuery,
    TimestampedRangeQuery,
    WindowKeyQuery,
    WindowRangeQuery,
)
from pystreams.query.position import is_permitted

pytestmark = pytest.mark.unit


def test_failure_reasons_are_kafka_4_1s_set():
    assert [r.name for r in FailureReason] == ["UNKNOWN_QUERY_TYPE", "NOT_ACTIVE", "NOT_UP_TO_BOUND", "NOT_PRESENT",
                                               "DOES_NOT_EXIST", "STORE_EXCEPTION"]
    assert [o.name for o in ResultOrder] == ["ANY", "ASCENDING", "DESCENDING"]


def test_a_request_has_kafkas_defaults_and_each_builder_returns_a_new_request():
    base = StateQueryRequest.in_store("counts").with_query(KeyQuery.with_key("a"))
    assert base.get_store_name() == "counts" and base.get_query() == KeyQuery("a")
    assert base.is_all_partitions() and base.get_position_bound().is_unbounded()
    assert not base.is_require_active() and not base.execution_info_enabled()
    with pytest.raises(PystreamsError, match="all partitions"):
        base.get_partitions()
    bound = PositionBound.at(Position.empty_position().with_component("in", 0, 5))
    built = base.with_partitions([1, 0, 1]).require_active().enable_execution_info().with_position_bound(bound)
    assert built.get_partitions() == {0, 1} and not built.is_all_partitions()
    assert built.is_require_active() and built.execution_info_enabled() and built.get_position_bound() == bound
    assert base.is_all_partitions() and not base.is_require_active()  # base unchanged
    assert built.with_all_partitions().is_all_partitions()
    for bad in (lambda: base.with_partitions([-1]), lambda: base.with_partitions(["0"]),
                lambda: base.with_position_bound(Position.empty_position()),
                lambda: StateQueryRequest.in_store(""), lambda: StateQueryRequest.in_store("s").with_query(None)):
        with pytest.raises(PystreamsError):
            bad()


def test_query_objects_keep_their_bounds_and_options():
    assert KeyQuery.with_key("k").skip_cache().is_skip_cache() and not KeyQuery.with_key("k").is_skip_cache()
    assert TimestampedKeyQuery.with_key("k").skip_cache().is_skip_cache()
    with pytest.raises(PystreamsError, match="None"):
        KeyQuery.with_key(None)
    r = RangeQuery.with_range("a", "c")
    assert (r.get_lower_bound(), r.get_upper_bound(), r.result_order()) == ("a", "c", ResultOrder.ANY)
    assert r.with_descending_keys().result_order() is ResultOrder.DESCENDING
    assert r.with_descending_keys().with_ascending_keys().result_order() is ResultOrder.ASCENDING
    assert (RangeQuery.with_lower_bound("b").get_upper_bound(), RangeQuery.with_upper_bound("b").get_lower_bound()) \
        == (None, None)
    assert RangeQuery.with_no_bounds() == RangeQuery(None, None)
    t = TimestampedRangeQuery.with_range("a", "z")
    assert (t.lower_bound(), t.upper_bound()) == ("a", "z") and t != RangeQuery.with_range("a", "z")
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    w = WindowKeyQuery.with_key_and_window_start_range("k", moment, 1_704_067_300_000)
    assert (w.get_key(), w.get_time_from(), w.get_time_to()) == ("k", 1_704_067_200_000, 1_704_067_300_000)
    assert WindowRangeQuery.with_key("k").get_time_from() is None
    assert WindowRangeQuery.with_window_start_range(0, 10).get_key() is None
    with pytest.raises(PystreamsError, match="epoch milliseconds"):
        WindowRangeQuery.with_window_start_range("0", 10)


def test_query_result_getters_raise_on_the_wrong_side():
    ok = QueryResult.for_result(7)
    assert ok.is_success() and not ok.is_failure() and ok.get_result() == 7 and ok.get_execution_info() == []
    with pytest.raises(QueryResultAccessError):
        ok.get_failure_reason()
    with pytest.raises(QueryResultAccessError):
        ok.get_failure_message()
    failed = QueryResult.for_failure(FailureReason.NOT_PRESENT, "gone")
    assert failed.is_failure() and failed.get_failure_reason() is FailureReason.NOT_PRESENT
    assert failed.get_failure_message() == "gone"
    with pytest.raises(QueryResultAccessError, match="NOT_PRESENT: gone"):
        failed.get_result()
    unknown = QueryResult.for_unknown_query_type(KeyQuery.with_key("k"), object())
    assert unknown.get_failure_reason() is FailureReason.UNKNOWN_QUERY_TYPE


def test_state_query_result_only_partition_result_and_merged_position():
    result = StateQueryResult()
    assert result.get_only_partition_result() is None and result.get_position().is_empty()
    hit = QueryResult.for_result(3)
    hit.set_position(Position.from_map({"in": {0: 10}}))
    miss = QueryResult.for_result(None)
    miss.set_position(Position.from_map({"in": {1: 4}}))
    result.add_result(0, hit)
    result.add_result(1, miss)
    result.add_result(2, QueryResult.for_failure(FailureReason.NOT_ACTIVE, "standby"))
    assert result.get_only_partition_result() is hit  # failures and None results do not count
    assert result.get_position() == Position.from_map({"in": {0: 10, 1: 4}})
    other = QueryResult.for_result(5)
    result.add_result(3, other)
    with pytest.raises(QueryResultAccessError, match="exactly one"):
        result.get_only_partition_result()
    assert result.get_global_result() is None


def test_position_keeps_the_larger_offset_and_bounds_check_our_partition_only():
    p = Position.empty_position().with_component("a", 0, 5).with_component("a", 0, 3).with_component("b", 1, 2)
    assert p.get_partition_positions("a") == {0: 5} and p.get_topics() == {"a", "b"}
    assert p.get_partition_positions("zz") == {}
    copy = p.copy().merge(Position.from_map({"a": {0: 9, 2: 1}}))
    assert copy.get_partition_positions("a") == {0: 9, 2: 1} and p.get_partition_positions("a") == {0: 5}
    with pytest.raises(PystreamsError):
        Position.empty_position().with_component("a", -1, 0)
    with pytest.raises(TypeError):
        hash(p)
    assert PositionBound.at_least(p) == PositionBound.at(p) and not PositionBound.at(p).is_unbounded()
    bound = PositionBound.at(Position.from_map({"a": {0: 5, 3: 100}}))
    assert is_permitted(p, bound, 0)  # a.0 at 5 >= 5; a.3 is another partition's bound
    assert not is_permitted(Position.from_map({"a": {0: 4}}), bound, 0)
    assert not is_permitted(Position.empty_position(), bound, 0)  # never seen a bounded partition
    assert is_permitted(Position.empty_position(), bound, 1)  # nothing bounds partition 1
    assert is_permitted(Position.empty_position(), PositionBound.unbounded(), 0)
