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
