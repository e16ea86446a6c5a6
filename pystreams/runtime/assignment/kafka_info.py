"""Kafka Streams' assignor user data in Kafka's own bytes, so a pystreams instance and a Java Kafka Streams instance
of one application.id can share a consumer group (a rolling move between the two), whichever of them leads:

- SubscriptionInfoData (member -> leader): Kafka's generated message, streams/src/main/resources/common/message/
  SubscriptionInfoData.json, versions 1-11, not flexible (int32 arrays, int32-length bytes, int16-length strings);
- AssignmentInfo (leader -> member): the hand-written DataOutputStream encoding of Kafka's AssignmentInfo.java,
  versions 1-11 (Java's writeUTF strings, a topic dictionary from version 5, task ids with a named-topology length
  from version 10).

Kafka's decoders read the fields of the version they were given and ignore any bytes after them: `extension` holds
those bytes (pystreams puts its own, ignorable data there; see info.py). Pure: bytes in, dataclasses out, no I/O.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pystreams.processor.task_id import TaskId
from pystreams.runtime.assignment.codec import AssignmentError, Reader, Writer

TopicPartition = tuple[str, int]
HostInfo = tuple[str, int]

#: StreamsAssignmentProtocolVersions of Kafka 3.x-4.x: the newest subscription/assignment version
LATEST_SUPPORTED_VERSION = 11
EARLIEST_PROBEABLE_VERSION = 3
MIN_OFFSET_SUM_VERSION = 7  # task offset sums replace the prev/standby task lists
MIN_NAMED_TOPOLOGY_VERSION = 10  # task ids carry a named topology
UNKNOWN = -1
LATEST_OFFSET = -2  # Kafka's Task.LATEST_OFFSET: the member runs the task active now
UNKNOWN_OFFSET_SUM = -3  # SubscriptionInfo.UNKNOWN_OFFSET_SUM: a v1-6 standby (no offset sum sent)
NO_FOLLOWUP = 2**63 - 1  # AssignmentInfo.nextRebalanceMs when no follow-up rebalance is wanted (Long.MAX_VALUE)


def _check_version(version: int, what: str) -> None:
    if not 1 <= version <= LATEST_SUPPORTED_VERSION:
        raise AssignmentError(f"cannot encode {what} version {version}: versions 1-{LATEST_SUPPORTED_VERSION} exist")


def _no_named_topology(r: Reader) -> None:
    """A v10+ task id's named topology: pystreams has none (Kafka's named topologies never became public API)."""
    chars = r.i32()
    if chars != 0:
        raise r.fail(f"a task id with a named topology ({chars} chars); pystreams runs one unnamed topology")


# ---------------------------------------------------------------------------------------------- SubscriptionInfoData
@dataclass(frozen=True)
class KafkaSubscription:
    """SubscriptionInfoData's fields (v1-6 prevTasks/standbyTasks folded into task_offset_sums the way Kafka's
    SubscriptionInfo.taskOffsetSums() reads them: LATEST_OFFSET for previous actives, UNKNOWN_OFFSET_SUM for
    standbys). A future version (above LATEST_SUPPORTED_VERSION) decodes to its two versions only and process_id
    None, as Kafka's decoder does for version probing."""

    version: int
    latest_supported_version: int
    process_id: uuid.UUID | None
    user_endpoint: str | None = None
    task_offset_sums: dict[TaskId, int] = field(default_factory=dict)
    unique_field: int = 0
    error_code: int = 0
    client_tags: dict[str, str] = field(default_factory=dict)
    extension: bytes = b""

    @property
    def future(self) -> bool:
        return self.version > LATEST_SUPPORTED_VERSION


