"""start(): the cluster's metadata for plan_topology comes from one Metadata request on our own connection
(topics.cluster_metadata), not from a fresh librdkafka AdminClient's first request (~50 ms later, issue 7's
start-up); the admin client stays the fallback. No sockets: the connection class is replaced by a fake."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from confluent_kafka import KafkaError, KafkaException
from pystreams.broker.protocol import ApiKey

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.errors import BrokerUnreachableError, ConfigError
from pystreams.runtime.group import connection
from pystreams.runtime.group.errors import BrokerConnectionError
from pystreams.runtime.group.security import AuthenticationError
from pystreams.runtime.topics import (
    MissingSourceTopicError,
    cluster_metadata,
    plan_topology,
)

pytestmark = pytest.mark.unit

METADATA = {"brokers": [{"node_id": 1, "host": "b1", "port": 9092}], "topics": [
    {"name": "in", "error_code": 0, "partitions": [{"partition_index": i} for i in range(3)]},
    {"name": "out", "error_code": 0, "partitions": [{"partition_index": 0}]},
    {"name": "being-deleted", "error_code": 3, "partitions": []},  # UNKNOWN_TOPIC_OR_PARTITION
]}


class FakeConnection:
    """BrokerConnection's surface: refuses the hosts in `down`, answers Metadata from METADATA, logs everything."""

    down: ClassVar[set[str]] = set()
    log: ClassVar[list[tuple[Any, ...]]] = []
    refuse: ClassVar[BaseException | None] = None  # raised by every connect (e.g. an authentication failure)

    def __init__(self, host: str, port: int, client_id: str, timeout_s: float = 10.0, **kw: Any) -> None:
        FakeConnection.log.append(("connect", host, port, client_id))
        FakeConnection.log.append(("options", timeout_s, kw))
        if FakeConnection.refuse is not None:
            raise FakeConnection.refuse
        if host in FakeConnection.down:
            raise BrokerConnectionError(f"cannot connect to broker {host}:{port}: refused")
        self.host = host

    def request(self, api_key: int, body: dict[str, Any], timeout_s: float | None = None) -> tuple[int, dict]:
        FakeConnection.log.append(("request", self.host, ApiKey(api_key).name, body))
        return 12, METADATA

    def close(self) -> None:
        FakeConnection.log.append(("close", self.host))


class CountingAdmin:
    """AdminClient.list_topics() over a dict, counting the calls."""

    def __init__(self, topics_: dict[str, int]) -> None:
        self.topics, self.calls = topics_, 0

    def list_topics(self, timeout: float = 0) -> Any:
        self.calls += 1
        return SimpleNamespace(topics={n: SimpleNamespace(partitions=dict.fromkeys(range(c)), error=None)
                                       for n, c in self.topics.items()})


@pytest.fixture(autouse=True)
def fake_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    FakeConnection.down, FakeConnection.log, FakeConnection.refuse = set(), [], None
    monkeypatch.setattr(connection, "BrokerConnection", FakeConnection)


def _stateless(source: str = "in") -> Any:
    builder = StreamsBuilder()
    builder.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())) \
        .filter(lambda k, v: True).to("out", Produced(key_serde=Serdes.String(), value_serde=Serdes.String()))
    return builder.build()


def test_one_metadata_request_for_all_topics_and_only_topics_without_error() -> None:
    assert cluster_metadata("PLAINTEXT://b1:9092", "app-admin") == {"in": 3, "out": 1}
    requests = [e for e in FakeConnection.log if e[0] == "request"]
    assert requests == [("request", "b1", "METADATA", {"topics": None, "allow_auto_topic_creation": False})]
    assert FakeConnection.log[0] == ("connect", "b1", 9092, "app-admin")
    assert FakeConnection.log[1] == ("options", 30.0, {})  # plaintext: BrokerConnection's old signature works
    assert FakeConnection.log[-1] == ("close", "b1")  # a connection for this one request only


