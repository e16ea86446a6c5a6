"""Offsets and group administration events of the coordinator, and the replay of records.

Why a mixin: machine.py holds the join/sync/heartbeat protocol; this file holds what reads or
writes committed offsets and whole groups (commit, fetch, delete, describe, list, replay).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Hashable, Iterable

from pystreams.broker.coordinator import records as rec
from pystreams.broker.coordinator.codes import (GROUP_ID_NOT_FOUND, GROUP_SUBSCRIBED_TO_TOPIC,
                                                 ILLEGAL_GENERATION, INVALID_GROUP_ID,
                                                 NON_EMPTY_GROUP, NONE, OFFSET_METADATA_TOO_LARGE,
                                                 REBALANCE_IN_PROGRESS, UNKNOWN_MEMBER_ID)
from pystreams.broker.coordinator.group import (COMPLETING_REBALANCE, DEAD, EMPTY, STABLE,
                                                 ClassicGroup)

if TYPE_CHECKING:
    from pystreams.broker.coordinator.machine import CoordinatorConfig, Outcome

Commit = tuple[str, int, int, int, "str | None"]  # topic, partition, offset, leader epoch, metadata


class OffsetsMixin:
    """Needs `groups`, `offsets` and `config` (GroupCoordinator provides them)."""

    groups: dict[str, ClassicGroup]
    offsets: dict[str, dict[tuple[str, int], rec.OffsetValue]]
    config: CoordinatorConfig

    def _validate_commit(self, group: ClassicGroup | None, generation: int, member_id: str,
                         instance_id: str | None) -> int:
        if group is None:
            return NONE if generation < 0 else GROUP_ID_NOT_FOUND
        if generation < 0 and not member_id and group.state == EMPTY:
            return NONE  # an admin or simple-consumer commit to a group without members
        if group.state == DEAD:
            return UNKNOWN_MEMBER_ID
        if group.state == COMPLETING_REBALANCE:
            return REBALANCE_IN_PROGRESS
        error = group.member_error(member_id, instance_id)
        if error:
            return error
        if generation != group.generation:
            return ILLEGAL_GENERATION
        return NONE

    def commit_offsets(self, waiter: Hashable, now: int, group_id: str, generation: int,
                       member_id: str, instance_id: str | None,
                       topics: list[tuple[str, list[tuple[int, int, int, str | None]]]]
                       ) -> "Outcome":
        """OffsetCommit: validate the member/generation, then one record per partition."""
        from pystreams.broker.coordinator.machine import Outcome
        out = Outcome()
        group = self.groups.get(group_id)
        error = INVALID_GROUP_ID if not group_id else \
            self._validate_commit(group, generation, member_id, instance_id)
        if not error and group is not None and member_id in group.members:
            member = group.members[member_id]
            member.heartbeat_deadline = now + member.session_timeout_ms
        max_meta = self.config.offset_metadata_max_bytes
        result = []
        for topic, partitions in topics:
            parts = []
            for partition, offset, epoch, metadata in partitions:
                code = error
                if not code and metadata is not None and len(metadata.encode()) > max_meta:
                    code = OFFSET_METADATA_TOO_LARGE
                if not code:
                    key = rec.encode_offset_key(rec.OffsetKey(group_id, topic, partition))
                    value = rec.encode_offset_value(rec.OffsetValue(offset, epoch, metadata or "",
                                                                    now))
                    out.records.append((group_id, key, value))
                parts.append({"partition_index": partition, "error_code": code})
            result.append({"name": topic, "partitions": parts})
        if out.records and group is None:
            self.groups[group_id] = ClassicGroup(group_id)
        out.reply(waiter, {"topics": result})
        return out

    def fetch_offsets(self, group_id: str, topics: list[tuple[str, list[int]]] | None
                      ) -> list[dict]:
        """OffsetFetch for one group: committed offsets, -1 where nothing is committed."""
        committed = self.offsets.get(group_id, {})
        if topics is None:
            by_topic: dict[str, list[int]] = {}
            for topic, partition in sorted(committed):
                by_topic.setdefault(topic, []).append(partition)
            topics = list(by_topic.items())
        out = []
        for topic, partitions in topics:
            parts = []
            for partition in partitions:
                value = committed.get((topic, partition))
                parts.append({"partition_index": partition,
                              "committed_offset": value.offset if value else -1,
                              "committed_leader_epoch": value.leader_epoch if value else -1,
                              "metadata": value.metadata if value else "", "error_code": NONE})
            out.append({"name": topic, "partitions": parts})
        return out

    def delete_offsets(self, waiter: Hashable, now: int, group_id: str,
                       topics: list[tuple[str, list[int]]]) -> "Outcome":
        """OffsetDelete: tombstones, refused for topics an active group still consumes."""
        from pystreams.broker.coordinator.machine import Outcome
        out = Outcome()
        group = self.groups.get(group_id)
        if group is None or group.state == DEAD:
            out.reply(waiter, {"error_code": GROUP_ID_NOT_FOUND, "topics": []})
            return out
        subscribed: set[str] = set()
        if group.state != EMPTY:
            topics_in_use = group.subscribed_topics()
            if topics_in_use is None:
                out.reply(waiter, {"error_code": NON_EMPTY_GROUP, "topics": []})
                return out
            subscribed = topics_in_use
        result = []
        for topic, partitions in topics:
            parts = []
            for partition in partitions:
                code = GROUP_SUBSCRIBED_TO_TOPIC if topic in subscribed else NONE
                if not code and (topic, partition) in self.offsets.get(group_id, {}):
                    key = rec.encode_offset_key(rec.OffsetKey(group_id, topic, partition))
                    out.records.append((group_id, key, None))
                parts.append({"partition_index": partition, "error_code": code})
            result.append({"name": topic, "partitions": parts})
        out.reply(waiter, {"error_code": NONE, "topics": result})
        return out

    def delete_groups(self, now: int, group_ids: Iterable[str]) -> tuple["Outcome", list[dict]]:
        """DeleteGroups: only empty groups; their metadata and offsets become tombstones."""
        from pystreams.broker.coordinator.machine import Outcome
        out = Outcome()
        results = []
        for group_id in group_ids:
            group = self.groups.get(group_id)
            if group is None and group_id not in self.offsets:
                code = GROUP_ID_NOT_FOUND
            elif group is not None and group.state not in (EMPTY, DEAD):
                code = NON_EMPTY_GROUP
            else:
                code = NONE
                for topic, partition in list(self.offsets.get(group_id, {})):
                    key = rec.encode_offset_key(rec.OffsetKey(group_id, topic, partition))
                    out.records.append((group_id, key, None))
                out.records.append((group_id, rec.encode_group_key(rec.GroupKey(group_id)), None))
                if group is not None:
                    group.state = DEAD
            results.append({"group_id": group_id, "error_code": code})
        return out, results

    def delete_topic_offsets(self, topics: set[str],
                             pending: Iterable[tuple[str, str, int]] = ()) -> "Outcome":
        """Topics were deleted: tombstone every group's committed offsets for them, and the
        (group, topic, partition) of open transactional commits in `pending` (Kafka's
        OffsetMetadataManager.onPartitionsDeleted), so a re-created topic starts uncommitted."""
        from pystreams.broker.coordinator.machine import Outcome
        out = Outcome()
        doomed = {(group_id, topic, partition)
                  for group_id, committed in self.offsets.items()
                  for topic, partition in committed if topic in topics}
        doomed.update(entry for entry in pending if entry[1] in topics)
        for group_id, topic, partition in sorted(doomed):
            key = rec.encode_offset_key(rec.OffsetKey(group_id, topic, partition))
            out.records.append((group_id, key, None))
        return out

    def describe(self, group_id: str) -> dict | None:
        """DescribeGroups data for one group, or None when it does not exist."""
        group = self.groups.get(group_id)
        if group is None or group.state == DEAD:
            return None
        stable = group.state == STABLE
        members = [{"member_id": m.member_id, "group_instance_id": m.group_instance_id,
                    "client_id": m.client_id, "client_host": m.client_host,
                    "member_metadata": m.metadata_for(group.protocol_name) if stable else b"",
                    "member_assignment": m.assignment if stable else b""}
                   for m in group.members.values()]
        return {"group_id": group_id, "group_state": group.state,
                "protocol_type": group.protocol_type or "",
                "protocol_data": (group.protocol_name or "") if stable else "",
                "members": members}

    def list_groups(self) -> list[ClassicGroup]:
        """Every live group, including offset-only (simple consumer) groups."""
        return [g for g in self.groups.values() if g.state != DEAD]

    def expire_offsets(self, now: int, retention_ms: int) -> "Outcome":
        """offsets.retention.minutes: an empty group's offsets expire `retention_ms` after it
        became empty (or after the commit, for groups that never had members); a group left
        with no offsets is removed (Kafka's cleanupGroupMetadata)."""
        from pystreams.broker.coordinator.machine import Outcome
        out = Outcome()
        for group_id, committed in list(self.offsets.items()):
            group = self.groups.get(group_id)
            if group is not None and group.state != EMPTY:
                continue
            base = group.state_timestamp if group is not None and group.state_timestamp >= 0 \
                else None
            expired = [tp for tp, v in committed.items()
                       if (base if base is not None else v.commit_timestamp) + retention_ms <= now]
            for topic, partition in expired:
                key = rec.encode_offset_key(rec.OffsetKey(group_id, topic, partition))
                out.records.append((group_id, key, None))
            if expired and len(expired) == len(committed):
                out.records.append((group_id, rec.encode_group_key(rec.GroupKey(group_id)), None))
        return out

    # --- replay -------------------------------------------------------------------------------
    def replay(self, key: bytes, value: bytes | None, now: int) -> None:
        """Apply one `__consumer_offsets` record; replaying the topic rebuilds this state."""
        parsed = rec.decode_key(key)
        if isinstance(parsed, rec.OffsetKey):
            committed = self.offsets.setdefault(parsed.group, {})
            if value is None:
                committed.pop((parsed.topic, parsed.partition), None)
                if not committed:
                    del self.offsets[parsed.group]
            else:
                committed[(parsed.topic, parsed.partition)] = rec.decode_offset_value(value)
                if parsed.group not in self.groups:
                    self.groups[parsed.group] = ClassicGroup(parsed.group)
        elif isinstance(parsed, rec.GroupKey):
            group = self.groups.get(parsed.group)
            if value is None:
                if group is None or group.state in (EMPTY, DEAD):
                    self.groups.pop(parsed.group, None)
                    self.offsets.pop(parsed.group, None)
                return
            data = rec.decode_group_value(value)
            if group is not None and group.generation >= data.generation:
                return  # a live group already past this record
            self.groups[parsed.group] = _group_from_record(parsed.group, data, now)


def _group_from_record(group_id: str, data: rec.GroupValue, now: int) -> ClassicGroup:
    from pystreams.broker.coordinator.group import Member
    group = ClassicGroup(group_id, state=STABLE if data.members else EMPTY,
                         generation=data.generation, protocol_type=data.protocol_type or None,
                         protocol_name=data.protocol, leader_id=data.leader,
                         state_timestamp=data.current_state_timestamp)
    for m in data.members:
        member = Member(m.member_id, m.group_instance_id, m.client_id, m.client_host,
                        m.rebalance_timeout, m.session_timeout, data.protocol_type,
                        [(data.protocol or "", m.subscription)], m.assignment,
                        heartbeat_deadline=now + m.session_timeout)
        group.members[m.member_id] = member
        if m.group_instance_id is not None:
            group.static_members[m.group_instance_id] = m.member_id
    return group
