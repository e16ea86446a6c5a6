"""ACLs that keep a Streams app from its internal topics fail it at once with Kafka's "Could not create topic X." and
what to do, instead of a retry that never ends (Kafka's InternalTopicManager: a describe or create error other than
an unknown topic, a missing leader or a timeout is a StreamsException).

Runs on the reference Apache Kafka 4.x with StandardAuthorizer only: our own broker has no authorizer (broker/security
is empty), so there is no ACL to deny anything there. The broker's PLAINTEXT listener is a super user (topics, ACLs,
results); the app connects as `alice` through SASL_PLAINTEXT with ACLs allowing everything but what a case denies on
the topics prefixed `<application.id>-`.

- DESCRIBE denied from the start: start() creates the internal topics, cannot see them, and used to wait 30 s for them
  ("Could not create topics within 30000 milliseconds ... temporarily not available").
- DESCRIBE denied while the app runs, then a rebalance (a thread added): the leader finds its changelog unreadable and
  used to wait max.poll.interval.ms / 2 for it, then rejoin and wait again, forever.
- CREATE denied: start() fails on the creation (it did before; the message now says what to do).
- DESCRIBE_CONFIGS denied: the app runs (Kafka creates the topic, withholding only its configs in the answer)."""
from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import KafkaException, TopicCollection
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ConfigResource,
    NewTopic,
    ResourcePatternType,
    ResourceType,
)

from pystreams.runtime import InternalTopicError, KafkaStreams, State
from tests.integration.runtime.helpers import create_topics, thread_errors, unique, wordcount_topology
from tests.reference.kafka import ReferenceKafka, free_port

pytestmark = [pytest.mark.integration, pytest.mark.reference]

USER, PASSWORD = "alice", "alice-secret"


class AuthorizingKafka(ReferenceKafka):
    """Reference Kafka with StandardAuthorizer: PLAINTEXT (User:ANONYMOUS, a super user) and SASL_PLAINTEXT (PLAIN
    user alice, held to her ACLs)."""

    def __init__(self) -> None:
        super().__init__(heap="512m")
        self.sasl_port = 0

    @property
    def sasl_bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.sasl_port}"

    def _format(self) -> None:
        self.sasl_port = free_port()
        while self.sasl_port in (self.port, self.controller_port):
            self.sasl_port = free_port()
        sasl = f"SASL_PLAINTEXT://127.0.0.1:{self.sasl_port}"
        self.overrides.update({
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},{sasl},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port},{sasl}",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
            "sasl.enabled.mechanisms": "PLAIN",
            "listener.name.sasl_plaintext.plain.sasl.jaas.config":
                "org.apache.kafka.common.security.plain.PlainLoginModule required "
                f'user_{USER}="{PASSWORD}";',
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "super.users": "User:ANONYMOUS",
        })
        super()._format()


@pytest.fixture(scope="module")
def authorizing_kafka() -> Iterator[AuthorizingKafka]:
    kafka = AuthorizingKafka()
    kafka.start()
    try:
        yield kafka
    finally:
        kafka.stop()


def _acl(permission: AclPermissionType, operation: AclOperation, resource: ResourceType = ResourceType.TOPIC,
         name: str = "*", pattern: ResourcePatternType = ResourcePatternType.LITERAL) -> AclBinding:
    return AclBinding(resource, name, pattern, f"User:{USER}", "*", operation, permission)


def _add_acls(admin: AdminClient, bindings: list[AclBinding]) -> None:
    for future in admin.create_acls(bindings).values():
        future.result(30)


def _allow_everything(admin: AdminClient) -> None:
    allow = AclPermissionType.ALLOW
    _add_acls(admin, [_acl(allow, AclOperation.ALL), _acl(allow, AclOperation.ALL, ResourceType.GROUP),
                      _acl(allow, AclOperation.ALL, ResourceType.TRANSACTIONAL_ID),
                      # not ALL: CREATE on the cluster would allow creating any topic, whatever the topic ACLs say
                      _acl(allow, AclOperation.IDEMPOTENT_WRITE, ResourceType.BROKER, "kafka-cluster"),
                      _acl(allow, AclOperation.DESCRIBE, ResourceType.BROKER, "kafka-cluster")])