def test_the_first_bootstrap_server_that_answers_is_asked() -> None:
    FakeConnection.down = {"b1"}
    assert cluster_metadata("b1:9092,b2:9093", "c") == {"in": 3, "out": 1}
    assert [e[1] for e in FakeConnection.log if e[0] == "connect"] == ["b1", "b2"]


def test_no_server_answering_is_broker_unreachable_naming_them() -> None:
    FakeConnection.down = {"b1", "b2"}
    with pytest.raises(BrokerUnreachableError, match=r"no broker reachable at bootstrap.servers=b1:9092,b2:9092 "
                                                     r"\(Broker may not be available\): .*b2:9092: refused"):
        cluster_metadata("b1:9092,b2:9092", "c")


def test_the_admin_fallback_failing_names_the_servers_in_kafkas_words() -> None:
    """No server answered our request and the admin client's list_topics timed out too (a broker that is down)."""
    class DeadAdmin:
        def list_topics(self, timeout: float = 0) -> Any:
            raise KafkaException(KafkaError(KafkaError._TRANSPORT, "Broker transport failure"))

    FakeConnection.down = {"b1"}
    with pytest.raises(BrokerUnreachableError, match=r"no broker reachable at bootstrap.servers=b1:9092 \(Broker "
                                                     r"may not be available\): .*Broker transport failure"):
        plan_topology(_stateless(), "app", DeadAdmin(), bootstrap_servers="b1:9092")


def test_plan_topology_with_servers_does_not_ask_the_admin_client() -> None:
    admin = CountingAdmin({"in": 7})  # different on purpose: the plan must come from our own request
    plan = plan_topology(_stateless(), "app", admin, bootstrap_servers="b1:9092")
    assert admin.calls == 0
    assert plan.subtopologies[0].partitions == 3
    assert plan.cluster_topics == {"in": 3, "out": 1}


def test_plan_topology_falls_back_to_the_admin_client_when_no_server_answers() -> None:
    FakeConnection.down = {"b1"}
    admin = CountingAdmin({"in": 5, "out": 1})
    plan = plan_topology(_stateless(), "app", admin, bootstrap_servers="b1:9092")
    assert admin.calls == 1 and plan.subtopologies[0].partitions == 5


def test_plan_topology_without_servers_asks_the_admin_client_as_before() -> None:
    admin = CountingAdmin({"in": 2, "out": 1})
    plan = plan_topology(_stateless(), "app", admin)
    assert admin.calls == 1 and plan.subtopologies[0].partitions == 2
    assert [e for e in FakeConnection.log if e[0] == "connect"] == []


def test_a_missing_source_topic_is_still_refused_with_our_metadata() -> None:
    with pytest.raises(MissingSourceTopicError, match="source topic nope"):
        plan_topology(_stateless("nope"), "app", CountingAdmin({}), bootstrap_servers="b1:9092")



def test_the_group_clients_security_is_used_and_our_attempt_is_capped() -> None:
    """A secured cluster: the connection gets the same ClientSecurity as the group client; our own request may
    take at most OWN_METADATA_TIMEOUT_S before the admin client (full timeout) is asked instead."""
    security = object()
    plan_topology(_stateless(), "app", CountingAdmin({}), 30.0, bootstrap_servers="b1:9092", security=security)
    assert ("options", 5.0, {"security": security}) in FakeConnection.log


@pytest.mark.parametrize("error", [AuthenticationError("Authentication failed: Invalid username or password"),
                                   ConfigError("ssl.ca.location: no such file")])
def test_wrong_credentials_or_security_config_fail_at_once_without_the_admin_fallback(error: Exception) -> None:
    """Another server or librdkafka's list_topics would fail the same way, only after its whole timeout."""
    FakeConnection.refuse = error
    admin = CountingAdmin({"in": 3})
    with pytest.raises(type(error), match=str(error).split(":")[0]):
        plan_topology(_stateless(), "app", admin, bootstrap_servers="b1:9092,b2:9092")
    assert admin.calls == 0
    assert [e[1] for e in FakeConnection.log if e[0] == "connect"] == ["b1"]  # not tried on b2 either
