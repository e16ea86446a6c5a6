"""GroupClient: the classic consumer-group APIs (FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
OffsetCommit, OffsetFetch) plus the Metadata and ListOffsets a Streams leader needs, over BrokerConnection.

Why our own: librdkafka runs its own assignors only, and Kafka Streams' assignor (co-partitioned tasks, standbys,
state-aware placement) needs the leader to see every member's subscription user data. Coordinator errors and lost
connections are retried a bounded number of times (re-finding the coordinator); everything else is raised as the
GroupError subclass that says what the member must do. Not thread-safe across threads; the heartbeat thread uses a
client of its own."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from pystreams.broker.protocol import ApiKey, ErrorCode
from pystreams.errors import BrokerUnreachableError
from pystreams.runtime.group.connection import BrokerConnection
from pystreams.runtime.group.errors import (COORDINATOR_CODES, BrokerConnectionError, CoordinatorMovedError, GroupError,
                                            raise_for)
from pystreams.runtime.group.security import ClientSecurity

log = logging.getLogger("pystreams.runtime.group")

TopicPartition = tuple[str, int]
LATEST_TIMESTAMP = -1


class UnsureTopics(frozenset[str]):
    """The names of the topics a Metadata answer gave an error other than UNKNOWN_TOPIC_OR_PARTITION, with each
    one's error code (`codes`): the internal-topic check (topics.make_ready) fails at once on a non-retriable one
    (TOPIC_AUTHORIZATION_FAILED) as Kafka's InternalTopicManager does, instead of waiting for it."""

    codes: Mapping[str, int]

    def __new__(cls, codes: Mapping[str, int] | None = None) -> UnsureTopics:
        self = super().__new__(cls, codes or ())
        self.codes = dict(codes or {})
        return self


@dataclass(frozen=True)
class JoinedMember:
    """One member of a JoinGroup answer (the leader gets all of them)."""

    member_id: str
    group_instance_id: str | None
    metadata: bytes


@dataclass(frozen=True)
class JoinResult:
    """What JoinGroup answered: this member's id and generation, the leader, and (for the leader) all members."""

    generation_id: int
    member_id: str
    leader: str
    protocol_name: str | None
    members: list[JoinedMember]

    @property
    def is_leader(self) -> bool:
        return self.leader == self.member_id


class MemberIdRequired(GroupError):
    """JoinGroup v4+: the coordinator gave us a member id; join again with it (KIP-394)."""

    def __init__(self, member_id: str) -> None:
        super().__init__("JoinGroup", ErrorCode.MEMBER_ID_REQUIRED)
        self.member_id = member_id


def parse_servers(text: str) -> list[tuple[str, int]]:
    """bootstrap.servers "host:port,host:port" -> [(host, port)] (an optional "PLAINTEXT://" prefix is dropped)."""
    out = []
    for item in text.split(","):
        item = item.strip().rpartition("://")[2]
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit():
            raise BrokerUnreachableError(f"bootstrap.servers entry {item!r} is not host:port")
        out.append((host.strip("[]"), int(port)))
    if not out:
        raise BrokerUnreachableError("bootstrap.servers is empty")
    return out


