"""GroupClient over fake connections (no sockets): coordinator errors and lost connections re-find the
coordinator a bounded number of times, MEMBER_ID_REQUIRED hands the id back, fenced codes raise the right
error, OffsetFetch waits out UNSTABLE_OFFSET_COMMIT."""
from __future__ import annotations

from collections import deque
from typing import Any, ClassVar

import pytest
from pystreams.broker.protocol import ApiKey, ErrorCode

from pystreams.runtime.group import client as client_module
from pystreams.runtime.group.client import GroupClient, MemberIdRequired
from pystreams.runtime.group.errors import (
    BrokerConnectionError,
    CoordinatorMovedError,
    MemberFencedError,
)

pytestmark = pytest.mark.unit


class FakeConnection:
    """One fake broker per address; answers come from a per-API queue shared by every connection."""

    answers: ClassVar[dict[int, deque[Any]]] = {}
    requests: ClassVar[list[tuple[tuple[str, int], int, dict[str, Any]]]] = []

    def __init__(self, host: str, port: int, client_id: str, timeout_s: float = 10.0) -> None:
        self.address = (host, port)
        self.closed = False

    def request(self, api_key: int, body: dict[str, Any], timeout_s: float | None = None) -> tuple[int, dict]:
        FakeConnection.requests.append((self.address, api_key, body))
        answer = FakeConnection.answers[api_key].popleft()
        if isinstance(answer, BaseException):
            self.closed = True
            raise answer
        version = 6 if api_key == ApiKey.FIND_COORDINATOR else 9
        return version, answer

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> type[FakeConnection]:
    FakeConnection.answers = {}
    FakeConnection.requests = []
    monkeypatch.setattr(client_module, "BrokerConnection", FakeConnection)
    monkeypatch.setattr(client_module.time, "sleep", lambda s: None)
    return FakeConnection


def script(api: int, *answers: Any) -> None:
    FakeConnection.answers.setdefault(api, deque()).extend(answers)


def coordinator(host: str = "coord", port: int = 1, error: int = 0) -> dict[str, Any]:
    return {"coordinators": [{"key": "app", "node_id": 1, "host": host, "port": port, "error_code": error,
                              "error_message": None}]}


def heartbeat_ok() -> dict[str, Any]:
    return {"error_code": 0}


def test_not_coordinator_finds_the_coordinator_again(fake: type[FakeConnection]) -> None:
    c = GroupClient("boot:9092", "app", "me")
    script(ApiKey.FIND_COORDINATOR, coordinator("old", 1), coordinator("new", 2))
    script(ApiKey.SYNC_GROUP, {"error_code": ErrorCode.NOT_COORDINATOR, "assignment": b""},
           {"error_code": 0, "assignment": b"xyz"})
    assert c.sync_group(1, "m", None, "stream", {}, 1000) == b"xyz"
    targets = [(addr, key) for addr, key, _ in fake.requests]
    assert targets == [(("boot", 9092), ApiKey.FIND_COORDINATOR), (("old", 1), ApiKey.SYNC_GROUP),
                       (("boot", 9092), ApiKey.FIND_COORDINATOR), (("new", 2), ApiKey.SYNC_GROUP)]


def test_a_lost_connection_re_finds_the_coordinator(fake: type[FakeConnection]) -> None:
    c = GroupClient("boot:9092", "app", "me")
    script(ApiKey.FIND_COORDINATOR, coordinator(), coordinator())
    script(ApiKey.OFFSET_COMMIT, BrokerConnectionError("reset"),
           {"topics": [{"name": "t", "partitions": [{"partition_index": 0, "error_code": 0}]}]})
    c.commit_offsets(3, "m", None, {("t", 0): 10})
    commits = [body for _, key, body in fake.requests if key == ApiKey.OFFSET_COMMIT]
    assert len(commits) == 2 and commits[1]["generation_id_or_member_epoch"] == 3 and commits[1]["member_id"] == "m"


def test_coordinator_retries_are_bounded(fake: type[FakeConnection]) -> None:
    c = GroupClient("boot:9092", "app", "me", retries=2)
    script(ApiKey.FIND_COORDINATOR, *[coordinator(error=ErrorCode.COORDINATOR_NOT_AVAILABLE)] * 3)
    with pytest.raises(CoordinatorMovedError):
        c.join_group("", None, 10_000, 10_000, [("stream", b"")])
    assert len(fake.requests) == 3


def test_find_coordinator_reaching_no_broker_is_retried(fake: type[FakeConnection]) -> None:
    c = GroupClient("boot:9092", "app", "me")
    script(ApiKey.FIND_COORDINATOR, BrokerConnectionError("refused"), coordinator())
    script(ApiKey.OFFSET_COMMIT, {"topics": [{"name": "t", "partitions": [{"partition_index": 0, "error_code": 0}]}]})
    c.commit_offsets(3, "m", None, {("t", 0): 10})
    assert [key for _, key, _ in fake.requests] == [ApiKey.FIND_COORDINATOR, ApiKey.FIND_COORDINATOR,
                                                    ApiKey.OFFSET_COMMIT]


def test_member_id_required_hands_the_id_back(fake: type[FakeConnection]) -> None:
    c = GroupClient("boot:9092", "app", "me")
    script(ApiKey.FIND_COORDINATOR, coordinator())
    script(ApiKey.JOIN_GROUP, {"error_code": ErrorCode.MEMBER_ID_REQUIRED, "member_id": "me-123",
                               "generation_id": -1, "leader": "", "members": []})
    with pytest.raises(MemberIdRequired) as required:
        c.join_group("", None, 10_000, 10_000, [("stream", b"")])
    assert required.value.member_id == "me-123"