def encode_subscription(s: KafkaSubscription) -> bytes:
    """SubscriptionInfoData at s.version, then s.extension."""
    v = s.version
    _check_version(v, "a Streams subscription")
    if s.process_id is None:
        raise AssignmentError("cannot encode a Streams subscription without a process id")
    w = Writer()
    w.i32(v)
    if v >= 3:
        w.i32(s.latest_supported_version)
    w.uuid(s.process_id)
    if v < MIN_OFFSET_SUM_VERSION:
        prev = sorted(t for t, o in s.task_offset_sums.items() if o == LATEST_OFFSET)
        standby = sorted(t for t, o in s.task_offset_sums.items() if o != LATEST_OFFSET)
        for tasks in (prev, standby):
            w.i32(len(tasks))
            for t in tasks:
                w.i32(t.subtopology)
                w.i32(t.partition)
    if v >= 2:
        w.bytes_((s.user_endpoint or "").encode("utf-8"))
    if v >= MIN_NAMED_TOPOLOGY_VERSION:
        w.i32(len(s.task_offset_sums))
        for t, offset_sum in sorted(s.task_offset_sums.items()):
            w.i32(t.subtopology)
            w.i32(t.partition)
            w.i64(offset_sum)
            w.i16(-1)  # namedTopology: null
    elif v >= MIN_OFFSET_SUM_VERSION:
        by_sub: dict[int, list[tuple[int, int]]] = {}
        for t, offset_sum in sorted(s.task_offset_sums.items()):
            by_sub.setdefault(t.subtopology, []).append((t.partition, offset_sum))
        w.i32(len(by_sub))
        for sub, entries in by_sub.items():
            w.i32(sub)
            w.i32(len(entries))
            for partition, offset_sum in entries:
                w.i32(partition)
                w.i64(offset_sum)
    if v >= 8:
        w.i8(((s.unique_field + 128) % 256) - 128)
    if v >= 9:
        w.i32(s.error_code)
    if v >= 11:
        w.i32(len(s.client_tags))
        for key, value in sorted(s.client_tags.items()):
            w.bytes_(key.encode("utf-8"))
            w.bytes_(value.encode("utf-8"))
    w.raw(s.extension)
    return bytes(w.buf)


def _read_task_list(r: Reader) -> list[TaskId]:
    return [TaskId(r.i32(), r.i32()) for _ in range(r.count())]


