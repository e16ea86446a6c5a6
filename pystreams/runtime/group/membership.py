"""GroupMember: one member of the classic consumer group (one per stream thread, as in Kafka Streams), with the
cooperative rebalance protocol (KIP-429) driven from the stream thread's loop.

Who does what (as librdkafka and Kafka's ConsumerCoordinator): a background heartbeat thread only sends
Heartbeats and FLAGS what it learns ("rejoin needed" on REBALANCE_IN_PROGRESS while STABLE, "lost" on
ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID of the current generation, when the session timed out without a successful
heartbeat, or when the stream thread did not poll within max.poll.interval.ms, in which case a dynamic member also
leaves the group; FENCED_INSTANCE_ID is fatal: the next poll raises it). As in Kafka's AbstractCoordinator it
heartbeats from the JoinGroup answer on (COMPLETING_REBALANCE: while the leader assigns and SyncGroup waits, so a
slow assignment cannot expire the session) and is idle while UNJOINED / PREPARING_REBALANCE (JoinGroup in flight,
where the coordinator keeps the member alive). The stream thread calls poll() once per loop;
poll() does the JoinGroup/SyncGroup round itself and returns what changed as a Rebalance:
  - lost: partitions this member no longer owns and must not commit (close dirty);
  - revoked: owned partitions the new assignment leaves out (commit, then close; the member rejoins at once, so
    the next round can give them to their new owner: cooperative);
  - added: partitions to start (fetch committed offsets, assign);
unaffected partitions appear in none of them and keep running.
"""
from __future__ import annotations

import enum
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from pystreams.broker.protocol import ErrorCode, decode_assignment, decode_subscription, encode_assignment, \
    encode_subscription
from pystreams.errors import BrokerUnreachableError
from pystreams.runtime.group.client import JoinedMember, MemberIdRequired, TopicPartition
from pystreams.runtime.group.errors import (BrokerConnectionError, CoordinatorMovedError, GroupError,
                                            MemberFencedError, RebalanceInProgressError)
from pystreams.runtime.group.metadata import consumer_group_metadata
from pystreams.runtime.group.security import AuthenticationError

log = logging.getLogger("pystreams.runtime.group")


class MemberState(enum.Enum):
    """Kafka's MemberState for the classic protocol."""

    UNJOINED = "UNJOINED"
    PREPARING_REBALANCE = "PREPARING_REBALANCE"
    COMPLETING_REBALANCE = "COMPLETING_REBALANCE"
    STABLE = "STABLE"


@dataclass(frozen=True)
class MemberMetadata:
    """A member's decoded ConsumerProtocolSubscription, as the leader sees it."""

    member_id: str
    group_instance_id: str | None
    topics: list[str]
    user_data: bytes | None
    owned_partitions: list[TopicPartition]


@dataclass(frozen=True)
class Rebalance:
    """What one poll() changed for this member (see the module docstring)."""

    generation_id: int
    added: frozenset[TopicPartition] = frozenset()
    revoked: frozenset[TopicPartition] = frozenset()
    lost: frozenset[TopicPartition] = frozenset()
    assigned: frozenset[TopicPartition] = frozenset()
    user_data: bytes | None = None
    lost_reason: str = ""


#: leader callback: every member's subscription -> member id -> (partitions, assignment user data)
LeaderAssign = Callable[[Sequence[MemberMetadata]], Mapping[str, tuple[Sequence[TopicPartition], bytes | None]]]


@dataclass
class MemberConfig:
    """The timeouts Kafka's consumer takes from its config (session.timeout.ms etc.)."""

    group_id: str
    session_timeout_ms: int = 45_000
    rebalance_timeout_ms: int = 300_000  # max.poll.interval.ms, as Kafka's consumer sends it
    heartbeat_interval_ms: int = 3_000
    group_instance_id: str | None = None
    protocol_name: str = "stream"
    join_attempts: int = 10
    retry_backoff_ms: int = 100
    heartbeat_thread: bool = True  # False: the caller drives heartbeat_once() (tests)


def _partitions(entries: Sequence[dict[str, Any]]) -> list[TopicPartition]:
    return [(e["topic"], p) for e in entries for p in e["partitions"]]


def _grouped(partitions: Sequence[TopicPartition]) -> list[dict[str, Any]]:
    by_topic: dict[str, list[int]] = {}
    for t, p in sorted(partitions):
        by_topic.setdefault(t, []).append(p)
    return [{"topic": t, "partitions": ps} for t, ps in by_topic.items()]


