"""The Streams assignor's user data: SubscriptionInfo (member -> leader) and AssignmentInfo (leader -> member),
in the spirit of Kafka's SubscriptionInfo/AssignmentInfo, plus the member-level views the membership client uses.

Encoding (version 1, big-endian): int32 version, int32 latest supported version, the magic b"pyst" (so data from
a non-pystreams member fails clearly instead of decoding into nonsense), then the fields below. Tasks are grouped
by sub-topology and topics are written once in a dictionary (Kafka's AssignmentInfo v5+ does the same), so an
assignment for hundreds of partitions stays a few kilobytes.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pystreams.processor.task_id import TaskId
from pystreams.runtime.assignment.codec import AssignmentError, Reader, Writer

TopicPartition = tuple[str, int]

VERSION = 1
LATEST_SUPPORTED_VERSION = 1
MAGIC = b"pyst"
NONE = 0
#: Kafka's AssignorError codes: a source topic is missing (every member raises MissingSourceTopicException) ...
INCOMPLETE_SOURCE_TOPIC_METADATA = 1
ASSIGNMENT_ERROR = 3  # ... the leader could not assign (here: an internal topic with the wrong partition count)
SHUTDOWN_REQUESTED = 4  # ... an instance's uncaught-exception handler asked the whole application to stop
LATEST_OFFSET = -2  # Kafka's Task.LATEST_OFFSET: the member runs the task active now (lag 0)
ERROR_NAMES = {NONE: "NONE", INCOMPLETE_SOURCE_TOPIC_METADATA: "INCOMPLETE_SOURCE_TOPIC_METADATA",
               ASSIGNMENT_ERROR: "ASSIGNMENT_ERROR", SHUTDOWN_REQUESTED: "SHUTDOWN_REQUESTED"}
#: the leader's error text travels with an error code (Kafka's members only get the code and point at the
#: leader's log); cut to fit the int16-length string
MAX_ERROR_MESSAGE = 4000


def _header(w: Writer) -> None:
    w.i32(VERSION)
    w.i32(LATEST_SUPPORTED_VERSION)
    w.raw(MAGIC)


def _check_header(r: Reader) -> None:
    if len(r.data) < 12 or bytes(r.data[8:12]) != MAGIC:
        raise AssignmentError(f"cannot decode {r.what}: it is not pystreams data (no b'pyst' marker; a Kafka "
                              "Streams Java member or another client with the same group id/application.id?)")
    version = r.i32()
    r.i32()  # the sender's latest supported version (for a future version probing)
    r.raw(4)
    if version != VERSION:
        raise AssignmentError(f"cannot decode {r.what} version {version}: this pystreams supports version "
                              f"{VERSION}; run one pystreams version per application.id (or upgrade)")


def _write_task_map(w: Writer, values: Mapping[TaskId, int]) -> None:
    by_sub: dict[int, list[tuple[int, int]]] = {}
    for task, value in sorted(values.items()):
        by_sub.setdefault(task.subtopology, []).append((task.partition, value))
    w.i32(len(by_sub))
    for sub, entries in by_sub.items():
        w.i32(sub)
        w.i32(len(entries))
        for partition, value in entries:
            w.i32(partition)
            w.i64(value)


def _read_task_map(r: Reader) -> dict[TaskId, int]:
    out: dict[TaskId, int] = {}
    for _ in range(r.count()):
        sub = r.i32()
        for _ in range(r.count()):
            partition = r.i32()
            out[TaskId(sub, partition)] = r.i64()
    return out


@dataclass(frozen=True)
class SubscriptionInfo:
    """What a member tells the leader: its client (process), endpoint, local state and error code."""

    process_id: str
    user_endpoint: str | None
    task_offset_sums: dict[TaskId, int] = field(default_factory=dict)
    prev_standby: frozenset[TaskId] = frozenset()
    error_code: int = NONE

    def encode(self) -> bytes:
        w = Writer()
        _header(w)
        w.string(self.process_id)
        w.string(self.user_endpoint)
        _write_task_map(w, self.task_offset_sums)
        _write_task_map(w, {t: 0 for t in self.prev_standby})
        w.i32(self.error_code)
        return bytes(w.buf)

    @staticmethod
    def decode(data: bytes) -> SubscriptionInfo:
        r = Reader(data, "Streams subscription user data")
        _check_header(r)
        process_id = r.string()
        if not process_id:
            raise r.fail("empty process id")
        endpoint = r.string()
        sums = _read_task_map(r)
        standby = frozenset(_read_task_map(r))
        error = r.i32()
        r.end()
        return SubscriptionInfo(process_id, endpoint, sums, standby, error)


class _Topics:
    """A topic dictionary: each topic name written once, partitions refer to it by index."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def add(self, tps: list[TopicPartition]) -> None:
        for topic, _ in tps:
            self.index.setdefault(topic, len(self.index))

    def write(self, w: Writer) -> None:
        w.i32(len(self.index))
        for topic in self.index:
            w.string(topic)

    def write_tps(self, w: Writer, tps: list[TopicPartition]) -> None:
        w.i32(len(tps))
        for topic, partition in tps:
            w.i32(self.index[topic])
            w.i32(partition)