class GroupClient:
    """The group APIs for one group id; `retries` bounds every coordinator retry loop."""

    def __init__(self, bootstrap_servers: str, group_id: str, client_id: str, request_timeout_s: float = 30.0,
                 retries: int = 10, retry_backoff_s: float = 0.1, security: ClientSecurity | None = None) -> None:
        self.bootstrap = parse_servers(bootstrap_servers)
        self.security = security  # security.protocol, SASL credentials, TLS: every connection of this client
        self.group_id = group_id
        self.client_id = client_id
        self.request_timeout_s = request_timeout_s
        self.retries = retries
        self.retry_backoff_s = retry_backoff_s
        self._conns: dict[tuple[str, int], BrokerConnection] = {}
        self._nodes: dict[int, tuple[str, int]] = {}
        self._leaders: dict[TopicPartition, int] = {}
        #: topics the last Metadata answered with an error other than UNKNOWN_TOPIC_OR_PARTITION (e.g.
        #: LEADER_NOT_AVAILABLE while a broker restarts): they exist, their count is not known right now
        self.unsure_topics: frozenset[str] = UnsureTopics()
        self._coordinator: tuple[str, int] | None = None
        self._woken = False  # wakeup() was called: the blocked (or next) request fails instead of being retried

    # ------------------------------------------------------------------ connections
    def close(self) -> None:
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()
        self._coordinator = None

    def wakeup(self) -> None:
        """Kafka's KafkaConsumer.wakeup(), from another thread: the JoinGroup/SyncGroup blocked now (waiting up to
        the rebalance timeout) or the next one fails with BrokerConnectionError, not retried, once. Any other
        request in flight on these sockets fails too and is retried as a lost connection."""
        self._woken = True
        for conn in list(self._conns.values()):
            conn.abort()

    def _check_wakeup(self) -> None:
        if self._woken:
            self._woken = False
            raise BrokerConnectionError("woken up (the member is closing)")

    def forget_coordinator(self) -> None:
        """The next group request finds the coordinator again (Kafka's markCoordinatorUnknown)."""
        self._coordinator = None

    def _conn(self, address: tuple[str, int]) -> BrokerConnection:
        conn = self._conns.get(address)
        if conn is None or conn.closed:
            if conn is not None:
                conn.close()  # an aborted one (wakeup() of an idle member) still holds its shut-down socket
            secured = {"security": self.security} if self.security is not None else {}  # plain: the old signature
            conn = self._conns[address] = BrokerConnection(address[0], address[1], self.client_id,
                                                           self.request_timeout_s, **secured)
        return conn

    def _any(self, api_key: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """A request to any reachable broker (known nodes first, then the bootstrap list)."""
        errors = []
        for address in [*self._conns, *self._nodes.values(), *self.bootstrap]:
            try:
                return self._conn(address).request(api_key, body)
            except BrokerConnectionError as e:
                errors.append(str(e))
        raise BrokerUnreachableError(f"no broker answered {ApiKey(api_key).name}: {'; '.join(errors[-3:])}")

    def _retrying(self, what: str, call: Any, wakeable: bool = False) -> Any:
        """call() with the coordinator re-found after coordinator errors, lost connections and a FindCoordinator
        that reached no broker, at most `retries` times; the last error is raised. wakeable (JoinGroup,
        SyncGroup): a wakeup() ends it at once."""
        for attempt in range(self.retries + 1):
            if wakeable:
                self._check_wakeup()
            try:
                return call()
            except (CoordinatorMovedError, BrokerConnectionError, BrokerUnreachableError) as e:
                self._coordinator = None  # BrokerUnreachableError: FindCoordinator reached no broker this time
                if wakeable:
                    self._check_wakeup()
                if attempt == self.retries:
                    raise
                log.debug("%s: %s; finding the coordinator again (attempt %d)", what, e, attempt + 1)
                time.sleep(self.retry_backoff_s * min(2 ** attempt, 10))
        raise AssertionError("unreachable")

    def coordinator(self) -> BrokerConnection:
        """The group coordinator's connection (FindCoordinator when unknown; coordinator errors are raised)."""
        if self._coordinator is None:
            version, answer = self._any(ApiKey.FIND_COORDINATOR, {"key": self.group_id, "key_type": 0,
                                                                  "coordinator_keys": [self.group_id]})
            entry = answer["coordinators"][0] if version >= 4 else answer
            raise_for("FindCoordinator", entry["error_code"], entry.get("error_message") or "")
            self._coordinator = (entry["host"], entry["port"])
        return self._conn(self._coordinator)

    def _group_request(self, api_key: int, body: dict[str, Any], timeout_s: float | None = None
                       ) -> tuple[int, dict[str, Any]]:
        conn = self.coordinator()
        try:
            version, answer = conn.request(api_key, body, timeout_s)
        except BrokerConnectionError:
            self._coordinator = None
            raise
        code = answer.get("error_code", 0)
        if code in COORDINATOR_CODES:  # the coordinator moved or is loading: find it again (retried by callers)
            self._coordinator = None
            raise CoordinatorMovedError(ApiKey(api_key).name, code)
        return version, answer

    # ------------------------------------------------------------------ metadata and offsets
    def partition_counts(self, topics: Iterable[str]) -> dict[str, int]:
        """topic -> number of partitions (topics that do not exist are left out); remembers the brokers."""
        names = sorted(set(topics))
        if not names:
            return {}
        _, answer = self._any(ApiKey.METADATA, {"topics": [{"name": t, "topic_id": None} for t in names],
                                                "allow_auto_topic_creation": False})
        self._nodes = {b["node_id"]: (b["host"], b["port"]) for b in answer["brokers"]}
        self._leaders = {(t["name"], p["partition_index"]): p["leader_id"]
                         for t in answer["topics"] if t["error_code"] == 0 for p in t["partitions"]}
        self._note_unsure(answer)
        return {t["name"]: len(t["partitions"]) for t in answer["topics"] if t["error_code"] == 0}

    def _note_unsure(self, answer: dict[str, Any]) -> None:
        self.unsure_topics = UnsureTopics({t["name"]: t["error_code"] for t in answer["topics"] if t["name"] and t[
            "error_code"] not in (0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)})

    def topic_names(self) -> list[str]:
        """Every topic in the cluster (Metadata for all topics), to resolve pattern subscriptions."""
        return sorted(self.all_partition_counts())

    def all_partition_counts(self) -> dict[str, int]:
        """topic -> number of partitions of every topic in the cluster (one Metadata request for all topics): a
        pattern subscription's refresh resolves the pattern and compares partition counts with one read."""
        _, answer = self._any(ApiKey.METADATA, {"topics": None, "allow_auto_topic_creation": False})
        self._note_unsure(answer)
        return {t["name"]: len(t["partitions"]) for t in answer["topics"] if t["error_code"] == 0 and t["name"]}

    def end_offsets(self, partitions: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        """Latest offset of each partition (ListOffsets at each leader); partitions that fail are left out."""
        wanted = sorted(set(partitions))
        if not wanted:
            return {}
        self.partition_counts({t for t, _ in wanted})
        by_leader: dict[int, list[TopicPartition]] = {}
        for tp in wanted:
            leader = self._leaders.get(tp)
            if leader is not None and leader in self._nodes:
                by_leader.setdefault(leader, []).append(tp)
        out: dict[TopicPartition, int] = {}
        for leader, tps in by_leader.items():
            topics: dict[str, list[dict[str, Any]]] = {}
            for t, p in tps:
                topics.setdefault(t, []).append({"partition_index": p, "timestamp": LATEST_TIMESTAMP})
            body = {"replica_id": -1, "isolation_level": 0, "timeout_ms": int(self.request_timeout_s * 1000),
                    "topics": [{"name": t, "partitions": ps} for t, ps in topics.items()]}
            try:
                _, answer = self._conn(self._nodes[leader]).request(ApiKey.LIST_OFFSETS, body)
            except BrokerConnectionError as e:
                log.warning("ListOffsets to node %d failed: %s", leader, e)
                continue
            for topic in answer["topics"]:
                for p in topic["partitions"]:
                    if p["error_code"] == 0:
                        out[(topic["name"], p["partition_index"])] = p["offset"]
        return out

    def fetch_offsets(self, partitions: Iterable[TopicPartition], require_stable: bool = True,
                      stable_timeout_s: float = 120.0) -> dict[TopicPartition, int]:
        """Committed offset of each partition (-1: none); see fetch_offsets_and_metadata."""
        both = self.fetch_offsets_and_metadata(partitions, require_stable, stable_timeout_s)
        return {tp: offset for tp, (offset, _) in both.items()}

    def fetch_offsets_and_metadata(self, partitions: Iterable[TopicPartition], require_stable: bool = True,
                                   stable_timeout_s: float = 120.0) -> dict[TopicPartition, tuple[int, str]]:
        """Committed (offset, metadata) of each partition (-1, "": none). require_stable waits (up to stable_timeout_s) while a
        transaction with offsets for these partitions is open (UNSTABLE_OFFSET_COMMIT), as Kafka's consumer does
        under read_committed: a zombie's pending commit either lands or is aborted before we read."""
        partitions = sorted(set(partitions))
        topics: dict[str, list[int]] = {}
        for t, p in partitions:
            topics.setdefault(t, []).append(p)
        if not topics:
            return {}
        request_topics = [{"name": t, "partition_indexes": ps} for t, ps in topics.items()]
        body = {"group_id": self.group_id, "topics": request_topics, "require_stable": require_stable,
                "groups": [{"group_id": self.group_id, "topics": request_topics}]}
        started = time.monotonic()
        deadline = started + stable_timeout_s
        moves = waited = 0
        while True:
            version, answer = self._retrying("OffsetFetch", lambda: self._group_request(ApiKey.OFFSET_FETCH, body))
            if version >= 8:
                group = answer["groups"][0]
                top_error, answer_topics = group["error_code"], group["topics"]
            else:
                top_error, answer_topics = answer["error_code"], answer["topics"]
            codes = [top_error] + [p["error_code"] for t in answer_topics for p in t["partitions"]]
            unstable = ErrorCode.UNSTABLE_OFFSET_COMMIT in codes
            moved = any(c in (ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
                              ErrorCode.COORDINATOR_NOT_AVAILABLE) for c in codes)
            if moved and moves < self.retries:
                moves += 1
                self._coordinator = None
                time.sleep(self.retry_backoff_s)
                continue
            if unstable and time.monotonic() < deadline:
                if not waited:
                    log.info("OffsetFetch %s: UNSTABLE_OFFSET_COMMIT (a transaction with offsets for them is open); "
                             "waiting up to %.0f s", sorted(partitions), stable_timeout_s)
                waited += 1
                time.sleep(max(self.retry_backoff_s, 0.05))
                continue
            if waited:
                log.info("OffsetFetch: stable after %.1f s (%d retries)", time.monotonic() - started, waited)
            for code in codes:
                raise_for("OffsetFetch", code)
            return {(t["name"], p["partition_index"]): (p["committed_offset"], p.get("metadata") or "")
                    for t in answer_topics for p in t["partitions"]}

    # ------------------------------------------------------------------ membership
    def join_group(self, member_id: str, group_instance_id: str | None, session_timeout_ms: int,
                   rebalance_timeout_ms: int, protocols: list[tuple[str, bytes]], reason: str | None = None
                   ) -> JoinResult:
        """JoinGroup (protocol type "consumer"); blocks up to the rebalance timeout on the coordinator.
        MemberIdRequired and the GroupError subclasses are raised for the member to act on."""
        body = {"group_id": self.group_id, "session_timeout_ms": session_timeout_ms,
                "rebalance_timeout_ms": rebalance_timeout_ms, "member_id": member_id,
                "group_instance_id": group_instance_id, "protocol_type": "consumer",
                "protocols": [{"name": n, "metadata": m} for n, m in protocols], "reason": reason}
        timeout = rebalance_timeout_ms / 1000.0 + self.request_timeout_s
        _, answer = self._retrying("JoinGroup", lambda: self._group_request(ApiKey.JOIN_GROUP, body, timeout),
                                  wakeable=True)
        if answer["error_code"] == ErrorCode.MEMBER_ID_REQUIRED:
            raise MemberIdRequired(answer["member_id"])
        raise_for("JoinGroup", answer["error_code"])
        members = [JoinedMember(m["member_id"], m.get("group_instance_id"), bytes(m["metadata"]))
                   for m in answer["members"]]
        return JoinResult(answer["generation_id"], answer["member_id"], answer["leader"],
                          answer.get("protocol_name"), members)

    def sync_group(self, generation_id: int, member_id: str, group_instance_id: str | None, protocol_name: str,
                   assignments: Mapping[str, bytes], rebalance_timeout_ms: int) -> bytes:
        """SyncGroup: the leader sends every member's assignment; everyone gets its own back."""
        body = {"group_id": self.group_id, "generation_id": generation_id, "member_id": member_id,
                "group_instance_id": group_instance_id, "protocol_type": "consumer",
                "protocol_name": protocol_name,
                "assignments": [{"member_id": m, "assignment": a} for m, a in assignments.items()]}
        timeout = rebalance_timeout_ms / 1000.0 + self.request_timeout_s
        _, answer = self._retrying("SyncGroup", lambda: self._group_request(ApiKey.SYNC_GROUP, body, timeout),
                                  wakeable=True)
        raise_for("SyncGroup", answer["error_code"])
        return bytes(answer["assignment"])

    def heartbeat(self, generation_id: int, member_id: str, group_instance_id: str | None) -> None:
        """One Heartbeat, no retries (the heartbeat thread decides); GroupError subclasses say what happened."""
        body = {"group_id": self.group_id, "generation_id": generation_id, "member_id": member_id,
                "group_instance_id": group_instance_id}
        _, answer = self._group_request(ApiKey.HEARTBEAT, body)
        raise_for("Heartbeat", answer["error_code"])

    def leave_group(self, member_id: str, group_instance_id: str | None, reason: str = "the consumer is closing"
                    ) -> None:
        """LeaveGroup, one attempt (best effort on close: the session timeout removes us otherwise)."""
        body = {"group_id": self.group_id, "member_id": member_id,
                "members": [{"member_id": member_id, "group_instance_id": group_instance_id, "reason": reason}]}
        _, answer = self._group_request(ApiKey.LEAVE_GROUP, body)
        raise_for("LeaveGroup", answer["error_code"])
        for m in answer.get("members") or []:
            raise_for("LeaveGroup", m["error_code"])

    def commit_offsets(self, generation_id: int, member_id: str, group_instance_id: str | None,
                       offsets: Mapping[TopicPartition, int],
                       metadata: Mapping[TopicPartition, str] | None = None) -> None:
        """OffsetCommit as this member of this generation: the coordinator refuses a stale generation
        (ILLEGAL_GENERATION) or an unknown member, so a zombie cannot move the group's offsets. `metadata`: the
        committed metadata string per partition (Kafka Streams puts its partition time there; "" otherwise)."""
        topics: dict[str, list[dict[str, Any]]] = {}
        meta = metadata or {}
        for (t, p), offset in sorted(offsets.items()):
            topics.setdefault(t, []).append({"partition_index": p, "committed_offset": offset,
                                             "committed_metadata": meta.get((t, p), "")})
        if not topics:
            return
        body = {"group_id": self.group_id, "generation_id_or_member_epoch": generation_id, "member_id": member_id,
                "group_instance_id": group_instance_id,
                "topics": [{"name": t, "partitions": ps} for t, ps in topics.items()]}
        _, answer = self._retrying("OffsetCommit", lambda: self._commit_once(body))
        del answer

    def _commit_once(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        version, answer = self._group_request(ApiKey.OFFSET_COMMIT, body)
        for topic in answer["topics"]:
            for p in topic["partitions"]:
                raise_for("OffsetCommit", p["error_code"], f"{topic['name']}-{p['partition_index']}")
        return version, answer
