"""Stale-store interactive queries without a broker: StoreQueryParameters (Kafka's fromNameAndType /
enableStaleStores / withPartition), which local stores a stale view reads (running, restoring and standby tasks;
one partition), and the remote helper's order of hosts (active first, standbys only with allow_stale, a standby
copy on this instance read locally) and when it moves on to the next one."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pystreams.errors import PystreamsError
from pystreams.processor.task_id import TaskId
from pystreams.runtime import remote_queries
from pystreams.runtime.queries import (
    HostInfo,
    InvalidStateStoreError,
    KeyQueryMetadata,
    StoreQueryParameters,
    UnknownStateStoreError,
    live_stores,
)
from pystreams.runtime.remote_queries import RemoteQueryError, _ask
from pystreams.state.queryable import QueryableStoreTypes

pytestmark = pytest.mark.unit

A, B, C = HostInfo("a", 1), HostInfo("b", 2), HostInfo("c", 3)


class Store:
    def __init__(self, name: str) -> None:
        self.name = name

    def is_open(self) -> bool:
        return True


def _task(partition: int, name: str) -> Any:
    return SimpleNamespace(id=TaskId(0, partition), task=SimpleNamespace(stores={"counts": Store(name)}))


def test_store_query_parameters_are_immutable_builders_with_kafkas_options():
    base = StoreQueryParameters.from_name_and_type("counts", QueryableStoreTypes.key_value_store())
    stale = base.enable_stale_stores().with_partition(3)
    assert (base.stale_stores_enabled(), base.partition) == (False, None)
    assert (stale.stale_stores_enabled(), stale.partition, stale.store_name) == (True, 3, "counts")
    assert stale.query_type is not None and stale.query_type.name == "key_value_store"
    assert stale.with_partition(None).partition is None
    for bad in (-1, "2", 1.5):
        with pytest.raises(PystreamsError, match="with_partition"):
            base.with_partition(bad)  # type: ignore[arg-type]


def test_a_stale_view_also_reads_restoring_and_standby_tasks_and_can_be_narrowed_to_a_partition():
    thread = SimpleNamespace(tasks={TaskId(0, 0): _task(0, "running")},
                             _restorer=SimpleNamespace(restoring={TaskId(0, 1): SimpleNamespace(at=_task(1, "restoring"))}),
                             _standby=SimpleNamespace(tasks={TaskId(0, 2): _task(2, "standby")}))
    streams = SimpleNamespace(global_state=None, threads=[thread])
    assert [s.name for s in live_stores(streams, "counts")] == ["running"]
    assert [s.name for s in live_stores(streams, "counts", stale=True)] == ["running", "restoring", "standby"]
    assert [s.name for s in live_stores(streams, "counts", stale=True, partition=2)] == ["standby"]
    assert live_stores(streams, "counts", partition=2) == []  # a standby is never read without stale stores
    assert live_stores(streams, "other", stale=True) == []


def _streams_with(meta: KeyQueryMetadata, here: HostInfo, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(remote_queries, "key_metadata", lambda *args: meta)
    monkeypatch.setattr(remote_queries, "check_known", lambda *args: None)
    topology = SimpleNamespace(global_store_names=list)
    config = SimpleNamespace(application_server=str(here), get=lambda key, default=None: default)
    return SimpleNamespace(topology=topology, config=config)


def _run(streams: Any, allow_stale: bool, fail: dict[Any, Exception]) -> tuple[Any, list[Any]]:
    calls: list[Any] = []

    def local(params: StoreQueryParameters) -> Any:
        calls.append(("local", params.stale_stores, params.partition))
        if "local" in fail:
            raise fail["local"]
        return "local value"

    def remote(host: HostInfo, raw: bytes, extra: dict[str, str], seconds: float) -> Any:
        assert 0 < seconds <= 10  # the time left of pystreams.iq.remote.timeout.ms's default
        calls.append((str(host), extra))
        if host in fail:
            raise fail[host]
        return f"value from {host}"

    return _ask(streams, "counts", "k", lambda topic, key: key.encode(), allow_stale, local, remote), calls


def test_the_active_host_is_asked_first_and_only_it_without_allow_stale(monkeypatch):
    streams = _streams_with(KeyQueryMetadata(B, 4, frozenset({C})), A, monkeypatch)
    assert _run(streams, False, {}) == ("value from b:2", [("b:2", {"partition": "4"})])
    with pytest.raises(RemoteQueryError):
        _run(streams, False, {B: RemoteQueryError("cannot query store counts on b:2")})


def test_an_unreachable_active_falls_back_to_a_remote_standby_read_stale_for_its_partition(monkeypatch):
    streams = _streams_with(KeyQueryMetadata(B, 4, frozenset({C})), A, monkeypatch)
    value, calls = _run(streams, True, {B: RemoteQueryError("cannot query store counts on b:2")})
    assert value == "value from c:3"
    assert calls == [("b:2", {"partition": "4"}), ("c:3", {"stale": "true", "partition": "4"})]


def test_a_standby_on_this_instance_is_read_locally_before_remote_standbys(monkeypatch):
    streams = _streams_with(KeyQueryMetadata(B, 4, frozenset({C, A})), A, monkeypatch)
    value, calls = _run(streams, True, {B: InvalidStateStoreError("rebalancing")})
    assert value == "local value" and calls == [("b:2", {"partition": "4"}), ("local", True, 4)]


def test_no_active_host_goes_straight_to_standbys_and_every_failure_raises_the_last_error(monkeypatch):
    unavailable = HostInfo("unavailable", -1)
    streams = _streams_with(KeyQueryMetadata(unavailable, 4, frozenset({C})), A, monkeypatch)
    assert _run(streams, True, {}) == ("value from c:3", [("c:3", {"stale": "true", "partition": "4"})])
    with pytest.raises(InvalidStateStoreError, match="stale reads are not allowed"):
        _run(streams, False, {})
    with pytest.raises(RemoteQueryError, match="c:3 down"):
        _run(streams, True, {C: RemoteQueryError("c:3 down")})


def test_errors_that_another_host_cannot_fix_are_raised_at_once(monkeypatch):
    streams = _streams_with(KeyQueryMetadata(B, 4, frozenset({C})), A, monkeypatch)
    with pytest.raises(UnknownStateStoreError):
        _run(streams, True, {B: UnknownStateStoreError("no store counts")})
