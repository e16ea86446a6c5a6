"""The remote query helper when the instance holding a key is unreachable (connection refused or timed out):
it waits for the metadata to name another host (the next assignment), retries once there, and gives up with a
clear HostUnreachableError within the call's time budget (the `timeout` keyword, else
pystreams.iq.remote.timeout.ms). No network: fake metadata and fake remote calls."""
from __future__ import annotations

import time
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from pystreams.errors import ConfigError
from pystreams.runtime import remote_queries
from pystreams.runtime.queries import HostInfo, InvalidStateStoreError, KeyQueryMetadata
from pystreams.runtime.remote_queries import HostUnreachableError, _ask, remote_timeout

pytestmark = pytest.mark.unit

A, B, C = HostInfo("a", 1), HostInfo("b", 2), HostInfo("c", 3)  # A: this instance


def _streams(monkeypatch: pytest.MonkeyPatch, metadata: Any, config: dict | None = None) -> Any:
    monkeypatch.setattr(remote_queries, "key_metadata", lambda *args: metadata())
    monkeypatch.setattr(remote_queries, "check_known", lambda *args: None)
    settings = dict(config or {})
    return SimpleNamespace(topology=SimpleNamespace(global_store_names=list),
                           config=SimpleNamespace(application_server=str(A),
                                                  get=lambda key, default=None: settings.get(key, default)))


def _switching(first: KeyQueryMetadata, then: KeyQueryMetadata | None, after: float) -> Any:
    switch = time.monotonic() + after
    return lambda: first if then is None or time.monotonic() < switch else then


def _run(streams: Any, allow_stale: bool = False, down: frozenset[HostInfo] = frozenset({B}),
         timeout: Any = None) -> tuple[Any, list[Any], float]:
    calls: list[Any] = []

    def local(params: Any) -> Any:
        calls.append(("local", params.partition))
        return "local value"

    def remote(host: HostInfo, raw: bytes, extra: dict[str, str], seconds: float) -> Any:
        calls.append((str(host), round(seconds, 1)))
        if host in down:
            raise HostUnreachableError(f"cannot reach {host}: Connection refused", frozenset({host}))
        return f"value from {host}"

    started = time.monotonic()
    try:
        value = _ask(streams, "counts", "k", lambda topic, key: key.encode(), allow_stale, local, remote,
                     timeout=timeout)
    except HostUnreachableError as e:
        value = e
    return value, calls, time.monotonic() - started


def test_a_down_active_host_is_retried_once_on_the_host_the_new_metadata_names(monkeypatch):
    streams = _streams(monkeypatch, _switching(KeyQueryMetadata(B, 4), KeyQueryMetadata(C, 4), 0.3))
    value, calls, took = _run(streams, timeout=5)
    assert value == "value from c:3"
    assert [c[0] for c in calls] == ["b:2", "c:3"] and calls[0][1] == 5.0  # the first request may use it all
    assert 0.25 < took < 2


def test_the_new_active_host_may_be_this_instance(monkeypatch):
    streams = _streams(monkeypatch, _switching(KeyQueryMetadata(B, 4), KeyQueryMetadata(A, 4), 0.2))
    value, calls, _ = _run(streams, timeout=5)
    assert value == "local value" and calls == [("b:2", 5.0), ("local", 4)]


def test_metadata_that_keeps_naming_the_down_host_ends_in_a_clear_error_within_the_budget(monkeypatch):
    streams = _streams(monkeypatch, _switching(KeyQueryMetadata(B, 4), None, 0))
    error, calls, took = _run(streams, timeout=timedelta(seconds=1.2))
    assert isinstance(error, HostUnreachableError) and error.hosts == {B}
    assert "still names only b:2" in str(error) and "allow_stale=True" in str(error)
    assert calls == [("b:2", 1.2)]  # not asked twice: nothing says it is back
    assert 0.8 < took < 1.5  # waited for new metadata until a share of the budget was left, no longer


def test_with_allow_stale_a_down_active_and_down_standbys_wait_for_new_metadata_too(monkeypatch):
    streams = _streams(monkeypatch, _switching(KeyQueryMetadata(B, 4, frozenset({C})),
                                               KeyQueryMetadata(C, 4, frozenset({A})), 0.2))
    value, calls, _ = _run(streams, allow_stale=True, down=frozenset({B, C}), timeout=5)
    assert value == "local value"  # C is still down; this instance's standby answers
    assert [c[0] for c in calls] == ["b:2", "c:3", "c:3", "local"]


def test_a_retry_that_fails_again_is_raised_and_the_total_time_stays_bounded(monkeypatch):
    streams = _streams(monkeypatch, _switching(KeyQueryMetadata(B, 4), KeyQueryMetadata(C, 4), 0.1))
    error, calls, took = _run(streams, down=frozenset({B, C}), timeout=3)
    assert isinstance(error, HostUnreachableError) and "c:3" in str(error)
    assert [c[0] for c in calls] == ["b:2", "c:3"] and took < 1


def test_the_budget_comes_from_the_call_else_the_config(monkeypatch):
    streams = _streams(monkeypatch, lambda: KeyQueryMetadata(B, 4), {"pystreams.iq.remote.timeout.ms": 400})
    assert remote_timeout(streams) == 0.4 and remote_timeout(streams, 2) == 2.0
    assert remote_timeout(streams, timedelta(milliseconds=1500)) == 1.5
    error, calls, took = _run(streams)
    assert isinstance(error, HostUnreachableError) and calls == [("b:2", 0.4)] and took < 0.6
    assert remote_timeout(_streams(monkeypatch, lambda: None)) == 10.0  # the default
    for bad in ({"pystreams.iq.remote.timeout.ms": 0}, {"pystreams.iq.remote.timeout.ms": "soon"},
                {"pystreams.iq.remote.timeout.ms": True}):
        with pytest.raises(ConfigError, match="pystreams.iq.remote.timeout.ms"):
            remote_timeout(_streams(monkeypatch, lambda: None, bad))
    for bad_timeout in (0, -1, "1", True):
        with pytest.raises(ConfigError, match="timeout"):
            remote_timeout(streams, bad_timeout)


def test_after_a_takeover_the_new_hosts_restoring_answers_are_retried_while_time_is_left(monkeypatch):
    monkeypatch.setattr(remote_queries, "RETRY_BACKOFF_S", 0.05)
    streams = _streams(monkeypatch, _switching(KeyQueryMetadata(B, 4), KeyQueryMetadata(A, 4), 0.1))
    restoring = [InvalidStateStoreError("restoring")] * 3
    calls: list[Any] = []

    def local(params: Any) -> Any:
        calls.append("local")
        if restoring:
            raise restoring.pop()
        return "local value"

    def remote(host: HostInfo, raw: bytes, extra: dict[str, str], seconds: float) -> Any:
        calls.append(str(host))
        raise HostUnreachableError(f"cannot query store counts on {host}: unreachable", frozenset({host}))

    ask = lambda: _ask(streams, "counts", "k", lambda t, k: k.encode(), False, local, remote, timeout=5)
    assert ask() == "local value" and calls == ["b:2", "local", "local", "local", "local"]
    # without a takeover a second UNAVAILABLE is raised as before (one retry)
    streams = _streams(monkeypatch, lambda: KeyQueryMetadata(A, 4))
    restoring[:] = [InvalidStateStoreError("restoring")] * 2
    with pytest.raises(InvalidStateStoreError, match="restoring"):
        ask()