@pytest.mark.parametrize("code", [ErrorCode.ILLEGAL_GENERATION, ErrorCode.UNKNOWN_MEMBER_ID,
                                  ErrorCode.FENCED_INSTANCE_ID])
def test_fenced_codes_raise_member_fenced(fake: type[FakeConnection], code: ErrorCode) -> None:
    c = GroupClient("boot:9092", "app", "me")
    script(ApiKey.FIND_COORDINATOR, coordinator())
    script(ApiKey.HEARTBEAT, {"error_code": code})
    with pytest.raises(MemberFencedError) as fenced:
        c.heartbeat(1, "m", None)
    assert fenced.value.code == code


def test_offset_fetch_waits_out_an_open_transaction(fake: type[FakeConnection]) -> None:
    c = GroupClient("boot:9092", "app", "me")
    script(ApiKey.FIND_COORDINATOR, coordinator())

    def answer(code: int, offset: int) -> dict[str, Any]:
        return {"groups": [{"group_id": "app", "error_code": 0, "topics": [
            {"name": "t", "partitions": [{"partition_index": 0, "committed_offset": offset, "metadata": "",
                                          "error_code": code}]}]}]}

    script(ApiKey.OFFSET_FETCH, *[answer(ErrorCode.UNSTABLE_OFFSET_COMMIT, -1)] * 3, answer(0, 42))
    assert c.fetch_offsets([("t", 0)]) == {("t", 0): 42}
    fetches = [body for _, key, body in fake.requests if key == ApiKey.OFFSET_FETCH]
    assert len(fetches) == 4 and fetches[0]["require_stable"] is True


def test_wakeup_fails_the_next_join_or_sync_once_and_leaves_other_requests_alone(
        fake: type[FakeConnection], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FakeConnection, "abort", lambda self: fake.requests.append((self.address, -1, {})),
                        raising=False)
    c = GroupClient("boot:9092", "app", "me")
    script(ApiKey.FIND_COORDINATOR, coordinator())
    script(ApiKey.HEARTBEAT, heartbeat_ok(), heartbeat_ok())
    c.heartbeat(1, "m", None)  # a connection to abort
    c.wakeup()
    assert (("coord", 1), -1, {}) in fake.requests  # the open sockets were shut down
    c.heartbeat(1, "m", None)  # not a join: unaffected
    with pytest.raises(BrokerConnectionError, match="woken up"):
        c.sync_group(1, "m", None, "stream", {}, 1000)
    script(ApiKey.SYNC_GROUP, {"error_code": 0, "assignment": b"xyz"})
    assert c.sync_group(1, "m", None, "stream", {}, 1000) == b"xyz"  # once only


def test_committed_metadata_travels_both_ways(fake: type[FakeConnection]) -> None:
    """Kafka Streams keeps its partition time in the committed metadata: OffsetCommit sends it per partition and
    OffsetFetch (the response's `metadata` field) hands it back; partitions without any get ""."""
    c = GroupClient("boot:9092", "app", "me")
    script(ApiKey.FIND_COORDINATOR, coordinator())
    script(ApiKey.OFFSET_COMMIT, {"topics": [{"name": "t", "partitions": [
        {"partition_index": 0, "error_code": 0}, {"partition_index": 1, "error_code": 0}]}]})
    c.commit_offsets(3, "m", None, {("t", 0): 10, ("t", 1): 11}, metadata={("t", 0): "AQAAAAAAAAAB"})
    commit = next(body for _, key, body in fake.requests if key == ApiKey.OFFSET_COMMIT)
    sent = {p["partition_index"]: p["committed_metadata"] for p in commit["topics"][0]["partitions"]}
    assert sent == {0: "AQAAAAAAAAAB", 1: ""}
    script(ApiKey.OFFSET_FETCH, {"groups": [{"group_id": "app", "error_code": 0, "topics": [{"name": "t", "partitions": [
        {"partition_index": 0, "committed_offset": 10, "metadata": "AQAAAAAAAAAB", "error_code": 0},
        {"partition_index": 1, "committed_offset": 11, "metadata": None, "error_code": 0}]}]}]})
    assert c.fetch_offsets_and_metadata([("t", 0), ("t", 1)]) == {("t", 0): (10, "AQAAAAAAAAAB"), ("t", 1): (11, "")}


def test_metadata_tells_a_deleted_topic_from_one_with_a_retriable_error(fake: type[FakeConnection]) -> None:
    """UNKNOWN_TOPIC_OR_PARTITION: gone; LEADER_NOT_AVAILABLE (a broker restarting): it exists, count unknown now."""
    c = GroupClient("boot:9092", "app", "me")

    def topic(name: str, code: int, partitions: int) -> dict[str, Any]:
        return {"name": name, "error_code": code, "partitions": [
            {"partition_index": p, "leader_id": 1, "error_code": 0} for p in range(partitions)]}

    script(ApiKey.METADATA, {"brokers": [{"node_id": 1, "host": "b", "port": 1}], "topics": [
        topic("in", 0, 4), topic("gone", ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 0),
        topic("moving", ErrorCode.LEADER_NOT_AVAILABLE, 0)]})
    assert c.partition_counts(["in", "gone", "moving"]) == {"in": 4}
    assert c.unsure_topics == {"moving"}
