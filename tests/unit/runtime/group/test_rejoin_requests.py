"""request_rejoin like Kafka's AbstractCoordinator.requestRejoin: every request is logged at INFO with its reason,
and a delayed request (a probing rebalance) keeps its reason apart until it is due, so it neither renames nor
postpones an immediate rejoin already pending. The JoinGroup carries the reason of the request that caused it."""
from __future__ import annotations

import logging

import pytest

from pystreams.runtime.group.membership import GroupMember, MemberConfig
from tests.unit.runtime.group.fakes import Clock, FakeClient, assignment, joined

pytestmark = pytest.mark.unit

T0 = ("in", 0)


class Harness:
    """A member with a scripted client whose JoinGroups record the reason they were sent with."""

    def __init__(self) -> None:
        self.client = FakeClient()
        self.clock = Clock()
        self.reasons: list[str | None] = []
        self.generation = 0
        self.member = GroupMember(MemberConfig("app", session_timeout_ms=10_000, rebalance_timeout_ms=30_000,
                                               heartbeat_interval_ms=1_000, retry_backoff_ms=0,
                                               heartbeat_thread=False),
                                  self.client, FakeClient(), lambda: ["in"], lambda: b"info",
                                  lambda members: {"m-1": ([T0], b"a")}, self.clock)

        def join(member_id, group_instance_id, session_timeout_ms, rebalance_timeout_ms, protocols, reason=None):
            self.reasons.append(reason)
            self.generation += 1
            self.client.script("sync", assignment([T0], b"a"))
            return joined("m-1", self.generation, "m-1", [("m-1", protocols[0][1])])

        self.client.join_group = join  # type: ignore[method-assign]

    def joined_once(self) -> None:
        assert self.member.poll() is not None and self.reasons == ["first join"]


def test_every_request_is_logged_at_info_with_its_reason(caplog: pytest.LogCaptureFixture) -> None:
    h = Harness()
    h.joined_once()
    with caplog.at_level(logging.INFO, logger="pystreams.runtime.group"):
        h.member.request_rejoin("this client requests the application's shutdown")
        h.member.request_rejoin("probing rebalance", delay_ms=600_000)
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert lines == [("group app member m-1: request joining group due to: this client requests the "
                      "application's shutdown"),
                     "group app member m-1: request joining group in 600000 ms due to: probing rebalance"]


def test_a_later_delayed_request_keeps_the_pending_immediate_reason_and_does_not_delay_it() -> None:
    h = Harness()
    h.joined_once()
    h.member.request_rejoin("this client requests the application's shutdown")
    h.member.request_rejoin("probing rebalance", delay_ms=600_000)  # ~10 min ahead
    assert h.member.rejoin_needed  # not postponed
    assert h.member.poll() is not None
    assert h.reasons[-1] == "this client requests the application's shutdown"


def test_a_delayed_request_joins_with_its_own_reason_once_due() -> None:
    h = Harness()
    h.joined_once()
    h.member.request_rejoin("probing rebalance", delay_ms=10_000)
    assert not h.member.rejoin_needed and h.member.poll() is None
    h.clock.now += 11
    assert h.member.poll() is not None
    assert h.reasons == ["first join", "probing rebalance"]


def test_an_immediate_request_after_a_delayed_one_joins_at_once_with_its_reason() -> None:
    h = Harness()
    h.joined_once()
    h.member.request_rejoin("probing rebalance", delay_ms=600_000)
    h.member.request_rejoin("commit: rebalance in progress")
    assert h.member.poll() is not None
    assert h.reasons[-1] == "commit: rebalance in progress"
    # the join answered the probing request too (a new assignment schedules the next one): nothing left due
    h.clock.now += 601
    assert h.member.poll() is None and h.reasons[-1] == "commit: rebalance in progress"


def test_of_two_delayed_requests_the_earlier_fires_with_its_reason() -> None:
    h = Harness()
    h.joined_once()
    h.member.request_rejoin("probing rebalance", delay_ms=60_000)
    h.member.request_rejoin("warm-up caught up", delay_ms=5_000)
    h.member.request_rejoin("later probing rebalance", delay_ms=120_000)  # later: neither moves nor renames it
    h.clock.now += 6
    assert h.member.poll() is not None
    assert h.reasons[-1] == "warm-up caught up"
