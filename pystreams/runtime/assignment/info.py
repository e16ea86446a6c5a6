"""The Streams assignor's user data as pystreams uses it: SubscriptionInfo (member -> leader) and AssignmentInfo
(leader -> member), plus the member-level views the membership client uses. On the wire they are Kafka's own
SubscriptionInfoData and AssignmentInfo (kafka_info.py), so Java Kafka Streams and pystreams members of one
application.id share a group, whichever of them leads.

What pystreams knows beyond Kafka's fields travels in an extension after them, which Kafka's decoders never read
(they read the fields of the version and stop): the magic b"pyst", an int16 extension version (1), then
- in a subscription: the process id when it is not a UUID (a nullable string; on the wire it becomes its
  name-based UUID), and the standbys this member (stream thread) keeps: Kafka derives standbys from the offset
  sums (every task with local state), the exact set keeps a standby on the thread holding its state dir lock;
- in an assignment: the leader's error text with an error code (Kafka's members only get the code), the
  active partitions in the order of the active task list, so the bytes alone say which partitions a task has,
  and the follow-up rebalance delay as the leader meant it (int64 ms, -1 for none): Kafka's nextRebalanceMs is
  a wall-clock time, which a member on a host with a skewed clock would misread.
A Java member or leader sends no extension: standbys are derived as Kafka does, the error text is the generic
one, and the member zips the group assignment's partitions with the active task list as Kafka does.
"""
from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from pystreams.processor.task_id import TaskId
from pystreams.runtime.assignment.codec import AssignmentError, Reader, Writer
from pystreams.runtime.assignment.kafka_info import (
    LATEST_OFFSET,
    LATEST_SUPPORTED_VERSION,
    NO_FOLLOWUP,
    HostInfo,
    KafkaAssignment,
    KafkaSubscription,
    TopicPartition,
    decode_assignment,
    decode_subscription,
    encode_assignment,
    encode_subscription,
)

__all__ = ["ASSIGNMENT_ERROR", "INCOMPLETE_SOURCE_TOPIC_METADATA", "LATEST_OFFSET", "LATEST_SUPPORTED_VERSION",
           "SHUTDOWN_REQUESTED", "AssignmentInfo", "MemberAssignment", "MemberSubscription", "SubscriptionInfo",
           "TopicPartition"]

MAGIC = b"pyst"
EXTENSION_VERSION = 1
NONE = 0
#: Kafka's AssignorError codes: a source topic is missing (every member raises MissingSourceTopicException) ...
INCOMPLETE_SOURCE_TOPIC_METADATA = 1
ASSIGNMENT_ERROR = 3  # ... the leader could not assign (here: an internal topic with the wrong partition count)
SHUTDOWN_REQUESTED = 4  # ... an instance's uncaught-exception handler asked the whole application to stop
ERROR_NAMES = {NONE: "NONE", INCOMPLETE_SOURCE_TOPIC_METADATA: "INCOMPLETE_SOURCE_TOPIC_METADATA",
               ASSIGNMENT_ERROR: "ASSIGNMENT_ERROR", SHUTDOWN_REQUESTED: "SHUTDOWN_REQUESTED"}
#: the leader's error text travels with an error code; cut to fit the int16-length string
MAX_ERROR_MESSAGE = 4000
#: the client a future-version member (version probing) is counted in, as Kafka's FUTURE_ID
FUTURE_PROCESS_ID = "future-version-members"
_UUID_NAMESPACE = uuid.UUID("6ba7b812-9dad-11d1-80b4-00c04fd430c8")  # uuid.NAMESPACE_OID
_unique = itertools.count()


def _next_unique() -> int:
    """Kafka's uniqueField: a byte that changes at every subscription, so a static member's rejoin with otherwise
    equal metadata still differs and the coordinator rebalances."""
    return next(_unique) % 256 - 128


def process_uuid(process_id: str) -> uuid.UUID:
    """The UUID a process id travels as: itself when it is one, else a stable name-based UUID of it."""
    try:
        return uuid.UUID(process_id)
    except ValueError:
        return uuid.uuid5(_UUID_NAMESPACE, f"pystreams-process:{process_id}")


class LegacyUserDataError(AssignmentError):
    """User data in pystreams' own format from before the assignor spoke Kafka's (ADR 0004's amendment): an older
    pystreams instance in the group. The two formats cannot read each other, so a rolling upgrade across that change
    is not possible."""


