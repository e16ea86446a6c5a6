"""Kafka's InternalTopicManager.makeReady at every rebalance, without sockets: the group leader creates the
internal topics (repartition, changelog) that are missing with their partition counts and configs, waits until
the metadata has them, retries what Kafka retries (TOPIC_ALREADY_EXISTS while a deletion finishes, a retriable
metadata error), gives Kafka's errors ("invalid partitions", "Could not create topic X.", "Could not create topics
within N milliseconds") and hands the new partitions to the assignor."""
from __future__ import annotations

import concurrent.futures
from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.errors import BrokerUnreachableError
from pystreams.runtime.assignment import (
    ASSIGNMENT_ERROR,
    AssignmentInfo,
    SubscriptionInfo,
)
from pystreams.runtime.config import StreamsConfig
from pystreams.runtime.group.member_types import MemberMetadata
from pystreams.runtime.group.streams_member import StreamsMember
from pystreams.runtime.topics import (
    InternalTopicError,
    InternalTopicTimeoutError,
    internal_topic_specs,
    make_ready,
    plan_from_metadata,
)
from tests.unit.runtime.group.fakes import FakeClient

pytestmark = pytest.mark.unit

STRINGS = {"key_serde": Serdes.String(), "value_serde": Serdes.String()}


class FakeAdmin:
    """create_topics answers from `errors` (topic -> KafkaError codes to fail with, in turn); a created topic
    appears in `cluster` after `visible_after` more describes (Apache Kafka's metadata lags CreateTopics)."""

    def __init__(self, cluster: dict[str, int], errors: dict[str, list[int]] | None = None,
                 visible_after: int = 0) -> None:
        self.cluster, self.errors, self.visible_after = cluster, errors or {}, visible_after
        self.created: list[Any] = []
        self.pending: dict[str, tuple[int, int]] = {}  # topic -> (partitions, describes left)

    def create_topics(self, topics: list[Any], operation_timeout: float, request_timeout: float
                      ) -> dict[str, concurrent.futures.Future[None]]:
        out = {}
        for new in topics:
            future: concurrent.futures.Future[None] = concurrent.futures.Future()
            codes = self.errors.get(new.topic)
            if codes:
                future.set_exception(KafkaException(KafkaError(codes.pop(0))))
            else:
                self.created.append(new)
                self.pending[new.topic] = (new.num_partitions, self.visible_after)
                future.set_result(None)
            out[new.topic] = future
        return out

    def describe(self, topics: Any) -> tuple[dict[str, int], frozenset[str]]:
        for topic, (n, left) in list(self.pending.items()):
            if left <= 0:
                self.cluster[topic] = n
                del self.pending[topic]
            else:
                self.pending[topic] = (n, left - 1)
        return {t: self.cluster[t] for t in topics if t in self.cluster}, frozenset()


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.now += s


def _word_count() -> Any:
    b = StreamsBuilder()
    (b.stream("in", Consumed(**STRINGS)).flat_map_values(lambda v: v.split())
        .group_by(lambda k, w: w).count().to_stream().map_values(str).to("out", Produced(**STRINGS)))
    return b.build()


def _plan(cluster: dict[str, int]) -> Any:
    return plan_from_metadata(_word_count(), "app", cluster)


def _names(plan: Any) -> tuple[str, str]:
    return next(iter(plan.repartition_topics)), next(iter(plan.changelog_topics))


def test_specs_have_the_plans_counts_and_kafkas_configs() -> None:
    plan = _plan({"in": 3, "out": 1})
    repartition, changelog = _names(plan)
    specs = internal_topic_specs(_word_count(), plan, {"segment.ms": "1000"})
    assert specs[repartition].partitions == 3 and specs[changelog].partitions == 3
    assert specs[repartition].config["cleanup.policy"] == "delete"
    assert specs[repartition].config["retention.ms"] == "-1"
    assert specs[changelog].config["cleanup.policy"] == "compact"
    assert specs[changelog].config["segment.ms"] == "1000"  # the application's topic.* configs


