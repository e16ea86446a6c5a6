"""The JoinGroup/SyncGroup round of a group member (mixed into GroupMember, pystreams.runtime.group.membership):
join with this member's subscription and owned partitions, run the leader's assignment when elected, and install
what SyncGroup hands back as a Rebalance (added / revoked, cooperative: KIP-429)."""
from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Sequence

from pystreams.broker.protocol import ErrorCode, decode_assignment, decode_subscription, encode_assignment, \
    encode_subscription
from pystreams.errors import BrokerUnreachableError
from pystreams.runtime.group.client import JoinedMember, MemberIdRequired, TopicPartition
from pystreams.runtime.group.errors import (BrokerConnectionError, CoordinatorMovedError, GroupError,
                                            MemberFencedError, RebalanceInProgressError)
from pystreams.runtime.group.member_types import LeaderAssign, MemberConfig, MemberMetadata, MemberState, \
    Rebalance

log = logging.getLogger("pystreams.runtime.group")


def _partitions(entries: Sequence[dict[str, Any]]) -> list[TopicPartition]:
    return [(e["topic"], p) for e in entries for p in e["partitions"]]


def _grouped(partitions: Sequence[TopicPartition]) -> list[dict[str, Any]]:
    by_topic: dict[str, list[int]] = {}
    for t, p in sorted(partitions):
        by_topic.setdefault(t, []).append(p)
    return [{"topic": t, "partitions": ps} for t, ps in by_topic.items()]


