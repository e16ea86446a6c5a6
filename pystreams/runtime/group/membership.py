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

This file holds GroupMember's flags, poll() and offsets; its JoinGroup/SyncGroup round is in join_round.py, its
heartbeat thread in heartbeat.py and its value types in member_types.py (re-exported here).
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Mapping, Sequence

from pystreams.broker.protocol import ErrorCode
from pystreams.errors import BrokerUnreachableError
from pystreams.runtime.group.client import TopicPartition
from pystreams.runtime.group.errors import BrokerConnectionError, CoordinatorMovedError, GroupError, \
    MemberFencedError, RebalanceInProgressError
from pystreams.runtime.group.heartbeat import Heartbeats
from pystreams.runtime.group.join_round import JoinRound
from pystreams.runtime.group.member_types import GroupMembershipOperation, LeaderAssign, MemberConfig, \
    MemberMetadata, MemberState, Rebalance, sends_leave_group
from pystreams.runtime.group.metadata import consumer_group_metadata
from pystreams.runtime.group.security import AuthenticationError

__all__ = ["GroupMember", "GroupMembershipOperation", "LeaderAssign", "MemberConfig", "MemberMetadata", "MemberState", "Rebalance"]

log = logging.getLogger("pystreams.runtime.group")


class GroupMember(JoinRound, Heartbeats):
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

    # ------------------------------------------------------------------ offsets
    def commit(self, offsets: Mapping[TopicPartition, int], metadata: Mapping[TopicPartition, str] | None = None
               ) -> None:
        """OffsetCommit as this member and generation (at_least_once), with each partition's committed metadata
        (Kafka Streams' partition time). MemberFencedError: the partitions are lost (flagged for the next poll);
        RebalanceInProgressError: rejoin flagged, commit again afterwards."""
        generation = self.generation_id
        try:
            if metadata:
                self.client.commit_offsets(generation, self.member_id, self.config.group_instance_id, offsets,
                                           metadata=metadata)
            else:
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
        return self._fetch_retrying(lambda: self.client.fetch_offsets(partitions, require_stable=True), timeout_s)

    def committed_with_metadata(self, partitions: Sequence[TopicPartition], timeout_s: float = 60.0
                                ) -> dict[TopicPartition, tuple[int, str]]:
        """As committed(), with each partition's committed metadata ("" when none)."""
        return self._fetch_retrying(
            lambda: self.client.fetch_offsets_and_metadata(partitions, require_stable=True), timeout_s)

    def _fetch_retrying(self, fetch: Callable[[], Any], timeout_s: float) -> Any:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                return fetch()
            except (CoordinatorMovedError, BrokerConnectionError, BrokerUnreachableError) as e:
                if time.monotonic() >= deadline:
                    raise
                log.info("group %s: OffsetFetch: %s; retrying", self.config.group_id, e)
                time.sleep(max(self.config.retry_backoff_ms / 1000.0, 0.1))

    # ------------------------------------------------------------------ close
    def close(self, leave: bool | GroupMembershipOperation = True) -> None:
        """Stop the heartbeat thread and, as Kafka's consumer.close(CloseOptions) decides (sends_leave_group), send
        LeaveGroup so the group rebalances at once: True / DEFAULT for a dynamic member only, LEAVE_GROUP for a
        static one too (LeaveGroup v3+ carries its group.instance.id with its member id, so the coordinator removes
        exactly this incarnation), False / REMAIN_IN_GROUP never. Best effort: the session timeout removes a
        member whose LeaveGroup failed."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.config.heartbeat_interval_ms / 1000.0 + 5)
        instance_id = self.config.group_instance_id
        if self.member_id and sends_leave_group(leave, static=instance_id is not None):
            reason = "the consumer is closing" if instance_id is None else \
                "the static member is leaving the group on close"
            try:
                self.client.leave_group(self.member_id, instance_id, reason)
                log.info("group %s member %s%s: left the group on close", self.config.group_id, self.member_id,
                         "" if instance_id is None else f" (group.instance.id {instance_id})")
            except (GroupError, BrokerConnectionError, BrokerUnreachableError) as e:
                log.info("group %s: LeaveGroup on close: %s", self.config.group_id, e)
        with self._lock:
            self.state = MemberState.UNJOINED
            self.owned = frozenset()
        for client in (self.client, self.heartbeat_client):
            close = getattr(client, "close", None)
            if close is not None:
                close()
