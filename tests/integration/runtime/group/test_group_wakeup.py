"""GroupMember.wakeup() on both brokers (Kafka's consumer.wakeup(), for close()): a JoinGroup the coordinator holds
because another member has not rejoined yet (up to the rebalance timeout, 15 s here; 5 min by default) ends at
once, the poll returns without a new assignment, the member still leaves cleanly, and a later poll joins again."""
from __future__ import annotations

import threading
import time

import pytest

from tests.integration.runtime.group.test_group_heartbeat import _member
from tests.integration.runtime.group.test_group_membership import (
    cooperative_round_robin,
    group_topic,
    poll_until,
)

pytestmark = pytest.mark.integration
__all__ = ["group_topic"]  # the fixture, shared


def test_wakeup_ends_a_join_the_coordinator_holds(group_topic: tuple[str, str, str]) -> None:
    bootstrap, group, topic = group_topic
    a = _member(bootstrap, group, topic, "a", cooperative_round_robin)
    b = _member(bootstrap, group, topic, "b", cooperative_round_robin, session_timeout_ms=30_000)
    try:
        assert a.poll() is not None
        b_thread = threading.Thread(target=lambda: poll_until(b, lambda: len(b.owned) == 2))
        b_thread.start()
        poll_until(a, lambda: len(a.owned) == 2 and not b_thread.is_alive())
        b_thread.join(30)
        # b stops polling (its heartbeats keep it in the group); a's JoinGroup now waits for b to rejoin
        a.request_rejoin("test")
        timer = threading.Timer(1.0, a.wakeup)
        timer.start()
        started = time.monotonic()
        assert a.poll() is None  # the round ended without a new assignment
        took = time.monotonic() - started
        timer.join()
        assert 0.9 <= took < 5.0, took  # not the 15 s rebalance timeout
        assert a.rejoin_needed and a.owned  # nothing given up: the rejoin stays due
    finally:
        a.close()  # LeaveGroup after the wakeup: a clean leave, no error
        b.close()


def test_an_idle_member_woken_up_still_leaves_the_group_on_close(group_topic: tuple[str, str, str]) -> None:
    """wakeup() shuts the member's idle sockets too; the LeaveGroup of close() (one attempt) must open a new
    connection instead of failing on a shut one, or the next member waits session.timeout.ms (30 s here)."""
    bootstrap, group, topic = group_topic
    a = _member(bootstrap, group, topic, "a", cooperative_round_robin, session_timeout_ms=30_000)
    b = None
    try:
        poll_until(a, lambda: bool(a.owned))
        partitions = len(a.owned)  # every partition: a is alone
        a.wakeup()  # idle: no JoinGroup/SyncGroup in flight
        a.close()
        b = _member(bootstrap, group, topic, "b", cooperative_round_robin, session_timeout_ms=30_000)
        started = time.monotonic()
        poll_until(b, lambda: len(b.owned) == partitions, timeout=25.0)  # a left: no wait for its session to expire
        assert time.monotonic() - started < 10.0
    finally:
        a.close()
        if b is not None:
            b.close()
