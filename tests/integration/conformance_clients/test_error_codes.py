"""Error codes for bad requests, asked of Apache Kafka and of our broker over raw sockets with the
same bytes, compared with each other (no code is written down here: the reference decides).

Cases (issue 3): unknown topic, out-of-range offset, invalid partition count, unsupported version.
Each case also requires that the reference really answered with an error (or closed the
connection), so a case that silently stops provoking anything fails instead of comparing 0 == 0.
"""
from __future__ import annotations

import time
import uuid
from typing import Any, Callable

import pytest

from pystreams.broker.protocol.record_batch import build_batch
from tests.integration.conformance_clients.wire import CLOSED, Wire

pytestmark = [pytest.mark.integration, pytest.mark.reference]

METADATA, PRODUCE, FETCH, LIST_OFFSETS = 3, 0, 1, 2
CREATE_TOPICS, DELETE_TOPICS, CREATE_PARTITIONS, API_VERSIONS = 19, 20, 37, 18


def _create(w: Wire, topic: str, partitions: int) -> Any:
    return w.request(CREATE_TOPICS, 7, {"topics": [{"name": topic, "num_partitions": partitions,
                                                    "replication_factor": 1}],
                                        "timeout_ms": 30000})


def _topic_id(w: Wire, topic: str) -> uuid.UUID:
    for _ in range(50):  # Kafka publishes a new topic's metadata asynchronously
        answer = w.request(METADATA, 12, {"topics": [{"name": topic}],
                                          "allow_auto_topic_creation": False})
        t = answer["topics"][0]
        if t["error_code"] == 0 and t["partitions"]:
            return t["topic_id"]
        time.sleep(0.1)
    raise AssertionError(f"topic {topic} never appeared in metadata: {answer}")


def _fetch(topic: str | None, topic_id: uuid.UUID | None, offset: int) -> dict:
    return {"replica_id": -1, "max_wait_ms": 0, "min_bytes": 0, "max_bytes": 1 << 20,
            "isolation_level": 0, "session_id": 0, "session_epoch": -1,
            "topics": [{"topic": topic, "topic_id": topic_id, "partitions": [
                {"partition": 0, "fetch_offset": offset, "partition_max_bytes": 1 << 20}]}],
            "forgotten_topics_data": []}


def _fetch_code(answer: Any) -> Any:
    if answer == CLOSED:
        return CLOSED
    if answer["error_code"]:
        return answer["error_code"]
    return answer["responses"][0]["partitions"][0]["error_code"]


def _produce(topic: str) -> dict:
    batch = build_batch([(b"k", b"v")], timestamp=int(time.time() * 1000))
    return {"transactional_id": None, "acks": -1, "timeout_ms": 30000,
            "topic_data": [{"name": topic, "partition_data": [{"index": 0, "records": batch}]}]}


