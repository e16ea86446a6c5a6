"""The classic group protocol as a state machine: an event in, (records, replies) out.

Why: Kafka's group coordinator is tested and reasoned about this way. Nothing here does I/O or
reads a clock: every event carries `now` (ms), responses are delivered as (waiter, response)
pairs, so a JoinGroup parked until the rebalance completes is answered by a later event or by
`tick(now)`. Offsets change only through `replay` of the records the events emit; the glue
(service.py) appends records to `__consumer_offsets` first, then replays them, then replies.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Hashable

from pystreams.broker.coordinator import records as rec
from pystreams.broker.coordinator.codes import (COORDINATOR_NOT_AVAILABLE, FENCED_INSTANCE_ID,
                                                 GROUP_MAX_SIZE_REACHED, ILLEGAL_GENERATION,
                                                 INCONSISTENT_GROUP_PROTOCOL, INVALID_GROUP_ID,
                                                 INVALID_SESSION_TIMEOUT, MEMBER_ID_REQUIRED, NONE,
                                                 REBALANCE_IN_PROGRESS, UNKNOWN_MEMBER_ID)
from pystreams.broker.coordinator.group import (COMPLETING_REBALANCE, DEAD, EMPTY,
                                                 PREPARING_REBALANCE, STABLE, ClassicGroup, Member)
from pystreams.broker.coordinator.offsets import OffsetsMixin


Record = tuple[str, bytes, "bytes | None"]  # (group id, key, value or None for a tombstone)


@dataclass
class Outcome:
    """What an event produced: records to append (in order), then replies to deliver."""

    records: list[Record] = field(default_factory=list)
    replies: list[tuple[Hashable, dict]] = field(default_factory=list)

    def reply(self, waiter: Hashable, response: dict) -> None:
        self.replies.append((waiter, response))


@dataclass
class CoordinatorConfig:
    """Kafka's group.* settings, in milliseconds."""

    initial_rebalance_delay_ms: int = 3000
    min_session_timeout_ms: int = 6000
    max_session_timeout_ms: int = 1800000
    max_size: int = 2**31 - 1
    offset_metadata_max_bytes: int = 4096


@dataclass
class JoinRequest:
    group_id: str
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    session_timeout_ms: int
    rebalance_timeout_ms: int
    protocol_type: str
    protocols: list[tuple[str, bytes]]
    require_known_member_id: bool = True


def _join_error(error: int, member_id: str = "") -> dict:
    return {"error_code": error, "generation_id": -1, "protocol_type": None,
            "protocol_name": None, "leader": "", "skip_assignment": False,
            "member_id": member_id, "members": []}