def test_missing_topics_are_created_and_awaited_in_the_metadata() -> None:
    plan = _plan({"in": 2, "out": 1})
    repartition, changelog = _names(plan)
    specs = internal_topic_specs(_word_count(), plan)
    admin, clock = FakeAdmin({changelog: 2}, visible_after=2), FakeClock()
    created = make_ready(plan, specs, admin, admin.describe, replication_factor=3, timeout_s=10,
                         clock=clock, sleep=clock.sleep)
    assert created == {repartition}
    [new] = admin.created
    assert (new.topic, new.num_partitions, new.replication_factor) == (repartition, 2, 3)
    assert new.config["cleanup.policy"] == "delete"
    # after the creation, two more describes still without it: the first at once (no sleep: our broker knows a
    # created topic already), a 20 ms sleep after the second, then it is there
    assert admin.cluster[repartition] == 2 and clock.sleeps == [0.02, 0.02]


def test_nothing_missing_creates_nothing() -> None:
    plan = _plan({"in": 2, "out": 1})
    repartition, changelog = _names(plan)
    admin = FakeAdmin({repartition: 2, changelog: 2})
    assert make_ready(plan, internal_topic_specs(_word_count(), plan), admin, admin.describe) == set()
    assert admin.created == []


def test_a_topic_still_being_deleted_is_created_again_after_the_backoff() -> None:
    plan = _plan({"in": 2, "out": 1})
    repartition, changelog = _names(plan)
    admin = FakeAdmin({changelog: 2}, errors={repartition: [KafkaError.TOPIC_ALREADY_EXISTS] * 2})
    clock = FakeClock()
    created = make_ready(plan, internal_topic_specs(_word_count(), plan), admin, admin.describe,
                         retry_backoff_s=0.25, clock=clock, sleep=clock.sleep)
    assert created == {repartition} and admin.cluster[repartition] == 2
    assert clock.sleeps[:2] == [0.25, 0.25]


def test_a_topic_with_a_retriable_metadata_error_is_not_created() -> None:
    plan = _plan({"in": 2, "out": 1})
    repartition, changelog = _names(plan)
    admin, clock = FakeAdmin({changelog: 2}), FakeClock()
    answers = iter([({changelog: 2}, frozenset({repartition})), ({changelog: 2, repartition: 2}, frozenset())])
    created = make_ready(plan, internal_topic_specs(_word_count(), plan), admin, lambda topics: next(answers),
                         clock=clock, sleep=clock.sleep)
    assert created == set() and admin.created == []  # LEADER_NOT_AVAILABLE: it exists, wait for it


def test_an_existing_topic_with_another_count_is_kafkas_invalid_partitions_error() -> None:
    plan = _plan({"in": 2, "out": 1})
    _, changelog = _names(plan)
    admin = FakeAdmin({changelog: 1})
    with pytest.raises(InternalTopicError, match=f"Existing internal topic {changelog} has invalid partitions: "
                                                 "expected: 2; actual: 1"):
        make_ready(plan, internal_topic_specs(_word_count(), plan), admin, admin.describe)
    assert admin.created == []


def test_a_creation_error_is_kafkas_could_not_create_topic() -> None:
    plan = _plan({"in": 2, "out": 1})
    repartition, changelog = _names(plan)
    admin = FakeAdmin({changelog: 2}, errors={repartition: [KafkaError.POLICY_VIOLATION]})
    with pytest.raises(InternalTopicError, match=f"^Could not create topic {repartition}\\. ") as info:
        make_ready(plan, internal_topic_specs(_word_count(), plan), admin, admin.describe)
    assert not isinstance(info.value, InternalTopicTimeoutError)


def test_not_ready_in_time_is_kafkas_retriable_timeout() -> None:
    plan = _plan({"in": 2, "out": 1})
    repartition, changelog = _names(plan)
    admin = FakeAdmin({changelog: 2}, errors={repartition: [KafkaError.TOPIC_ALREADY_EXISTS] * 1000})
    clock = FakeClock()
    with pytest.raises(InternalTopicTimeoutError) as info:
        make_ready(plan, internal_topic_specs(_word_count(), plan), admin, admin.describe, timeout_s=2.0,
                   retry_backoff_s=0.1, clock=clock, sleep=clock.sleep)
    assert str(info.value) == ("Could not create topics within 2000 milliseconds. This can happen if the Kafka "
                               "cluster is temporarily not available.")
    assert isinstance(info.value, BrokerUnreachableError)  # the leader's join is retried, the thread lives on
    assert 1.9 <= clock.now <= 2.2