def ask_everything(servers: str) -> dict[str, Any]:
    """case name -> the error code (or CLOSED) this broker answers."""
    run = uuid.uuid4().hex[:8]
    existing, missing = f"errors-{run}", f"missing-{run}"
    out: dict[str, Any] = {}
    with Wire(servers) as w:
        assert _create(w, existing, 1)["topics"][0]["error_code"] == 0
        tid = _topic_id(w, existing)
        # Apache Kafka answers CreateTopics before the new partition has its leader: retry the
        # retriable NOT_LEADER_OR_FOLLOWER (6) / UNKNOWN_TOPIC_OR_PARTITION (3) for a bounded time
        deadline = time.monotonic() + 15
        while True:
            code = w.request(PRODUCE, 9, _produce(existing))["responses"][0][
                "partition_responses"][0]["error_code"]
            if code not in (3, 6) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert code == 0

        # unknown topic
        meta = w.request(METADATA, 12, {"topics": [{"name": missing}],
                                        "allow_auto_topic_creation": False})
        out["unknown topic: Metadata v12"] = meta["topics"][0]["error_code"]
        out["unknown topic: Produce v9"] = w.request(PRODUCE, 9, _produce(missing))[
            "responses"][0]["partition_responses"][0]["error_code"]
        out["unknown topic: Fetch v12 (by name)"] = _fetch_code(
            w.request(FETCH, 12, _fetch(missing, None, 0)))
        out["unknown topic: Fetch v16 (by id)"] = _fetch_code(
            w.request(FETCH, 16, _fetch(None, uuid.uuid4(), 0)))
        out["unknown topic: ListOffsets v7"] = w.request(LIST_OFFSETS, 7, {
            "replica_id": -1, "isolation_level": 0, "topics": [{"name": missing, "partitions": [
                {"partition_index": 0, "timestamp": -1}]}]})["topics"][0]["partitions"][0][
            "error_code"]
        out["unknown topic: DeleteTopics v6"] = w.request(DELETE_TOPICS, 6, {
            "topics": [{"name": missing, "topic_id": None}], "timeout_ms": 30000})[
            "responses"][0]["error_code"]
        out["unknown partition: Produce v9 partition 5 of 1"] = w.request(PRODUCE, 9, {
            **_produce(existing), "topic_data": [{"name": existing, "partition_data": [
                {"index": 5, "records": _produce(existing)["topic_data"][0][
                    "partition_data"][0]["records"]}]}]})["responses"][0][
            "partition_responses"][0]["error_code"]

        # out-of-range offset (the log holds offset 0 only)
        out["out of range: Fetch v12 offset 1000"] = _fetch_code(
            w.request(FETCH, 12, _fetch(existing, None, 1000)))
        out["out of range: Fetch v16 offset 1000"] = _fetch_code(
            w.request(FETCH, 16, _fetch(None, tid, 1000)))
        out["out of range: Fetch v4 offset -5"] = _fetch_code(
            w.request(FETCH, 4, _fetch(existing, None, -5)))

        # invalid partition count
        for count in (0, -2):
            out[f"invalid partitions: CreateTopics v7 num_partitions={count}"] = \
                _create(w, f"bad-{count}-{run}", count)["topics"][0]["error_code"]
        for count in (1, 0):
            out[f"invalid partitions: CreatePartitions v3 count={count} (has 1)"] = w.request(
                CREATE_PARTITIONS, 3, {"topics": [{"name": existing, "count": count,
                                                   "assignments": None}],
                                       "timeout_ms": 30000, "validate_only": False})[
                "results"][0]["error_code"]

    # unsupported versions, each on a fresh connection (a broker may close it)
    def fresh(ask: Callable[[Wire], Any]) -> Any:
        with Wire(servers) as w2:
            return ask(w2)

    def api_versions_v0_code(frame: bytes | None) -> Any:
        return CLOSED if frame is None else int.from_bytes(frame[4:6], "big", signed=True)

    out["unsupported version: ApiVersions v127"] = fresh(
        lambda w2: api_versions_v0_code(w2.raw_request(API_VERSIONS, 127)))
    out["unsupported version: Metadata v99"] = fresh(
        lambda w2: CLOSED if w2.raw_request(METADATA, 99, b"\x00\x00\x00\x00") is None
        else "answered")
    out["unsupported version: Produce v2 (removed in Kafka 4)"] = fresh(
        lambda w2: CLOSED if w2.raw_request(PRODUCE, 2, b"\x00" * 12) is None else "answered")
    out["unsupported version: unknown api key 999"] = fresh(
        lambda w2: CLOSED if w2.raw_request(999, 0) is None else "answered")
    return out


@pytest.fixture(scope="module")
def answers(reference_kafka, pystreams_broker) -> dict[str, dict[str, Any]]:
    return {"reference": ask_everything(reference_kafka.bootstrap_servers),
            "pystreams": ask_everything(pystreams_broker.bootstrap_servers)}


CASES = [
    "unknown topic: Metadata v12", "unknown topic: Produce v9",
    "unknown topic: Fetch v12 (by name)", "unknown topic: Fetch v16 (by id)",
    "unknown topic: ListOffsets v7", "unknown topic: DeleteTopics v6",
    "unknown partition: Produce v9 partition 5 of 1",
    "out of range: Fetch v12 offset 1000", "out of range: Fetch v16 offset 1000",
    "out of range: Fetch v4 offset -5",
    "invalid partitions: CreateTopics v7 num_partitions=0",
    "invalid partitions: CreateTopics v7 num_partitions=-2",
    "invalid partitions: CreatePartitions v3 count=1 (has 1)",
    "invalid partitions: CreatePartitions v3 count=0 (has 1)",
    "unsupported version: ApiVersions v127", "unsupported version: Metadata v99",
    "unsupported version: Produce v2 (removed in Kafka 4)",
    "unsupported version: unknown api key 999",
]


@pytest.mark.parametrize("case", CASES)
def test_error_code_matches_apache_kafka(answers: dict[str, dict[str, Any]], case: str) -> None:
    reference, ours = answers["reference"][case], answers["pystreams"][case]
    assert reference not in (0, "answered"), f"the reference accepted {case!r}: not an error case"
    assert ours == reference, f"{case}: Apache Kafka answers {reference}, pystreams {ours}"


def test_every_case_is_listed(answers: dict[str, dict[str, Any]]) -> None:
    assert sorted(answers["reference"]) == sorted(CASES)