class GroupMember:
    """The membership state machine. `client` is a GroupClient (or a fake with its methods) used by the stream
    thread; `heartbeat_client` is a second one for the heartbeat thread (they never share a socket)."""

    def __init__(self, config: MemberConfig, client: Any, heartbeat_client: Any, topics: Callable[[], list[str]],
                 user_data: Callable[[], bytes | None], leader_assign: LeaderAssign,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.client = client
        self.heartbeat_client = heartbeat_client
        self._topics = topics
        self._user_data = user_data
        self._leader_assign = leader_assign
        self._clock = clock
        self._lock = threading.Lock()
        self.state = MemberState.UNJOINED
        self.member_id = ""
        self.generation_id = -1
        self.owned: frozenset[TopicPartition] = frozenset()
        self.is_leader = False
        self._rejoin = True
        self._rejoin_reason = "first join"
        self._rejoin_at: float | None = None  # a delayed rejoin (request_rejoin(delay_ms=...)): due then
        self._delayed_reason = ""  # its reason, kept apart from _rejoin_reason until it is due
        self._lost: str | None = None
        self._forget_member = False
        # FENCED_INSTANCE_ID or a refused authentication seen by the heartbeat thread: raised by poll()
        self._fatal: GroupError | AuthenticationError | None = None
        now = clock()
        self._last_poll = now
        self._last_heartbeat_ok = now
        self._stop = threading.Event()
        self._woken = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ flags (any thread)
    def request_rejoin(self, reason: str, delay_ms: int = 0) -> None:
        """Rejoin at the next poll (delay_ms > 0: not before then, e.g. a probing rebalance), logged at INFO like
        Kafka's AbstractCoordinator.requestRejoin. A delayed request keeps its reason apart until it is due, so
        it never renames (nor postpones) an immediate rejoin already pending; of two delayed ones the earlier
        deadline wins, with its reason."""
        with self._lock:
            if delay_ms > 0:
                at = self._clock() + delay_ms / 1000.0
                if self._rejoin_at is None or at < self._rejoin_at:
                    self._rejoin_at, self._delayed_reason = at, reason
            else:
                self._rejoin = True
                self._rejoin_reason = reason
        if delay_ms > 0:
            log.info("group %s member %s: request joining group in %d ms due to: %s", self.config.group_id,
                     self.member_id or "-", delay_ms, reason)
        else:
            log.info("group %s member %s: request joining group due to: %s", self.config.group_id,
                     self.member_id or "-", reason)

    def _flag_lost(self, reason: str, generation: int, forget_member: bool = False) -> None:
        with self._lock:
            if generation == self.generation_id and self._lost is None:
                self._lost = reason
                self._forget_member = forget_member
                self._rejoin = True

    def drop_partitions(self, reason: str) -> None:
        """The thread closed every task dirty (e.g. its producer was fenced): the next poll reports the owned
        partitions lost and rejoins without claiming them (Kafka's handleLostAll)."""
        self._flag_lost(reason, self.generation_id)

    def wakeup(self) -> None:
        """From another thread (the client closing): end a JoinGroup/SyncGroup round the stream thread is blocked
        in now, or its next one, without a new assignment (Kafka's consumer.wakeup()); the rejoin stays due."""
        self._woken.set()
        wakeup = getattr(self.client, "wakeup", None)
        if wakeup is not None:
            wakeup()

    @property
    def rejoin_needed(self) -> bool:
        with self._lock:
            return self._rejoin or self._lost is not None or (
                self._rejoin_at is not None and self._clock() >= self._rejoin_at)

    def group_metadata(self) -> bytes:
        """librdkafka's serialized consumer group metadata with our member id and generation (for
        send_offsets_to_transaction: the broker fences a stale generation, KIP-447)."""
        return consumer_group_metadata(self.config.group_id, self.generation_id, self.member_id,
                                       self.config.group_instance_id)

    # ------------------------------------------------------------------ stream thread
    def poll(self) -> Rebalance | None:
        """Called by the stream thread every loop: handles lost partitions, then joins/syncs when needed.
        Returns None when nothing changed (the usual, cheap case)."""
        now = self._clock()
        self._last_poll = now
        with self._lock:
            lost, fatal = self._lost, self._fatal
            due = self._rejoin_at is not None and now >= self._rejoin_at
        if fatal is not None:
            raise fatal
        if lost is not None:
            rebalance = self._lose(lost)
            if rebalance.lost:
                return rebalance
            # nothing was owned (e.g. fenced before the first assignment): nothing to close, join right away
        if not (self.rejoin_needed or due):
            return None
        return self._join_and_sync()

    def _lose(self, reason: str) -> Rebalance:
        """Partitions lost: reset the generation (and, when unknown, the member id); rejoin at the next poll."""
        lost = self.owned
        log.log(logging.WARNING if lost else logging.INFO, "group %s member %s: %d partitions lost (%s)",
                self.config.group_id, self.member_id, len(lost), reason)
        with self._lock:
            self._lost = None
            if self._forget_member:
                self.member_id = ""
                self._forget_member = False
            self._rejoin = True
            self._rejoin_reason = f"partitions lost ({reason})"
            self.owned = frozenset()
            self.generation_id = -1
            self.state = MemberState.UNJOINED
        return Rebalance(generation_id=-1, lost=lost, lost_reason=reason)

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

    # ------------------------------------------------------------------ offsets
    def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        """OffsetCommit as this member and generation (at_least_once). MemberFencedError: the partitions are
        lost (flagged for the next poll); RebalanceInProgressError: rejoin flagged, commit again afterwards."""
        generation = self.generation_id
        try:
            self.client.commit_offsets(generation, self.member_id, self.config.group_instance_id, offsets)
        except MemberFencedError as e:
            self._flag_lost(str(e), generation, forget_member=e.code == ErrorCode.UNKNOWN_MEMBER_ID)
            raise
        except RebalanceInProgressError:
            self.request_rejoin("commit: rebalance in progress")
            raise

    def committed(self, partitions: Sequence[TopicPartition], timeout_s: float = 60.0
                  ) -> dict[TopicPartition, int]:
        """The group's committed offsets (-1: none), waiting out pending transactional commits. A coordinator
        that moved or cannot be reached is retried for up to timeout_s (Kafka's default.api.timeout.ms) before
        the error is raised: the newly assigned partitions cannot start without their offsets."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                return self.client.fetch_offsets(partitions, require_stable=True)
            except (CoordinatorMovedError, BrokerConnectionError, BrokerUnreachableError) as e:
                if time.monotonic() >= deadline:
                    raise
                log.info("group %s: OffsetFetch: %s; retrying", self.config.group_id, e)
                time.sleep(max(self.config.retry_backoff_ms / 1000.0, 0.1))

    # ------------------------------------------------------------------ heartbeat thread
    def start_heartbeat(self) -> None:
        """Start the background heartbeat thread (daemon; stopped by close())."""
        if self._thread is None and not self._stop.is_set():
            self._thread = threading.Thread(target=self._heartbeat_loop, daemon=True,
                                            name=f"{self.config.group_id}-heartbeat")
            self._thread.start()

    def _heartbeat_loop(self) -> None:
        interval = self.config.heartbeat_interval_ms / 1000.0
        backoff = max(self.config.retry_backoff_ms / 1000.0, 0.05)
        wait, failures = interval, 0
        while not self._stop.wait(wait):
            try:
                ok = self.heartbeat_once()
            except Exception as e:  # noqa: BLE001 - the heartbeat thread must not die; flags decide
                log.warning("group %s heartbeat: %s", self.config.group_id, e)
                ok = False
            # a failed heartbeat is retried after retry.backoff.ms, doubling up to the interval, not a whole
            # interval later (Kafka's Heartbeat.failHeartbeat): a coordinator that moved is found again well
            # inside the session
            failures = 0 if ok else failures + 1
            wait = interval if ok else min(interval, backoff * 2 ** (failures - 1))

    def heartbeat_once(self) -> bool:
        """One heartbeat round (what the thread does every heartbeat.interval.ms; tests call it directly).
        False when the heartbeat failed and should be retried after retry.backoff.ms."""
        with self._lock:
            state, generation, member = self.state, self.generation_id, self.member_id
            fatal = self._fatal
        if state in (MemberState.UNJOINED, MemberState.PREPARING_REBALANCE) or fatal is not None:
            return True  # not in a generation (JoinGroup in flight keeps us alive), or about to fail anyway
        now = self._clock()
        cfg = self.config
        if now - self._last_poll > cfg.rebalance_timeout_ms / 1000.0:
            self._poll_timeout(member, generation)
            return True
        try:
            self.heartbeat_client.heartbeat(generation, member, cfg.group_instance_id)
        except RebalanceInProgressError:
            # valid while rebalancing: it keeps the session alive; only a STABLE member has to rejoin (Kafka's
            # HeartbeatResponseHandler; in COMPLETING_REBALANCE the SyncGroup in flight answers for the round)
            self._last_heartbeat_ok = now
            with self._lock:
                stable = self.state is MemberState.STABLE and self.generation_id == generation
            if stable:
                self.request_rejoin("the group is rebalancing")
            else:
                log.debug("group %s: heartbeat REBALANCE_IN_PROGRESS during %s: ignored", cfg.group_id, state.name)
            return True
        except MemberFencedError as e:
            if e.code == ErrorCode.FENCED_INSTANCE_ID:
                # another instance runs with our group.instance.id: fatal, as in Kafka (rejoining would fence it)
                log.error("group %s: group.instance.id %s is fenced by another member: %s", cfg.group_id,
                          cfg.group_instance_id, e)
                with self._lock:
                    if self.generation_id == generation:
                        self._fatal = e
                return True
            # ILLEGAL_GENERATION keeps the member id, UNKNOWN_MEMBER_ID forgets it; an answer to an older
            # generation than the current one is ignored (_flag_lost compares)
            self._flag_lost(str(e), generation, forget_member=e.code == ErrorCode.UNKNOWN_MEMBER_ID)
            return True
        except AuthenticationError as e:
            # credentials revoked or a certificate no longer trusted while running: fatal for the thread, as
            # Kafka's SaslAuthenticationException from the coordinator (retrying cannot fix the sasl.*/ssl.* keys)
            log.error("group %s: heartbeat authentication failed: %s", cfg.group_id, e)
            with self._lock:
                self._fatal = e
            return True
        except (CoordinatorMovedError, BrokerConnectionError, GroupError) as e:
            log.info("group %s heartbeat failed: %s", cfg.group_id, e)
            self._forget_coordinator()
            if now - self._last_heartbeat_ok > cfg.session_timeout_ms / 1000.0:
                # librdkafka's rd_kafka_cgrp_session_timeout_check (Java only re-finds the coordinator and learns
                # UNKNOWN_MEMBER_ID once one answers): the coordinator has most likely expired us and handed our
                # partitions on, so give them up now rather than run on as a zombie
                log.warning("group %s member %s: no successful heartbeat within session.timeout.ms (%d ms)",
                            cfg.group_id, member, cfg.session_timeout_ms)
                self._flag_lost("no successful heartbeat within session.timeout.ms", generation)
            return False
        self._last_heartbeat_ok = now
        return True

    def _poll_timeout(self, member: str, generation: int) -> None:
        """max.poll.interval.ms without a poll: a dynamic member leaves the group (a static one is removed by the
        session timeout only); either way the partitions are lost and the next poll joins as a new member."""
        cfg = self.config
        log.warning("group %s member %s: no poll for more than max.poll.interval.ms (%d ms): the stream thread is "
                    "stuck between polls; %s", cfg.group_id, member, cfg.rebalance_timeout_ms,
                    "leaving the group" if cfg.group_instance_id is None else "giving up the partitions")
        if cfg.group_instance_id is None and member:
            try:
                self.heartbeat_client.leave_group(member, None, "consumer poll timeout has expired.")
            except (GroupError, BrokerConnectionError) as e:
                log.info("LeaveGroup after poll timeout: %s", e)
        self._flag_lost("max.poll.interval.ms exceeded", generation, forget_member=True)
        with self._lock:  # out of the group until the stream thread polls again: no more heartbeats (or leaves)
            if self.generation_id == generation:
                self.state = MemberState.UNJOINED

    def _forget_coordinator(self) -> None:
        forget = getattr(self.heartbeat_client, "forget_coordinator", None)
        if forget is not None:
            forget()

    # ------------------------------------------------------------------ close
    def close(self, leave: bool = True) -> None:
        """Stop the heartbeat thread and (leave=True) send LeaveGroup so the group rebalances at once."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.config.heartbeat_interval_ms / 1000.0 + 5)
        if leave and self.member_id and self.config.group_instance_id is None:
            try:
                self.client.leave_group(self.member_id, None)
            except (GroupError, BrokerConnectionError) as e:
                log.info("group %s: LeaveGroup on close: %s", self.config.group_id, e)
        with self._lock:
            self.state = MemberState.UNJOINED
            self.owned = frozenset()
        for client in (self.client, self.heartbeat_client):
            close = getattr(client, "close", None)
            if close is not None:
                close()
