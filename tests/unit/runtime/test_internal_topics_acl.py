"""Kafka's InternalTopicManager without sockets: a describe that fails for good (TOPIC_AUTHORIZATION_FAILED) is
"Could not create topic X." at once, with what to do, not a wait until the timeout (which the group leader retried
at every rejoin, forever); a retriable describe error (LEADER_NOT_AVAILABLE) is still waited for; an authorization
error of the creation says what to do too. The group client hands each unsure topic's error code to makeReady."""
from __future__ import annotations

from typing import Any

import pytest
from confluent_kafka import KafkaError

from pystreams.broker.protocol import ApiKey, ErrorCode
from pystreams.runtime.group.client import GroupClient, UnsureTopics
from pystreams.runtime.topics import (
    InternalTopicError,
    InternalTopicTimeoutError,
    internal_topic_specs,
    make_ready,
)
from tests.unit.runtime.test_internal_topics_make_ready import FakeAdmin, FakeClock, _names, _plan, _word_count

pytestmark = pytest.mark.unit


def test_a_topic_the_principal_may_not_describe_fails_at_once_with_what_to_do() -> None:
    plan = _plan({"in": 2, "out": 1})
    repartition, changelog = _names(plan)
    admin, clock = FakeAdmin({repartition: 2}), FakeClock()

    def describe(topics: Any) -> tuple[dict[str, int], UnsureTopics]:
        return {repartition: 2}, UnsureTopics({changelog: ErrorCode.TOPIC_AUTHORIZATION_FAILED})

    with pytest.raises(InternalTopicError) as info:
        make_ready(plan, internal_topic_specs(_word_count(), plan), admin, describe, timeout_s=60,
                   clock=clock, sleep=clock.sleep)
    assert not isinstance(info.value, InternalTopicTimeoutError)  # not retried by the leader's join
    text = str(info.value)
    assert text.startswith(f"Could not create topic {changelog}. Describing it failed: TOPIC_AUTHORIZATION_FAILED. "
                           "The application's principal is not authorized"), text
    assert "--topic app- --resource-pattern-type prefixed" in text and changelog in text
    assert admin.created == [] and clock.sleeps == []


def test_a_retriable_describe_error_is_still_waited_for() -> None:
    plan = _plan({"in": 2, "out": 1})
    repartition, changelog = _names(plan)
    admin, clock = FakeAdmin({changelog: 2}), FakeClock()
    answers = iter([({changelog: 2}, UnsureTopics({repartition: ErrorCode.LEADER_NOT_AVAILABLE})),
                    ({changelog: 2, repartition: 2}, UnsureTopics())])
    created = make_ready(plan, internal_topic_specs(_word_count(), plan), admin, lambda topics: next(answers),
                         clock=clock, sleep=clock.sleep)
    assert created == set() and admin.created == [] and len(clock.sleeps) == 1


def test_a_creation_the_principal_may_not_make_says_what_to_do() -> None:
    plan = _plan({"in": 2, "out": 1})
    repartition, changelog = _names(plan)
    admin = FakeAdmin({changelog: 2}, errors={repartition: [KafkaError.TOPIC_AUTHORIZATION_FAILED]})
    with pytest.raises(InternalTopicError, match=f"^Could not create topic {repartition}\\. .*The application's "
                                                 "principal is not authorized"):
        make_ready(plan, internal_topic_specs(_word_count(), plan), admin, admin.describe)


def test_the_group_client_keeps_each_unsure_topics_error_code() -> None:
    client = GroupClient("127.0.0.1:1", "app", "c")
    answers = {"brokers": [], "topics": [
        {"name": "ok", "error_code": 0, "partitions": []},
        {"name": "gone", "error_code": ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "partitions": []},
        {"name": "denied", "error_code": ErrorCode.TOPIC_AUTHORIZATION_FAILED, "partitions": []},
        {"name": "moving", "error_code": ErrorCode.LEADER_NOT_AVAILABLE, "partitions": []}]}
    client._any = lambda api_key, body: (0, answers) if api_key == ApiKey.METADATA else None  # type: ignore[method-assign]
    assert client.partition_counts(["ok", "gone", "denied", "moving"]) == {"ok": 0}
    assert client.unsure_topics == {"denied", "moving"}
    assert client.unsure_topics.codes == {"denied": ErrorCode.TOPIC_AUTHORIZATION_FAILED,  # type: ignore[attr-defined]
                                          "moving": ErrorCode.LEADER_NOT_AVAILABLE}
