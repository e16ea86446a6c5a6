"""Drive a GroupCoordinator with fake time and plain tokens as waiters (no loop, no threads)."""
from __future__ import annotations

import itertools

from pystreams.broker.coordinator.machine import (CoordinatorConfig, GroupCoordinator,
                                                   JoinRequest, Outcome)

PROTOCOLS = [("range", b"\x00\x01meta-range"), ("roundrobin", b"\x00\x01meta-rr")]


class Harness:
    """Keeps fake time, applies records by replay (as the service does) and collects replies."""

    def __init__(self, **config) -> None:
        self.machine = GroupCoordinator(CoordinatorConfig(**config))
        self.now = 1_000_000
        self.records: list = []
        self.replies: dict = {}
        self._tokens = itertools.count(1)

    def apply(self, out: Outcome) -> Outcome:
        for group, key, value in out.records:
            self.records.append((group, key, value))
            self.machine.replay(key, value, self.now)
        for waiter, response in out.replies:
            assert waiter not in self.replies, f"waiter {waiter} answered twice"
            self.replies[waiter] = response
        return out

    def token(self) -> int:
        return next(self._tokens)

    def join(self, group: str = "g", member_id: str = "", instance: str | None = None,
             session: int = 10000, rebalance: int = 30000, protocols=PROTOCOLS,
             client_id: str = "c") -> int:
        t = self.token()
        self.apply(self.machine.join(t, self.now, JoinRequest(
            group, member_id, instance, client_id, "/127.0.0.1", session, rebalance, "consumer",
            list(protocols))))
        return t

    def join_new(self, group: str = "g", **kw) -> tuple[int, str]:
        """Two-step v4+ join: MEMBER_ID_REQUIRED, then the join with the given id."""
        t = self.join(group, **kw)
        first = self.replies.pop(t)
        assert first["error_code"] == 79
        return self.join(group, member_id=first["member_id"], **kw), first["member_id"]

    def sync(self, member_id: str, generation: int, assignments=(), group: str = "g",
             instance: str | None = None) -> int:
        t = self.token()
        self.apply(self.machine.sync(t, self.now, group, generation, member_id, instance,
                                     "consumer", None, list(assignments)))
        return t

    def heartbeat(self, member_id: str, generation: int, group: str = "g") -> int:
        t = self.token()
        self.apply(self.machine.heartbeat(t, self.now, group, generation, member_id, None))
        return self.replies.pop(t)["error_code"]

    def tick(self, advance_ms: int) -> None:
        self.now += advance_ms
        self.apply(self.machine.tick(self.now))