def _read_tps(r: Reader, topics: list[str]) -> list[TopicPartition]:
    out = []
    for _ in range(r.count()):
        i = r.i32()
        if not 0 <= i < len(topics):
            raise r.fail(f"topic index {i} outside the dictionary of {len(topics)}")
        out.append((topics[i], r.i32()))
    return out


@dataclass(frozen=True)
class AssignmentInfo:
    """What the leader tells a member: its tasks, where every host's partitions are (IQ), error and follow-up."""

    active_tasks: dict[TaskId, list[TopicPartition]] = field(default_factory=dict)
    standby_tasks: dict[TaskId, list[TopicPartition]] = field(default_factory=dict)
    partitions_by_host: dict[str, list[TopicPartition]] = field(default_factory=dict)
    standby_partitions_by_host: dict[str, list[TopicPartition]] = field(default_factory=dict)
    error_code: int = NONE
    followup_rebalance_ms: int = -1
    #: with a non-zero error_code: what went wrong on the leader (written after the host maps, only then)
    error_message: str = ""

    def encode(self) -> bytes:
        topics = _Topics()
        task_maps = (self.active_tasks, self.standby_tasks)
        host_maps = (self.partitions_by_host, self.standby_partitions_by_host)
        for tasks in task_maps:
            for tps in tasks.values():
                topics.add(tps)
        for hosts in host_maps:
            for tps in hosts.values():
                topics.add(tps)
        w = Writer()
        _header(w)
        w.i32(self.error_code)
        w.i64(self.followup_rebalance_ms)
        topics.write(w)
        for tasks in task_maps:
            w.i32(len(tasks))
            for task in sorted(tasks):
                w.i32(task.subtopology)
                w.i32(task.partition)
                topics.write_tps(w, tasks[task])
        for hosts in host_maps:
            w.i32(len(hosts))
            for host in sorted(hosts):
                w.string(host)
                topics.write_tps(w, hosts[host])
        if self.error_code != NONE and self.error_message:
            w.string(self.error_message[:MAX_ERROR_MESSAGE])
        return bytes(w.buf)

    @staticmethod
    def decode(data: bytes) -> AssignmentInfo:
        r = Reader(data, "Streams assignment user data")
        _check_header(r)
        error = r.i32()
        followup = r.i64()
        topics = []
        for _ in range(r.count()):
            topic = r.string()
            if topic is None:
                raise r.fail("null topic name")
            topics.append(topic)
        task_maps: list[dict[TaskId, list[TopicPartition]]] = []
        for _ in range(2):
            tasks = {}
            for _ in range(r.count()):
                task = TaskId(r.i32(), r.i32())
                tasks[task] = _read_tps(r, topics)
            task_maps.append(tasks)
        host_maps: list[dict[str, list[TopicPartition]]] = []
        for _ in range(2):
            hosts = {}
            for _ in range(r.count()):
                host = r.string()
                if host is None:
                    raise r.fail("null host")
                hosts[host] = _read_tps(r, topics)
            host_maps.append(hosts)
        message = (r.string() or "") if error != NONE and r.pos < len(r.data) else ""
        r.end()
        return AssignmentInfo(task_maps[0], task_maps[1], host_maps[0], host_maps[1], error, followup, message)


@dataclass(frozen=True)
class MemberSubscription:
    """One group member's subscription as the leader sees it (topics, user data, partitions it owns now)."""

    topics: list[str]
    info: SubscriptionInfo
    owned_partitions: list[TopicPartition] = field(default_factory=list)


@dataclass(frozen=True)
class MemberAssignment:
    """What one member gets: its active input partitions and the AssignmentInfo user data."""

    partitions: list[TopicPartition]
    info: AssignmentInfo