def _text(r: Reader, data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise r.fail(f"{what} is not UTF-8") from None


def decode_subscription(data: bytes) -> KafkaSubscription:
    """SubscriptionInfoData of any version 1-11 (Java's or ours); a future version's two version fields only."""
    r = Reader(data, "Streams subscription user data (Kafka's SubscriptionInfoData)")
    v = r.i32()
    if v > LATEST_SUPPORTED_VERSION:
        return KafkaSubscription(v, r.i32(), None)
    if v < 1:
        raise r.fail(f"bad version {v}")
    latest = r.i32() if v >= 3 else UNKNOWN
    process_id = r.uuid()
    sums: dict[TaskId, int] = {}
    if v < MIN_OFFSET_SUM_VERSION:
        prev, standby = _read_task_list(r), _read_task_list(r)
        sums.update({t: UNKNOWN_OFFSET_SUM for t in standby})
        sums.update({t: LATEST_OFFSET for t in prev})
    endpoint = None
    if v >= 2:
        endpoint = _text(r, r.bytes_(), "the user endpoint") or None
    if v >= MIN_NAMED_TOPOLOGY_VERSION:
        for _ in range(r.count()):
            task = TaskId(r.i32(), r.i32())
            sums[task] = r.i64()
            named = r.string()
            if named:
                raise r.fail(f"task {task} of named topology {named!r}; pystreams runs one unnamed topology")
    elif v >= MIN_OFFSET_SUM_VERSION:
        for _ in range(r.count()):
            sub = r.i32()
            for _ in range(r.count()):
                partition = r.i32()
                sums[TaskId(sub, partition)] = r.i64()
    unique = r.i8() if v >= 8 else 0
    error = r.i32() if v >= 9 else 0
    tags: dict[str, str] = {}
    if v >= 11:
        for _ in range(r.count()):
            key = _text(r, r.bytes_(), "a client tag key")
            tags[key] = _text(r, r.bytes_(), "a client tag value")
    return KafkaSubscription(v, latest, process_id, endpoint, sums, unique, error, tags, r.rest())


# ---------------------------------------------------------------------------------------------------- AssignmentInfo
@dataclass(frozen=True)
class KafkaAssignment:
    """AssignmentInfo's fields. active_tasks has one entry per assigned partition, in the order of the assignment's
    partitions sorted by (topic, partition) (Kafka's PARTITION_COMPARATOR): the member zips the two."""

    version: int = LATEST_SUPPORTED_VERSION
    commonly_supported_version: int = LATEST_SUPPORTED_VERSION
    active_tasks: list[TaskId] = field(default_factory=list)
    standby_tasks: dict[TaskId, list[TopicPartition]] = field(default_factory=dict)
    partitions_by_host: dict[HostInfo, list[TopicPartition]] = field(default_factory=dict)
    standby_partitions_by_host: dict[HostInfo, list[TopicPartition]] = field(default_factory=dict)
    error_code: int = 0
    next_rebalance_ms: int = NO_FOLLOWUP
    extension: bytes = b""


def _write_task(w: Writer, t: TaskId, version: int) -> None:
    w.i32(t.subtopology)
    w.i32(t.partition)
    if version >= MIN_NAMED_TOPOLOGY_VERSION:
        w.i32(0)  # no named topology


def _write_tps(w: Writer, tps: Iterable[TopicPartition]) -> None:
    ordered = sorted(set(tps))
    w.i32(len(ordered))
    for topic, partition in ordered:
        w.utf(topic)
        w.i32(partition)


def _write_host_maps(w: Writer, maps: list[dict[HostInfo, list[TopicPartition]]], dictionary: bool) -> None:
    index: dict[str, int] = {}
    if dictionary:
        for hosts in maps:
            for tps in hosts.values():
                for topic, _ in tps:
                    index.setdefault(topic, len(index))
        w.i32(len(index))
        for topic, i in index.items():
            w.i32(i)
            w.utf(topic)
    for hosts in maps:
        w.i32(len(hosts))
        for (host, port), tps in sorted(hosts.items()):
            w.utf(host)
            w.i32(port)
            if not dictionary:
                _write_tps(w, tps)
                continue
            unique = sorted(set(tps))
            w.i32(len(unique))
            for topic, partition in unique:
                w.i32(index[topic])
                w.i32(partition)


def encode_assignment(a: KafkaAssignment) -> bytes:
    """AssignmentInfo at a.version (the group's lowest subscription version), then a.extension."""
    v = a.version
    _check_version(v, "a Streams assignment")
    w = Writer()
    w.i32(v)
    if v >= 3:
        w.i32(a.commonly_supported_version)
    w.i32(len(a.active_tasks))
    for t in a.active_tasks:
        _write_task(w, t, v)
    w.i32(len(a.standby_tasks))
    for t, tps in sorted(a.standby_tasks.items()):
        _write_task(w, t, v)
        _write_tps(w, tps)
    if v >= 6:
        _write_host_maps(w, [a.partitions_by_host, a.standby_partitions_by_host], dictionary=True)
    elif v >= 2:
        _write_host_maps(w, [a.partitions_by_host], dictionary=v >= 5)
    if v >= 4:
        w.i32(a.error_code)
    if v >= 7:
        w.i64(a.next_rebalance_ms)
    w.raw(a.extension)
    return bytes(w.buf)


def _read_task(r: Reader, version: int) -> TaskId:
    task = TaskId(r.i32(), r.i32())
    if version >= MIN_NAMED_TOPOLOGY_VERSION:
        _no_named_topology(r)
    return task


def _read_tps(r: Reader) -> list[TopicPartition]:
    return [(r.utf(), r.i32()) for _ in range(r.count())]


def _read_host_map(r: Reader, topics: Mapping[int, str] | None) -> dict[HostInfo, list[TopicPartition]]:
    out: dict[HostInfo, list[TopicPartition]] = {}
    for _ in range(r.count()):
        host = (r.utf(), r.i32())
        if topics is None:
            out[host] = _read_tps(r)
            continue
        tps = []
        for _ in range(r.count()):
            i = r.i32()
            if i not in topics:
                raise r.fail(f"topic index {i} outside the dictionary of {len(topics)}")
            tps.append((topics[i], r.i32()))
        out[host] = tps
    return out


def _read_dictionary(r: Reader) -> dict[int, str]:
    return {r.i32(): r.utf() for _ in range(r.count())}


def decode_assignment(data: bytes) -> KafkaAssignment:
    """AssignmentInfo of any version 1-11 (Java's or ours); AssignmentError (Kafka's TaskAssignmentException
    "Unable to decode assignment data") for another version or bad bytes."""
    r = Reader(data, "Streams assignment user data (Kafka's AssignmentInfo)")
    v = r.i32()
    if not 1 <= v <= LATEST_SUPPORTED_VERSION:
        raise AssignmentError(f"Unable to decode assignment data: used version: {v}; latest supported version: "
                              f"{LATEST_SUPPORTED_VERSION}")
    common = r.i32() if v >= 3 else UNKNOWN
    active = [_read_task(r, v) for _ in range(r.count())]
    standby = {}
    for _ in range(r.count()):
        task = _read_task(r, v)
        standby[task] = _read_tps(r)
    hosts: dict[HostInfo, list[TopicPartition]] = {}
    standby_hosts: dict[HostInfo, list[TopicPartition]] = {}
    if v >= 6:
        topics = _read_dictionary(r)
        hosts, standby_hosts = _read_host_map(r, topics), _read_host_map(r, topics)
    elif v == 5:
        hosts = _read_host_map(r, _read_dictionary(r))
    elif v >= 2:
        hosts = _read_host_map(r, None)
    error = r.i32() if v >= 4 else 0
    next_rebalance = r.i64() if v >= 7 else NO_FOLLOWUP
    return KafkaAssignment(v, common, active, standby, hosts, standby_hosts, error, next_rebalance, r.rest())


# --------------------------------------------------------------------------------------------- version negotiation
def assignment_versions(subscriptions: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """(version, commonly supported version) of the leader's assignment from every member's (version, latest
    supported version), as StreamsPartitionAssignor.assign: the lowest version any member sent (a member with an
    older version makes the leader answer in it) and the lowest latest-supported version (what every member can
    move to once the rolling upgrade is done)."""
    used = supported = LATEST_SUPPORTED_VERSION
    for version, latest in subscriptions:
        used = min(used, version)
        supported = min(supported, latest)
    return used, supported


def next_subscription_version(used: int, received: int, commonly_supported: int) -> tuple[int, bool]:
    """(the version a member sends next, whether it rejoins at once) after an assignment, as Kafka's
    validateMetadataVersions and maybeUpdateSubscriptionVersion: up to the commonly supported version once every
    member supports it (the end of a rolling upgrade), down to it when the assignment is older than the
    subscription (an older member or leader in the group: version probing); either way an immediate rebalance.
    Below EARLIEST_PROBEABLE_VERSION nothing changes. AssignmentError (Kafka's IllegalStateException) for an
    assignment newer than the subscription or a commonly supported version above ours."""
    if received > used:
        raise AssignmentError(f"Sent a version {used} subscription but got an assignment with higher version "
                              f"{received}.")
    if commonly_supported > LATEST_SUPPORTED_VERSION:
        raise AssignmentError("Can't upgrade to metadata version greater than we support")
    if received >= EARLIEST_PROBEABLE_VERSION and (commonly_supported > used or received < used):
        return commonly_supported, True
    return used, False