def _refuse_legacy(data: bytes, what: str) -> None:
    """The old format began int32 1, int32 1, b"pyst"; Kafka's messages begin int32 version, int32 latest version,
    then (v1+) a 16-byte process id, which never reads as that header from a current pystreams member."""
    if len(data) >= 12 and bytes(data[8:12]) == MAGIC and bytes(data[:8]) == b"\x00\x00\x00\x01" * 2:
        raise LegacyUserDataError(
            f"{what} comes from an older pystreams (its own user-data format, before pystreams spoke Kafka's "
            "SubscriptionInfo/AssignmentInfo): the two cannot share a group, so a rolling upgrade across this "
            "change is not possible; stop every instance of the application, then start them on the new version")


def _extension(r: Reader) -> bool:
    """Position r after pystreams' extension header; False when the bytes are not one (a Java sender)."""
    if bytes(r.data[r.pos:r.pos + 4]) != MAGIC:
        return False
    r.raw(4)
    if r.i16() < 1:
        raise r.fail("bad pystreams extension version")
    return True  # a newer extension version keeps version 1's fields first: read those, ignore the rest


def _write_tasks(w: Writer, tasks: Iterable[TaskId]) -> None:
    ordered = sorted(tasks)
    w.i32(len(ordered))
    for t in ordered:
        w.i32(t.subtopology)
        w.i32(t.partition)


@dataclass(frozen=True)
class SubscriptionInfo:
    """What a member tells the leader: its client (process), endpoint, local state, error code and versions."""

    process_id: str
    user_endpoint: str | None
    task_offset_sums: dict[TaskId, int] = field(default_factory=dict)
    prev_standby: frozenset[TaskId] = frozenset()
    error_code: int = NONE
    client_tags: dict[str, str] = field(default_factory=dict)
    version: int = LATEST_SUPPORTED_VERSION
    latest_supported_version: int = LATEST_SUPPORTED_VERSION
    unique_field: int = field(default_factory=_next_unique, compare=False)

    def encode(self) -> bytes:
        pid = process_uuid(self.process_id)
        ext = Writer()
        ext.raw(MAGIC)
        ext.i16(EXTENSION_VERSION)
        ext.string(None if str(pid) == self.process_id else self.process_id)
        _write_tasks(ext, self.prev_standby)
        return encode_subscription(KafkaSubscription(
            self.version, self.latest_supported_version, pid, self.user_endpoint, self.task_offset_sums,
            self.unique_field, self.error_code, self.client_tags, bytes(ext.buf)))

    @staticmethod
    def decode(data: bytes) -> SubscriptionInfo:
        """From a pystreams or a Java Kafka Streams member (any SubscriptionInfoData version 1-11)."""
        _refuse_legacy(data, "a group member's subscription")
        k = decode_subscription(data)
        if k.process_id is None:  # a future version: only its versions are known (Kafka's version probing)
            return SubscriptionInfo(FUTURE_PROCESS_ID, None, version=k.version,
                                    latest_supported_version=k.latest_supported_version)
        process_id = str(k.process_id)
        standby = frozenset(t for t, s in k.task_offset_sums.items() if s != LATEST_OFFSET)  # Kafka's view
        r = Reader(k.extension, "the pystreams extension of a Streams subscription")
        if _extension(r):
            process_id = r.string() or process_id
            standby = frozenset(TaskId(r.i32(), r.i32()) for _ in range(r.count()))
        return SubscriptionInfo(process_id, k.user_endpoint, k.task_offset_sums, standby, k.error_code,
                                k.client_tags, k.version, k.latest_supported_version, k.unique_field)


def host_info(endpoint: str) -> HostInfo:
    """application.server "host:port" as Kafka's HostInfo ("[::1]:8080" for IPv6)."""
    host, sep, port = endpoint.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise AssignmentError(f"application.server {endpoint!r} is not host:port (Kafka's HostInfo)")
    return host, int(port)


def endpoint_of(host: HostInfo) -> str:
    return f"[{host[0]}]:{host[1]}" if ":" in host[0] else f"{host[0]}:{host[1]}"


def _now_ms(now_ms: int | None) -> int:
    return int(time.time() * 1000) if now_ms is None else now_ms


