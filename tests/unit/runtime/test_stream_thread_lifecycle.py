"""The stream thread's own side of shutdown, restore timeout and rejoins, on a thread object without real clients:
shutdown() wakes a member blocked in a JoinGroup, task.timeout.ms bounds a stalled restore, and under
exactly_once_v2 the open transaction is committed before a rejoin that may block."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pystreams.runtime import StreamsConfig, stream_thread
from pystreams.runtime.group import streams_member
from pystreams.runtime.group.membership import MemberState
from tests.unit.runtime.support import bare_stream_thread
from pystreams.runtime.stream_thread import ThreadMetrics

pytestmark = pytest.mark.unit

BASE = {"application.id": "app", "bootstrap.servers": "127.0.0.1:9092"}


class FakeGroup:
    def __init__(self, rejoin_needed: bool = False, fail_wakeup: bool = False,
                 state: MemberState = MemberState.PREPARING_REBALANCE) -> None:
        self.woken = 0
        self.fail_wakeup = fail_wakeup
        self.member = SimpleNamespace(rejoin_needed=rejoin_needed, state=state)

    def wakeup(self) -> None:
        self.woken += 1
        if self.fail_wakeup:
            raise RuntimeError("socket already closed")


def _thread(config: dict[str, Any] | None = None, eos: bool = False) -> Any:
    thread = bare_stream_thread(eos=eos, **{**BASE, **(config or {})})
    thread.running = True
    thread._group = None
    thread._woken = False
    return thread


@pytest.mark.parametrize("state", [MemberState.PREPARING_REBALANCE, MemberState.COMPLETING_REBALANCE])
def test_shutdown_wakes_a_member_in_a_join_up_once(state):
    thread = _thread()
    thread.shutdown()  # no member yet (the clients are opened by run()): only the flag
    assert thread.running is False
    thread = _thread()
    thread._group = FakeGroup(state=state)
    thread.shutdown()
    assert thread.running is False and thread._group.woken == 1
    thread.shutdown()  # e.g. close() after the error handling shut the thread down: not again
    assert thread._group.woken == 1


@pytest.mark.parametrize("state", [MemberState.STABLE, MemberState.UNJOINED])
def test_shutdown_leaves_a_member_outside_a_join_alone(state):
    # wakeup() shuts the member's sockets: woken while idle, its LeaveGroup on close would fail (measured: the
    # restarted app then waited session.timeout.ms, 45 s, for the old member)
    thread = _thread()
    thread._group = FakeGroup(state=state)
    thread.shutdown()
    assert thread.running is False and thread._group.woken == 0


def test_a_failing_wakeup_does_not_stop_shutdown():
    thread = _thread()
    thread._group = FakeGroup(fail_wakeup=True)
    thread.shutdown()  # logged, not raised: the loop still stops once the join returns
    assert thread.running is False and thread._group.woken == 1


@pytest.mark.parametrize("config, expected_s", [({}, 300.0), ({"task.timeout.ms": "20000"}, 20.0)])
def test_the_changelog_reader_gives_up_after_task_timeout_ms(monkeypatch, config, expected_s):
    monkeypatch.setattr(stream_thread, "Consumer", lambda cfg: SimpleNamespace(cfg=cfg))
    monkeypatch.setattr(stream_thread, "open_collector", lambda *a: SimpleNamespace())
    monkeypatch.setattr(streams_member, "StreamsMember", lambda thread: FakeGroup())
    thread = _thread(config)
    thread.index = 0
    thread.streams = SimpleNamespace(process_id="p")
    thread._restore_progress = lambda done, total: None
    thread._open_clients()
    assert thread._restorer.stall_timeout_s == expected_s


def test_task_timeout_ms_is_kafka_streams_key_and_default():
    assert StreamsConfig(BASE).task_timeout_ms == 300_000
    with pytest.raises(Exception, match="task.timeout.ms must be >= 0"):
        StreamsConfig({**BASE, "task.timeout.ms": -1})


def _iterating_thread(monkeypatch, rejoin_needed: bool, in_transaction: bool, eos: bool = True) -> Any:
    events: list[str] = []
    monkeypatch.setattr(stream_thread, "poll_group", lambda thread: events.append("poll_group"))
    monkeypatch.setattr(stream_thread, "poll_records", lambda *a: [])
    monkeypatch.setattr(stream_thread, "process_tasks", lambda *a: None)
    thread = _thread({"processing.guarantee": "exactly_once_v2" if eos else "at_least_once",
                      "commit.interval.ms": 60_000}, eos=eos)
    thread.events = events
    thread._group = FakeGroup(rejoin_needed=rejoin_needed)
    thread._rejoin_pending = False
    thread._consumer = SimpleNamespace()
    thread._restorer = None
    thread._standby = None
    thread._collector = SimpleNamespace(poll=lambda: None, check=lambda: None)
    thread.tasks, thread.by_partition = {"0_0": object()}, {}
    thread.metrics = ThreadMetrics()
    thread._in_transaction = in_transaction

    def commit(final: bool = False) -> None:
        events.append("commit")
        thread._in_transaction = False

    def begin() -> None:
        events.append("begin")
        thread._in_transaction = True

    thread._commit, thread._begin = commit, begin
    return thread


def test_eos_commits_the_open_transaction_before_a_rejoin(monkeypatch):
    thread = _iterating_thread(monkeypatch, rejoin_needed=True, in_transaction=True)
    last_commit = [0.0]
    thread._iteration(last_commit)
    # committed before the (possibly long) join; the next transaction begins after it
    assert thread.events == ["commit", "poll_group", "begin"]
    assert last_commit[0] > 0.0


@pytest.mark.parametrize("rejoin_needed, in_transaction, eos", [
    (False, True, True),  # no rejoin due: the transaction stays open until commit.interval.ms
    (True, False, True),  # nothing open
    (True, False, False),  # at_least_once: no transaction to time out
])
def test_no_extra_commit_otherwise(monkeypatch, rejoin_needed, in_transaction, eos):
    thread = _iterating_thread(monkeypatch, rejoin_needed, in_transaction, eos)
    thread._iteration([float("inf")])
    assert "commit" not in thread.events and thread.events[0] == "poll_group"