def _deny(admin: AdminClient, kafka: AuthorizingKafka, app: str, operation: AclOperation) -> None:
    """Deny `operation` on the app's internal topics and wait until alice's metadata shows it (KRaft: the ACL
    reaches the broker through the metadata log)."""
    _add_acls(admin, [_acl(AclPermissionType.DENY, operation, name=f"{app}-",
                           pattern=ResourcePatternType.PREFIXED)])
    alice = AdminClient({"bootstrap.servers": kafka.sasl_bootstrap_servers, "security.protocol": "SASL_PLAINTEXT",
                         "sasl.mechanism": "PLAIN", "sasl.username": USER, "sasl.password": PASSWORD})
    probe = f"{app}-acl-probe"
    deadline = time.monotonic() + 15
    while True:
        try:
            if operation == AclOperation.CREATE:
                alice.create_topics([NewTopic(probe, 1)], validate_only=True)[probe].result(10)
            elif operation == AclOperation.DESCRIBE_CONFIGS:
                resource = ConfigResource(ConfigResource.Type.TOPIC, probe)
                alice.describe_configs([resource])[resource].result(10)
            else:
                alice.describe_topics(TopicCollection([probe]))[probe].result(10)
        except KafkaException as e:
            if e.args[0].name() == "TOPIC_AUTHORIZATION_FAILED":
                return
        assert time.monotonic() < deadline, f"the ACL denying {operation} is not in force after 15 s"
        time.sleep(0.1)


def _streams(kafka: AuthorizingKafka, tmp_path: Any, app: str, source: str, sink: str) -> KafkaStreams:
    return KafkaStreams(wordcount_topology(source, sink), {
        "application.id": app, "bootstrap.servers": kafka.sasl_bootstrap_servers, "state.dir": str(tmp_path),
        "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN", "sasl.username": USER,
        "sasl.password": PASSWORD, "commit.interval.ms": 200})


def _assert_refused(error: BaseException, app: str, code: str) -> None:
    text = str(error)
    assert f"Could not create topic {app}-" in text, text
    assert code in text, text
    assert f"--topic {app}- --resource-pattern-type prefixed" in text, text  # what to do


@pytest.mark.parametrize("operation, code", [(AclOperation.DESCRIBE, "TOPIC_AUTHORIZATION_FAILED"),
                                             (AclOperation.CREATE, "TOPIC_AUTHORIZATION_FAILED")],
                         ids=["describe-denied", "create-denied"])
def test_start_fails_at_once_when_internal_topics_are_not_authorized(authorizing_kafka, tmp_path, operation, code):
    kafka = authorizing_kafka
    admin = AdminClient({"bootstrap.servers": kafka.bootstrap_servers})
    _allow_everything(admin)
    app, source, sink = unique("acl-start"), unique("acl-text"), unique("acl-counts")
    create_topics(kafka.bootstrap_servers, 2, source, sink)
    _deny(admin, kafka, app, operation)
    streams = _streams(kafka, tmp_path, app, source, sink)
    started = time.monotonic()
    try:
        with pytest.raises(InternalTopicError) as info:
            streams.start()
        took = time.monotonic() - started
    finally:
        assert streams.close(30)
    _assert_refused(info.value, app, code)
    assert took < 10, f"start() took {took:.1f} s to fail (it waited for the topics)"


def test_the_leader_fails_the_app_when_it_cannot_describe_its_internal_topics(authorizing_kafka, tmp_path):
    kafka = authorizing_kafka
    admin = AdminClient({"bootstrap.servers": kafka.bootstrap_servers})
    _allow_everything(admin)
    app, source, sink = unique("acl-run"), unique("acl-text"), unique("acl-counts")
    create_topics(kafka.bootstrap_servers, 2, source, sink)
    streams = _streams(kafka, tmp_path, app, source, sink)
    errors = thread_errors(streams)
    try:
        streams.start()
        assert streams.wait_for_state(State.RUNNING, timeout=60), streams.state
        _deny(admin, kafka, app, AclOperation.DESCRIBE)
        started = time.monotonic()
        streams.add_stream_thread()  # a rebalance: the leader makes the internal topics ready again
        assert streams.wait_for_state(State.ERROR, timeout=30), f"still {streams.state.name} ({errors})"
        took = time.monotonic() - started
    finally:
        streams.close(30)
    assert errors, "no thread failed"
    _assert_refused(errors[0], app, "TOPIC_AUTHORIZATION_FAILED")
    assert took < 25, took


def test_describe_configs_denied_does_not_stop_the_app(authorizing_kafka, tmp_path):
    """Kafka's CreateTopics creates a topic whose configs the principal may not describe (only the answer's configs
    are withheld), and makeReady describes no configs: the app runs, as Kafka Streams does."""
    kafka = authorizing_kafka
    admin = AdminClient({"bootstrap.servers": kafka.bootstrap_servers})
    _allow_everything(admin)
    app, source, sink = unique("acl-cfg"), unique("acl-text"), unique("acl-counts")
    create_topics(kafka.bootstrap_servers, 2, source, sink)
    _deny(admin, kafka, app, AclOperation.DESCRIBE_CONFIGS)
    streams = _streams(kafka, tmp_path, app, source, sink)
    errors = thread_errors(streams)
    try:
        streams.start()
        assert streams.wait_for_state(State.RUNNING, timeout=60), (streams.state, errors)
        assert set(streams.plan.changelog_topics) | set(streams.plan.repartition_topics) <= set(
            admin.list_topics(timeout=10).topics)
    finally:
        assert streams.close(30)
    assert not errors, errors