class JoinRound:
    """GroupMember's join/sync side: runs on the stream thread, from poll()."""

    if TYPE_CHECKING:  # GroupMember's state (membership.py) this side reads and writes
        config: MemberConfig
        client: Any
        _lock: threading.Lock
        _clock: Callable[[], float]
        _topics: Callable[[], list[str]]
        _user_data: Callable[[], bytes | None]
        _leader_assign: LeaderAssign
        _woken: threading.Event
        state: MemberState
        member_id: str
        generation_id: int
        owned: frozenset[TopicPartition]
        is_leader: bool
        _rejoin: bool
        _rejoin_reason: str
        _rejoin_at: float | None
        _delayed_reason: str
        _forget_member: bool
        _last_poll: float
        _last_heartbeat_ok: float

        def _lose(self, reason: str) -> Rebalance: ...

        def start_heartbeat(self) -> None: ...

    def _subscription(self) -> bytes:
        return encode_subscription({"topics": sorted(self._topics()), "user_data": self._user_data(),
                                    "owned_partitions": _grouped(sorted(self.owned)),
                                    "generation_id": self.generation_id})

    def _join_and_sync(self) -> Rebalance | None:
        """One bounded join/sync round; None when it did not complete (retried at the next poll)."""
        cfg = self.config
        with self._lock:
            delayed = not self._rejoin and self._rejoin_at is not None
            if delayed:  # only the delayed request is due: the join carries its reason
                self._rejoin_reason = self._delayed_reason
            self._rejoin = False
            self._rejoin_at = None  # a join now also answers a delayed request (a probing rebalance)
            reason = self._rejoin_reason
            self.state = MemberState.PREPARING_REBALANCE
        if delayed:
            log.info("group %s member %s: joining group as requested earlier, due to: %s", cfg.group_id,
                     self.member_id or "-", reason)
        for _ in range(cfg.join_attempts):
            if self._woken.is_set():
                break
            with self._lock:  # (again after a failed SyncGroup: no heartbeats while the JoinGroup is in flight)
                self.state = MemberState.PREPARING_REBALANCE
            started = self._clock()
            log.debug("group %s member %s: JoinGroup (%s)", cfg.group_id, self.member_id or "-", reason)
            try:
                joined = self.client.join_group(self.member_id, cfg.group_instance_id, cfg.session_timeout_ms,
                                                cfg.rebalance_timeout_ms, [(cfg.protocol_name, self._subscription())],
                                                reason)
            except MemberIdRequired as e:
                self.member_id = e.member_id
                continue
            except MemberFencedError as e:
                if e.code == ErrorCode.FENCED_INSTANCE_ID:
                    raise
                return self._fenced_in_join(e)
            except (RebalanceInProgressError, CoordinatorMovedError, BrokerConnectionError,
                    BrokerUnreachableError) as e:
                log.info("group %s: JoinGroup: %s; retrying", cfg.group_id, e)
                time.sleep(cfg.retry_backoff_ms / 1000.0)
                continue
            log.debug("group %s: JoinGroup answered after %.1f s: generation %d, %d members, leader %s",
                      cfg.group_id, self._clock() - started, joined.generation_id, len(joined.members), joined.leader)
            now = self._clock()
            with self._lock:
                self.member_id = joined.member_id
                self.generation_id = joined.generation_id
                self.is_leader = joined.is_leader
                self.state = MemberState.COMPLETING_REBALANCE
                # Kafka's HeartbeatThread.enable(): session and poll timers restart with the heartbeats, so a
                # JoinGroup that waited long for the other members does not count as a missed poll
                self._last_poll = self._last_heartbeat_ok = now
            if cfg.heartbeat_thread:
                self.start_heartbeat()
            assignments: dict[str, bytes] = {}
            if joined.is_leader:
                try:
                    assignments = self._assign(joined.members)
                except (CoordinatorMovedError, BrokerConnectionError, BrokerUnreachableError) as e:
                    # the leader could not read the metadata / end offsets: join again (a JoinGroup while
                    # COMPLETING_REBALANCE restarts the round, the followers' SyncGroup answers
                    # REBALANCE_IN_PROGRESS) instead of failing the stream thread
                    log.warning("group %s: the leader's assignment failed (%s); joining again", cfg.group_id, e)
                    time.sleep(cfg.retry_backoff_ms / 1000.0)
                    continue
            try:
                data = self.client.sync_group(joined.generation_id, joined.member_id, cfg.group_instance_id,
                                              joined.protocol_name or cfg.protocol_name, assignments,
                                              cfg.rebalance_timeout_ms)
            except MemberFencedError as e:
                if e.code == ErrorCode.FENCED_INSTANCE_ID:
                    raise
                return self._fenced_in_join(e)
            except (RebalanceInProgressError, CoordinatorMovedError, BrokerConnectionError,
                    BrokerUnreachableError) as e:
                log.info("group %s: SyncGroup: %s; joining again", cfg.group_id, e)
                continue
            return self._install(joined.generation_id, data, reason)
        with self._lock:  # not joined this time: the next poll tries again
            self._rejoin = True
            self.state = MemberState.UNJOINED
        if self._woken.is_set():
            self._woken.clear()
            log.info("group %s: join round ended by wakeup()", cfg.group_id)
        else:
            log.warning("group %s: no join after %d attempts; trying again at the next poll", cfg.group_id,
                        cfg.join_attempts)
        return None

    def _fenced_in_join(self, e: GroupError) -> Rebalance | None:
        if e.code == ErrorCode.UNKNOWN_MEMBER_ID:
            self._forget_member = True
        rebalance = self._lose(str(e))
        return rebalance if rebalance.lost else None  # nothing owned: rejoin (flagged) at the next poll

    def _assign(self, members: Sequence[JoinedMember]) -> dict[str, bytes]:
        decoded = []
        for m in members:
            _, sub = decode_subscription(m.metadata)
            decoded.append(MemberMetadata(m.member_id, m.group_instance_id, list(sub["topics"]),
                                          None if sub["user_data"] is None else bytes(sub["user_data"]),
                                          _partitions(sub.get("owned_partitions") or [])))
        result = self._leader_assign(decoded)
        out = {}
        for m in members:
            partitions, user_data = result.get(m.member_id, ([], None))
            out[m.member_id] = encode_assignment({"assigned_partitions": _grouped(list(partitions)),
                                                  "user_data": user_data})
        return out

    def _install(self, generation: int, data: bytes, reason: str) -> Rebalance:
        if data:
            _, body = decode_assignment(data)
            assigned = frozenset(_partitions(body["assigned_partitions"]))
            user_data = None if body["user_data"] is None else bytes(body["user_data"])
        else:  # an empty assignment (e.g. the leader had nothing for us)
            assigned, user_data = frozenset(), None
        added, revoked = assigned - self.owned, self.owned - assigned
        now = self._clock()
        with self._lock:
            self.owned = assigned
            self.state = MemberState.STABLE
            self._last_heartbeat_ok = now
            if revoked:  # cooperative: give them up now, rejoin so that the next round can hand them over
                self._rejoin = True
                self._rejoin_reason = f"revoked {len(revoked)} partitions"
        log.info("group %s member %s generation %d (%s): %d partitions, +%d -%d", self.config.group_id,
                 self.member_id, generation, reason, len(assigned), len(added), len(revoked))
        return Rebalance(generation, frozenset(added), frozenset(revoked), frozenset(), assigned, user_data)