class GroupCoordinator(OffsetsMixin):
    """All classic groups of this broker and their committed offsets."""

    def __init__(self, config: CoordinatorConfig | None = None) -> None:
        self.config = config or CoordinatorConfig()
        self.groups: dict[str, ClassicGroup] = {}
        self.offsets: dict[str, dict[tuple[str, int], rec.OffsetValue]] = {}

    # --- JoinGroup ----------------------------------------------------------------------------
    def join(self, waiter: Hashable, now: int, req: JoinRequest) -> Outcome:
        """A member (re)joins; the reply may come now or when the rebalance completes."""
        out = Outcome()
        cfg = self.config
        if not req.group_id:
            out.reply(waiter, _join_error(INVALID_GROUP_ID, req.member_id))
            return out
        if not cfg.min_session_timeout_ms <= req.session_timeout_ms <= cfg.max_session_timeout_ms:
            out.reply(waiter, _join_error(INVALID_SESSION_TIMEOUT, req.member_id))
            return out
        group = self.groups.get(req.group_id)
        if group is None:
            group = self.groups[req.group_id] = ClassicGroup(req.group_id)
        if group.state == DEAD:
            out.reply(waiter, _join_error(COORDINATOR_NOT_AVAILABLE, req.member_id))
            return out
        if not group.supports(req.protocol_type, req.protocols):
            out.reply(waiter, _join_error(INCONSISTENT_GROUP_PROTOCOL, req.member_id))
            return out
        if req.group_instance_id is not None:
            self._join_static(group, waiter, now, req, req.group_instance_id, out)
        elif not req.member_id:
            self._join_new(group, waiter, now, req, out)
        else:
            self._join_existing(group, waiter, now, req, out)
        return out

    def _join_new(self, group: ClassicGroup, waiter, now: int, req: JoinRequest, out: Outcome
                  ) -> None:
        member_id = f"{req.client_id}-{uuid.uuid4()}"
        if len(group.members) + len(group.pending_members) >= self.config.max_size:
            out.reply(waiter, _join_error(GROUP_MAX_SIZE_REACHED, ""))
            return
        if req.require_known_member_id:
            group.pending_members[member_id] = now + req.session_timeout_ms
            out.reply(waiter, _join_error(MEMBER_ID_REQUIRED, member_id))
            return
        self._add_member(group, waiter, now, req, member_id, out)

    def _join_existing(self, group: ClassicGroup, waiter, now: int, req: JoinRequest,
                       out: Outcome) -> None:
        if req.member_id in group.pending_members:
            del group.pending_members[req.member_id]
            if len(group.members) >= self.config.max_size:
                out.reply(waiter, _join_error(GROUP_MAX_SIZE_REACHED, req.member_id))
                return
            self._add_member(group, waiter, now, req, req.member_id, out)
            return
        member = group.members.get(req.member_id)
        if member is None:
            out.reply(waiter, _join_error(UNKNOWN_MEMBER_ID, req.member_id))
            return
        self._rejoin(group, member, waiter, now, req, out)

    def _join_static(self, group: ClassicGroup, waiter, now: int, req: JoinRequest,
                     instance_id: str, out: Outcome) -> None:
        known_id = group.static_members.get(instance_id)
        if known_id is None:
            if req.member_id:
                out.reply(waiter, _join_error(UNKNOWN_MEMBER_ID, req.member_id))
                return
            if len(group.members) >= self.config.max_size:
                out.reply(waiter, _join_error(GROUP_MAX_SIZE_REACHED, ""))
                return
            member_id = f"{instance_id}-{uuid.uuid4()}"
            self._add_member(group, waiter, now, req, member_id, out)
            return
        if req.member_id and req.member_id != known_id:
            out.reply(waiter, _join_error(FENCED_INSTANCE_ID, req.member_id))
            return
        member = group.members[known_id]
        if req.member_id == known_id:
            self._rejoin(group, member, waiter, now, req, out)
            return
        # A restarted static member: it takes over the old member id's place (the old
        # instance is fenced) and, when nothing changed, gets its assignment back without a
        # rebalance.
        new_id = f"{instance_id}-{uuid.uuid4()}"
        self._fence(member, out)
        del group.members[known_id]
        member.member_id = new_id
        group.members[new_id] = member
        group.static_members[instance_id] = new_id
        if group.leader_id == known_id:
            group.leader_id = new_id
        changed = not member.same_protocols(req.protocols)
        self._update_member(member, now, req)
        if group.state == STABLE and not changed and group.leader_id != new_id:
            out.reply(waiter, self._join_reply(group, member))
            return
        member.join_waiter = waiter
        if group.state != PREPARING_REBALANCE:
            self._prepare_rebalance(group, now, out)
        self._maybe_complete_join(group, now, out)

    def _fence(self, member: Member, out: Outcome, error: int = FENCED_INSTANCE_ID) -> None:
        """Answer a member's parked join/sync with `error` (it was replaced or removed)."""
        if member.join_waiter is not None:
            out.reply(member.join_waiter, _join_error(error, member.member_id))
            member.join_waiter = None
        if member.sync_waiter is not None:
            out.reply(member.sync_waiter, {"error_code": error,
                                           "protocol_type": None, "protocol_name": None,
                                           "assignment": b""})
            member.sync_waiter = None

    def _update_member(self, member: Member, now: int, req: JoinRequest) -> None:
        member.protocols = [(n, bytes(m)) for n, m in req.protocols]
        member.session_timeout_ms = req.session_timeout_ms
        member.rebalance_timeout_ms = req.rebalance_timeout_ms
        member.client_id, member.client_host = req.client_id, req.client_host
        member.heartbeat_deadline = now + req.session_timeout_ms

    def _add_member(self, group: ClassicGroup, waiter, now: int, req: JoinRequest,
                    member_id: str, out: Outcome) -> None:
        member = Member(member_id, req.group_instance_id, req.client_id, req.client_host,
                        req.rebalance_timeout_ms, req.session_timeout_ms, req.protocol_type,
                        [(n, bytes(m)) for n, m in req.protocols])
        member.heartbeat_deadline = now + req.session_timeout_ms
        member.join_waiter = waiter
        if not group.members:
            group.protocol_type = req.protocol_type
        group.members[member_id] = member
        if req.group_instance_id is not None:
            group.static_members[req.group_instance_id] = member_id
        if group.state == PREPARING_REBALANCE and group.join_not_before > now:
            # Kafka's initial delayed join: each newcomer pushes the deadline out a little.
            group.join_not_before = min(now + self.config.initial_rebalance_delay_ms,
                                        group.initial_join_limit)
        if group.state != PREPARING_REBALANCE:
            self._prepare_rebalance(group, now, out)
        self._maybe_complete_join(group, now, out)

    def _rejoin(self, group: ClassicGroup, member: Member, waiter, now: int, req: JoinRequest,
                out: Outcome) -> None:
        changed = not member.same_protocols(req.protocols)
        self._update_member(member, now, req)
        if group.state == PREPARING_REBALANCE:
            if member.join_waiter is not None and member.join_waiter != waiter:
                out.reply(member.join_waiter, _join_error(REBALANCE_IN_PROGRESS, member.member_id))
            member.join_waiter = waiter
            self._maybe_complete_join(group, now, out)
            return
        if group.state == COMPLETING_REBALANCE and not changed:
            out.reply(waiter, self._join_reply(group, member))
            return
        if group.state == STABLE and not changed and group.leader_id != member.member_id:
            out.reply(waiter, self._join_reply(group, member))
            return
        member.join_waiter = waiter
        self._prepare_rebalance(group, now, out)
        self._maybe_complete_join(group, now, out)

    def _join_reply(self, group: ClassicGroup, member: Member) -> dict:
        leader = member.member_id == group.leader_id
        members = [{"member_id": m.member_id, "group_instance_id": m.group_instance_id,
                    "metadata": m.metadata_for(group.protocol_name)}
                   for m in group.members.values()] if leader else []
        return {"error_code": NONE, "generation_id": group.generation,
                "protocol_type": group.protocol_type, "protocol_name": group.protocol_name,
                "leader": group.leader_id or "", "skip_assignment": False,
                "member_id": member.member_id, "members": members}

    # --- rebalance ----------------------------------------------------------------------------
    def _prepare_rebalance(self, group: ClassicGroup, now: int, out: Outcome) -> None:
        if group.state == COMPLETING_REBALANCE:
            for m in group.members.values():
                m.assignment = b""
                if m.sync_waiter is not None:
                    out.reply(m.sync_waiter, {"error_code": REBALANCE_IN_PROGRESS,
                                              "protocol_type": None, "protocol_name": None,
                                              "assignment": b""})
                    m.sync_waiter = None
        was_empty = group.state == EMPTY
        group.state = PREPARING_REBALANCE
        group.state_timestamp = now
        timeout = group.max_rebalance_timeout()
        group.rebalance_deadline = now + timeout
        if was_empty:
            group.initial_join_limit = now + timeout
            group.join_not_before = min(now + self.config.initial_rebalance_delay_ms,
                                        group.initial_join_limit)
        else:
            group.join_not_before = now

    def _maybe_complete_join(self, group: ClassicGroup, now: int, out: Outcome) -> None:
        if group.state != PREPARING_REBALANCE:
            return
        if now < group.rebalance_deadline and not (group.all_joined() and now >= group.join_not_before):
            return
        for member in [m for m in group.members.values() if m.join_waiter is None]:
            self._remove_member(group, member)  # did not rejoin within the rebalance timeout
        group.pending_members.clear()
        group.generation += 1
        group.state_timestamp = now
        if not group.members:
            group.state = EMPTY
            group.protocol_name = None
            group.leader_id = None
            out.records.append(self._group_record(group))
            return
        group.state = COMPLETING_REBALANCE
        group.rebalance_deadline = now + group.max_rebalance_timeout()  # now the sync deadline
        group.pending_sync = set(group.members)
        group.protocol_name = group.select_protocol()
        if group.leader_id not in group.members:
            group.leader_id = next(iter(group.members))
        for member in group.members.values():
            waiter, member.join_waiter = member.join_waiter, None
            member.heartbeat_deadline = now + member.session_timeout_ms
            out.reply(waiter, self._join_reply(group, member))

    def _remove_member(self, group: ClassicGroup, member: Member) -> None:
        del group.members[member.member_id]
        if member.group_instance_id is not None:
            group.static_members.pop(member.group_instance_id, None)
        if group.leader_id == member.member_id:
            group.leader_id = next(iter(group.members), None)

    def _group_record(self, group: ClassicGroup) -> tuple[str, bytes, bytes]:
        members = tuple(rec.MemberValue(m.member_id, m.group_instance_id, m.client_id,
                                        m.client_host, m.rebalance_timeout_ms,
                                        m.session_timeout_ms,
                                        m.metadata_for(group.protocol_name), m.assignment)
                        for m in group.members.values())
        value = rec.GroupValue(group.protocol_type or "", group.generation, group.protocol_name,
                               group.leader_id, group.state_timestamp, members)
        return (group.group_id, rec.encode_group_key(rec.GroupKey(group.group_id)),
                rec.encode_group_value(value))

    # --- SyncGroup ----------------------------------------------------------------------------
    def sync(self, waiter: Hashable, now: int, group_id: str, generation: int, member_id: str,
             group_instance_id: str | None, protocol_type: str | None,
             protocol_name: str | None, assignments: list[tuple[str, bytes]]) -> Outcome:
        """The leader hands out assignments; followers wait for them."""
        out = Outcome()

        def fail(error: int) -> Outcome:
            out.reply(waiter, {"error_code": error, "protocol_type": None,
                               "protocol_name": None, "assignment": b""})
            return out

        group = self.groups.get(group_id)
        if group is None or group.state == DEAD:
            return fail(UNKNOWN_MEMBER_ID if group is None else COORDINATOR_NOT_AVAILABLE)
        error = group.member_error(member_id, group_instance_id)
        if error:
            return fail(error)
        if generation != group.generation:
            return fail(ILLEGAL_GENERATION)
        if (protocol_type is not None and protocol_type != group.protocol_type) or \
                (protocol_name is not None and protocol_name != group.protocol_name):
            return fail(INCONSISTENT_GROUP_PROTOCOL)
        if group.state == PREPARING_REBALANCE:
            return fail(REBALANCE_IN_PROGRESS)
        member = group.members[member_id]
        member.heartbeat_deadline = now + member.session_timeout_ms
        if group.state == STABLE:
            out.reply(waiter, self._sync_reply(group, member))
            return out
        member.sync_waiter = waiter
        group.pending_sync.discard(member_id)
        if member_id == group.leader_id:
            given = {mid: bytes(a) for mid, a in assignments}
            for m in group.members.values():
                m.assignment = given.get(m.member_id, b"")
            group.state = STABLE
            group.state_timestamp = now
            out.records.append(self._group_record(group))
            for m in group.members.values():
                if m.sync_waiter is not None:
                    out.reply(m.sync_waiter, self._sync_reply(group, m))
                    m.sync_waiter = None
        return out

    @staticmethod
    def _sync_reply(group: ClassicGroup, member: Member) -> dict:
        return {"error_code": NONE, "protocol_type": group.protocol_type,
                "protocol_name": group.protocol_name, "assignment": member.assignment}

    # --- Heartbeat / LeaveGroup ---------------------------------------------------------------
    def heartbeat(self, waiter: Hashable, now: int, group_id: str, generation: int,
                  member_id: str, group_instance_id: str | None) -> Outcome:
        """Keep a member's session alive; tells it when a rebalance needs it to rejoin."""
        out = Outcome()
        group = self.groups.get(group_id)
        if group is None:
            error = UNKNOWN_MEMBER_ID
        elif group.state == DEAD:
            error = COORDINATOR_NOT_AVAILABLE
        else:
            error = group.member_error(member_id, group_instance_id)
            if not error and generation != group.generation:
                error = ILLEGAL_GENERATION
            if not error:
                member = group.members[member_id]
                member.heartbeat_deadline = now + member.session_timeout_ms
                if group.state == PREPARING_REBALANCE:
                    error = REBALANCE_IN_PROGRESS
        out.reply(waiter, {"error_code": error})
        return out

    def leave(self, waiter: Hashable, now: int, group_id: str,
              members: list[tuple[str, str | None]]) -> Outcome:
        """Members leave (by member id, or by group.instance.id for static members)."""
        out = Outcome()
        group = self.groups.get(group_id)
        if group is None or group.state == DEAD:
            out.reply(waiter, {"error_code": NONE, "members": [
                {"member_id": mid, "group_instance_id": iid, "error_code": UNKNOWN_MEMBER_ID}
                for mid, iid in members]})
            return out
        results = []
        removed = False
        for member_id, instance_id in members:
            target = member_id
            error = NONE
            if instance_id is not None:
                known = group.static_members.get(instance_id)
                if known is None:
                    error = UNKNOWN_MEMBER_ID
                elif member_id and member_id != known:
                    error = FENCED_INSTANCE_ID
                else:
                    target = known
            if not error and target in group.pending_members:
                del group.pending_members[target]
                removed = True
            elif not error and target not in group.members:
                error = UNKNOWN_MEMBER_ID
            elif not error:
                member = group.members[target]
                self._fence(member, out, UNKNOWN_MEMBER_ID)
                self._remove_member(group, member)
                removed = True
            results.append({"member_id": member_id, "group_instance_id": instance_id,
                            "error_code": error})
        if removed:
            self._after_removal(group, now, out)
        out.reply(waiter, {"error_code": NONE, "members": results})
        return out

    def _after_removal(self, group: ClassicGroup, now: int, out: Outcome) -> None:
        if group.state in (STABLE, COMPLETING_REBALANCE):
            self._prepare_rebalance(group, now, out)
        self._maybe_complete_join(group, now, out)

    # --- time ---------------------------------------------------------------------------------
    def tick(self, now: int) -> Outcome:
        """Fire every deadline due at `now`: delayed joins, rebalance and session timeouts."""
        out = Outcome()
        for group in list(self.groups.values()):
            for member_id, expiry in list(group.pending_members.items()):
                if expiry <= now:
                    del group.pending_members[member_id]
            expired = [m for m in group.members.values()
                       if m.heartbeat_deadline <= now and m.join_waiter is None]
            if group.state == COMPLETING_REBALANCE and now >= group.rebalance_deadline:
                # Kafka's pending-sync timeout: who joined but never sent SyncGroup is removed
                expired += [group.members[m] for m in group.pending_sync
                            if m in group.members and group.members[m] not in expired]
            for member in expired:
                self._fence(member, out, UNKNOWN_MEMBER_ID)
                self._remove_member(group, member)
            if expired:
                self._after_removal(group, now, out)
            else:
                self._maybe_complete_join(group, now, out)
        return out
