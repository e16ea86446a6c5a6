"""The heartbeat side of a group member (mixed into GroupMember, pystreams.runtime.group.membership), as Kafka's
AbstractCoordinator.HeartbeatThread: a background thread that only sends Heartbeats and flags what it learns
(rejoin, lost, fatal) for the stream thread's next poll(); it also enforces max.poll.interval.ms."""
from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, Callable

from pystreams.broker.protocol import ErrorCode
from pystreams.runtime.group.errors import (BrokerConnectionError, CoordinatorMovedError, GroupError,
                                            MemberFencedError, RebalanceInProgressError)
from pystreams.runtime.group.member_types import MemberConfig, MemberState
from pystreams.runtime.group.security import AuthenticationError

log = logging.getLogger("pystreams.runtime.group")


class Heartbeats:
    """GroupMember's heartbeat thread side."""

    if TYPE_CHECKING:  # GroupMember's state (membership.py) this side reads and writes
        config: MemberConfig
        heartbeat_client: Any
        _lock: threading.Lock
        _clock: Callable[[], float]
        _stop: threading.Event
        _thread: threading.Thread | None
        state: MemberState
        member_id: str
        generation_id: int
        _fatal: GroupError | AuthenticationError | None
        _last_poll: float
        _last_heartbeat_ok: float

        def request_rejoin(self, reason: str, delay_ms: int = 0) -> None: ...

        def _flag_lost(self, reason: str, generation: int, forget_member: bool = False) -> None: ...

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