@dataclass(frozen=True)
class AssignmentInfo:
    """What the leader tells a member: its tasks, where every host's partitions are (IQ), error and follow-up."""

    active_tasks: dict[TaskId, list[TopicPartition]] = field(default_factory=dict)
    standby_tasks: dict[TaskId, list[TopicPartition]] = field(default_factory=dict)
    partitions_by_host: dict[str, list[TopicPartition]] = field(default_factory=dict)
    standby_partitions_by_host: dict[str, list[TopicPartition]] = field(default_factory=dict)
    error_code: int = NONE
    #: ms until the member rejoins (a probing rebalance; 0: at once), -1 for none. On the wire Kafka's
    #: nextRebalanceMs, a wall-clock time (Long.MAX_VALUE for none)
    followup_rebalance_ms: int = -1
    #: with a non-zero error_code: what went wrong on the leader (pystreams' extension, pystreams leaders only)
    error_message: str = ""
    version: int = LATEST_SUPPORTED_VERSION
    commonly_supported_version: int = LATEST_SUPPORTED_VERSION

    def encode(self, now_ms: int | None = None) -> bytes:
        order: list[tuple[TopicPartition, TaskId]] = []
        for task, tps in self.active_tasks.items():
            if not tps:
                raise AssignmentError(f"active task {task} has no partitions: Kafka's AssignmentInfo cannot carry it")
            order.extend(((tp[0], tp[1]), task) for tp in tps)
        order.sort()
        if len({tp for tp, _ in order}) != len(order):
            raise AssignmentError("a partition is in two active tasks of one assignment")
        if self.followup_rebalance_ms < 0:
            next_rebalance = NO_FOLLOWUP
        else:
            next_rebalance = 0 if self.followup_rebalance_ms == 0 else _now_ms(now_ms) + self.followup_rebalance_ms
        ext = Writer()
        ext.raw(MAGIC)
        ext.i16(EXTENSION_VERSION)
        ext.string(self.error_message[:MAX_ERROR_MESSAGE] if self.error_code != NONE and self.error_message
                   else None)
        topics: dict[str, int] = {}
        for (topic, _), _ in order:
            topics.setdefault(topic, len(topics))
        ext.i32(len(topics))
        for topic in topics:
            ext.string(topic)
        ext.i32(len(order))
        for (topic, partition), _ in order:
            ext.i32(topics[topic])
            ext.i32(partition)
        ext.i64(self.followup_rebalance_ms)  # the leader's delay itself: no clock skew between hosts
        return encode_assignment(KafkaAssignment(
            self.version, self.commonly_supported_version, [task for _, task in order],
            {t: list(tps) for t, tps in self.standby_tasks.items()},
            {host_info(e): tps for e, tps in self.partitions_by_host.items()},
            {host_info(e): tps for e, tps in self.standby_partitions_by_host.items()},
            self.error_code, next_rebalance, bytes(ext.buf)))

    @staticmethod
    def decode(data: bytes, partitions: Iterable[TopicPartition] | None = None,
               now_ms: int | None = None) -> AssignmentInfo:
        """From a pystreams or a Java leader (AssignmentInfo version 1-11). `partitions`: the group assignment's
        partitions, zipped in (topic, partition) order with the active task list as Kafka's onAssignment does;
        without them (pystreams leaders only) the extension's copy is used."""
        _refuse_legacy(data, "the group leader's assignment")
        k = decode_assignment(data)
        r = Reader(k.extension, "the pystreams extension of a Streams assignment")
        message, ext_partitions, ext_followup = "", None, None
        if _extension(r):
            message = r.string() or ""
            topics = [r.string() or "" for _ in range(r.count())]
            ext_partitions = []
            for _ in range(r.count()):
                i = r.i32()
                if not 0 <= i < len(topics):
                    raise r.fail(f"topic index {i} outside the dictionary of {len(topics)}")
                ext_partitions.append((topics[i], r.i32()))
            if len(r.data) - r.pos >= 8:  # since session 8; an older pystreams leader ends before it
                ext_followup = r.i64()
        if partitions is not None:
            ordered = sorted((tp[0], tp[1]) for tp in partitions)
        elif ext_partitions is not None:
            ordered = ext_partitions
        elif k.active_tasks:
            raise AssignmentError("a Kafka Streams leader's assignment needs the group assignment's partitions to "
                                  "decode (AssignmentInfo.decode(data, partitions))")
        else:
            ordered = []
        active: dict[TaskId, list[TopicPartition]] = {}
        if k.error_code == NONE:
            if len(ordered) != len(k.active_tasks):
                raise AssignmentError(f"Number of assigned partitions {len(ordered)} is not equal to the number of "
                                      f"active taskIds {len(k.active_tasks)}")
            for tp, task in zip(ordered, k.active_tasks):
                active.setdefault(task, []).append(tp)
        if ext_followup is not None:
            followup = ext_followup
        elif k.next_rebalance_ms == NO_FOLLOWUP:
            followup = -1
        else:
            followup = 0 if k.next_rebalance_ms == 0 else max(0, k.next_rebalance_ms - _now_ms(now_ms))
        return AssignmentInfo(active, k.standby_tasks,
                              {endpoint_of(h): tps for h, tps in k.partitions_by_host.items()},
                              {endpoint_of(h): tps for h, tps in k.standby_partitions_by_host.items()},
                              k.error_code, followup, message if k.error_code != NONE else "", k.version,
                              k.commonly_supported_version)


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