# ---------------------------------------------------------------- the group leader


class MetadataClient(FakeClient):
    """The leader's metadata from the FakeAdmin's cluster (so created topics show up)."""

    def __init__(self, admin: FakeAdmin) -> None:
        super().__init__()
        self.admin = admin
        self.unsure_topics: frozenset[str] = frozenset()

    def partition_counts(self, topics: Any) -> dict[str, int]:
        return self.admin.describe(set(topics))[0]

    def end_offsets(self, partitions: Any) -> dict[tuple[str, int], int]:
        return {tp: 0 for tp in partitions}


def _leader(tmp_path: Any, admin: FakeAdmin | None, cluster: dict[str, int], **config: Any
            ) -> tuple[StreamsMember, Any]:
    topology = _word_count()
    plan = plan_from_metadata(topology, "app", dict(cluster))
    cfg = StreamsConfig({"application.id": "app", "bootstrap.servers": "127.0.0.1:1", "state.dir": str(tmp_path),
                         **config})
    thread = SimpleNamespace(name="t", plan=plan, topology=topology, config=cfg, tasks={}, _standby=None,
                             streams=SimpleNamespace(process_id="p", shutdown_requested=0, admin=admin))
    client = MetadataClient(admin or FakeAdmin(cluster))
    member = StreamsMember(thread, (client, FakeClient()))
    return member, plan


def _members(*ids: str) -> list[MemberMetadata]:
    return [MemberMetadata(i, None, ["in"], SubscriptionInfo(f"proc-{i}", None).encode(), []) for i in ids]


def test_the_leader_recreates_a_deleted_repartition_topic_and_assigns_its_partitions(tmp_path: Any) -> None:
    cluster = {"in": 2, "out": 1}
    plan = _plan(cluster)
    repartition, changelog = _names(plan)
    admin = FakeAdmin({**cluster, changelog: 2}, visible_after=1)
    member, plan = _leader(tmp_path, admin, cluster, **{"topic.segment.ms": "60000", "replication.factor": 1})
    result = member.leader_assign(_members("a", "b"))
    [new] = admin.created
    assert (new.topic, new.num_partitions, new.replication_factor) == (repartition, 2, 1)
    assert new.config["cleanup.policy"] == "delete" and new.config["segment.ms"] == "60000"
    infos = [AssignmentInfo.decode(data) for _, data in result.values()]
    assert all(i.error_code == 0 for i in infos)
    assigned = sorted(tp for parts, _ in result.values() for tp in parts)
    assert assigned == sorted([("in", 0), ("in", 1), (repartition, 0), (repartition, 1)])


def test_the_leader_recreates_a_deleted_changelog_compacted(tmp_path: Any) -> None:
    cluster = {"in": 2, "out": 1}
    repartition, changelog = _names(_plan(cluster))
    admin = FakeAdmin({**cluster, repartition: 2})
    member, _ = _leader(tmp_path, admin, cluster)
    result = member.leader_assign(_members("a"))
    [new] = admin.created
    assert (new.topic, new.num_partitions, new.config["cleanup.policy"]) == (changelog, 2, "compact")
    info = AssignmentInfo.decode(result["a"][1])
    assert info.error_code == 0 and len(info.active_tasks) == 4


def test_a_creation_error_fails_every_member_with_kafkas_text(tmp_path: Any) -> None:
    cluster = {"in": 2, "out": 1}
    repartition, changelog = _names(_plan(cluster))
    admin = FakeAdmin({**cluster, changelog: 2}, errors={repartition: [KafkaError.TOPIC_AUTHORIZATION_FAILED]})
    member, _ = _leader(tmp_path, admin, cluster)
    result = member.leader_assign(_members("a", "b"))
    for parts, data in result.values():
        info = AssignmentInfo.decode(data)
        assert parts == [] and info.error_code == ASSIGNMENT_ERROR
        assert info.error_message.startswith(f"Could not create topic {repartition}. ")


def test_a_timeout_is_raised_for_the_join_to_be_retried(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """max.poll.interval.ms / 2 is the bound (Kafka's retryTimeoutMs): 0.2 s here."""
    cluster = {"in": 2, "out": 1}
    repartition, changelog = _names(_plan(cluster))
    admin = FakeAdmin({**cluster, changelog: 2}, errors={repartition: [KafkaError.TOPIC_ALREADY_EXISTS] * 1000})
    member, _ = _leader(tmp_path, admin, cluster, **{"max.poll.interval.ms": 400, "retry.backoff.ms": 50})
    with pytest.raises(InternalTopicTimeoutError, match="Could not create topics within 200 milliseconds"):
        member.leader_assign(_members("a"))


def test_a_closing_client_without_an_admin_client_creates_nothing(tmp_path: Any) -> None:
    cluster = {"in": 2, "out": 1}
    repartition, changelog = _names(_plan(cluster))
    member, _ = _leader(tmp_path, None, {**cluster, changelog: 2})
    result = member.leader_assign(_members("a"))
    assert AssignmentInfo.decode(result["a"][1]).error_code == 0  # assigned as before, from the plan's counts
    assert repartition not in member.client.admin.cluster and member.client.admin.created == []



def test_deleted_foreign_key_subscription_topics_are_created_with_their_counts() -> None:
    """A foreign-key join's subscription registration / response topics are repartition topics (Kafka's too):
    registration sized by the foreign table's source, response by the left table's."""
    import pystreams.compiler.extensions  # noqa: F401  # the FK join's DSL
    from pystreams.dsl.joins import TableJoined

    b = StreamsBuilder()
    orders = b.table("orders", Consumed(**STRINGS))
    customers = b.table("customers", Consumed(**STRINGS))
    orders.join(customers, lambda v: v, lambda o, c: o + c, TableJoined.as_("fk")).to_stream().to("out")
    topology = b.build()
    cluster = {"orders": 2, "customers": 3, "out": 1}
    plan = plan_from_metadata(topology, "app", cluster)
    admin = FakeAdmin(dict(cluster))
    created = make_ready(plan, internal_topic_specs(topology, plan), admin, admin.describe)
    counts = {new.topic: new.num_partitions for new in admin.created}
    assert counts["app-fk-subscription-registration-topic"] == 3
    assert counts["app-fk-subscription-response-topic"] == 2
    assert created == set(counts) == set(plan.repartition_topics) | set(plan.changelog_topics)


class StartAdmin(FakeAdmin):
    """The AdminClient as start() uses it: list_topics() (all topics) over the same fake cluster."""

    def list_topics(self, timeout: float = 0) -> Any:
        counts, _ = self.describe(list(self.cluster) + list(self.pending))
        return SimpleNamespace(topics={name: SimpleNamespace(partitions=dict.fromkeys(range(n)), error=None)
                                       for name, n in counts.items()})

    def describe_topics(self, topics: Any, request_timeout: float = 0) -> dict[str, concurrent.futures.Future[Any]]:
        """Admin.describeTopics by name: a missing topic's future fails with UNKNOWN_TOPIC_OR_PART."""
        counts, _ = self.describe(list(topics.topic_names))
        out: dict[str, concurrent.futures.Future[Any]] = {}
        for name in topics.topic_names:
            future: concurrent.futures.Future[Any] = concurrent.futures.Future()
            if name in counts:
                future.set_result(SimpleNamespace(partitions=list(range(counts[name]))))
            else:
                future.set_exception(KafkaException(KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART)))
            out[name] = future
        return out


def test_start_creates_a_topic_again_once_its_deletion_finished() -> None:
    """Just after `pystreams reset` an internal topic may still be being deleted (TOPIC_ALREADY_EXISTS while it is
    not in the metadata): start() creates it again after the deletion instead of waiting for it to show up."""
    from pystreams.runtime.topics import ensure_internal_topics

    cluster = {"in": 2, "out": 1}
    plan = _plan(cluster)
    repartition, changelog = _names(plan)
    admin = StartAdmin(dict(cluster), errors={changelog: [KafkaError.TOPIC_ALREADY_EXISTS] * 2})
    created = ensure_internal_topics(_word_count(), plan, admin, existing=dict(cluster), timeout=5)
    assert created == sorted([repartition, changelog])
    assert admin.cluster[changelog] == 2 and admin.cluster[repartition] == 2
    assert [new.topic for new in admin.created] == [repartition, changelog]  # the changelog on the third try
