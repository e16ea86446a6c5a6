"""Internal topics (Kafka's InternalTopicManager + RepartitionTopics): partition counts, configs, creation.

Repartition topics get the partition count given in the topology (Repartitioned) or else the maximum partition
count of the source topics of the sub-topologies writing into them (resolved through chains of repartition
topics), as Kafka does. Changelogs have one partition per task of their sub-topology. Topic configs are Kafka's
(RepartitionTopicConfig, UnwindowedUnversionedChangelogTopicConfig, WindowedChangelogTopicConfig).
Everything internal is named `<application.id>-<name>`.
"""
from __future__ import annotations

import concurrent.futures
import logging
import re
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from pystreams.errors import (
    BrokerUnreachableError,
    ConfigError,
    PystreamsError,
    TopologyError,
)

log = logging.getLogger("pystreams.runtime")


class MissingSourceTopicError(PystreamsError):
    """Kafka's MissingSourceTopicException: a source topic does not exist; create it first."""


class InternalTopicError(PystreamsError):
    """An internal topic could not be created or exists with the wrong partition count."""


class InternalTopicTimeoutError(InternalTopicError, BrokerUnreachableError):
    """Kafka's TimeoutException from InternalTopicManager.makeReady: internal topics were not ready in time. A
    BrokerUnreachableError, so the group leader's join is retried (Kafka's consumer retries a retriable failure of
    the assignor) instead of the stream thread failing."""


@dataclass(frozen=True)
class InternalTopicSpec:
    """One internal topic as the application creates it: Kafka's InternalTopicConfig (name, partitions, configs)."""

    name: str
    partitions: int
    config: dict[str, str]


@dataclass
class SubtopologyPlan:
    """One sub-topology as the runtime runs it: physical source topics, task count, changelogs."""

    id: int
    node_names: tuple[str, ...]
    source_topics: list[str]
    source_patterns: list[re.Pattern[str]]
    partitions: int = 0
    changelogs: dict[str, str] = field(default_factory=dict)  # store -> physical changelog topic


@dataclass
class TopologyPlan:
    """Everything the runtime derived from a Topology and the cluster's metadata."""

    application_id: str
    subtopologies: list[SubtopologyPlan]
    topic_partitions: dict[str, int]
    repartition_topics: dict[str, int]
    changelog_topics: dict[str, int]
    source_changelog_topics: set[str] = field(default_factory=set)
    #: topic -> partition count as the cluster's metadata had them when the plan was made (start() hands it to
    #: ensure_internal_topics instead of asking the cluster a second time: one metadata round trip, 1-50 ms)
    cluster_topics: dict[str, int] = field(default_factory=dict)

    def subtopology_of(self, topic: str) -> SubtopologyPlan | None:
        for sub in self.subtopologies:
            if topic in sub.source_topics or any(p.fullmatch(topic) for p in sub.source_patterns):
                return sub
        return None

    def subscription(self) -> list[str]:
        """Topics (and `^regex` patterns) the group member subscribes to in its JoinGroup (the consumer is only
        assign()ed)."""
        topics: list[str] = []
        for sub in self.subtopologies:
            topics.extend(t for t in sub.source_topics if t not in topics)
            topics.extend("^" + p.pattern for p in sub.source_patterns)
        return topics


def physical(topology: Any, application_id: str, topic: str) -> str:
    return f"{application_id}-{topic}" if topology.is_internal_topic(topic) else topic


def _unreachable(servers: str, cause: object) -> BrokerUnreachableError:
    """Kafka's words for it (its clients log "Broker may not be available"), naming the servers tried."""
    where = f" at bootstrap.servers={servers}" if servers else ""
    return BrokerUnreachableError(f"no broker reachable{where} (Broker may not be available): {cause}")


def _metadata(admin: AdminClient, timeout: float, servers: str = "") -> dict[str, int]:
    try:
        md = admin.list_topics(timeout=timeout)
    except KafkaException as e:
        raise _unreachable(servers, e.args[0] if e.args else e) from e
    return {name: len(t.partitions) for name, t in md.topics.items() if t.error is None}


def cluster_metadata(bootstrap_servers: str, client_id: str, timeout: float = 30.0, security: Any = None
                     ) -> dict[str, int]:
    """topic -> partition count of every topic in the cluster: one Metadata request (all topics) on a connection of
    our own (the sans-IO codec the group membership uses), to the first bootstrap server that answers.

    Why not the AdminClient: librdkafka (2.10+) drops its bootstrap connection once the first metadata names the
    brokers, and the first request of a new client that needs the named broker waits until reconnect.backoff.ms / 2
    (50 ms by default) after the client was created; start() used to pay that on every run (plan_topology's
    list_topics took 1 or ~53 ms, mostly 53). security: the group client's ClientSecurity (security.protocol, SASL,
    TLS), None for plaintext. Raises BrokerUnreachableError when no bootstrap server answers; an authentication failure
    (AuthenticationError, the broker's message) or a bad security setting (ConfigError) at once."""
    from pystreams.broker.protocol import ApiKey
    from pystreams.runtime.group.client import parse_servers
    from pystreams.runtime.group.connection import BrokerConnection

    errors = []
    for host, port in parse_servers(bootstrap_servers):
        try:
            secured = {"security": security} if security is not None else {}
            conn = BrokerConnection(host, port, client_id, timeout, **secured)
        except PystreamsError as e:
            if _not_retriable(e):
                raise
            errors.append(str(e))
            continue
        try:
            _, answer = conn.request(ApiKey.METADATA, {"topics": None, "allow_auto_topic_creation": False}, timeout)
        except PystreamsError as e:
            if _not_retriable(e):
                raise
            errors.append(str(e))
            continue
        finally:
            conn.close()
        return {t["name"]: len(t["partitions"]) for t in answer["topics"] if t["error_code"] == 0 and t["name"]}
    raise _unreachable(bootstrap_servers, "; ".join(errors[-3:]))


def _not_retriable(error: BaseException) -> bool:
    """Wrong credentials or a bad security setting: another server or the admin client would fail the same way, only
    slower and less clearly (librdkafka blocks the whole timeout, then reports a transport failure)."""
    from pystreams.runtime.group.security import AuthenticationError

    return isinstance(error, (AuthenticationError, ConfigError))


#: how long our own metadata request may take before the admin client is asked instead (it normally takes ms)
OWN_METADATA_TIMEOUT_S = 5.0


def _cluster_topics(admin: AdminClient, timeout: float, bootstrap_servers: str | None, client_id: str,
                    security: Any) -> dict[str, int]:
    """Our own Metadata request when the servers are given (cluster_metadata), else (or when no server answers
    it at once: a broker still starting) the admin client's list_topics, which keeps retrying for timeout s."""
    if bootstrap_servers:
        try:
            return cluster_metadata(bootstrap_servers, client_id, min(timeout, OWN_METADATA_TIMEOUT_S), security)
        except PystreamsError as e:
            if _not_retriable(e):
                raise
            log.debug("reading the cluster metadata through the admin client: %s", e)
    return _metadata(admin, timeout, bootstrap_servers or "")


def plan_topology(topology: Any, application_id: str, admin: AdminClient, timeout: float = 30.0, *,
                  bootstrap_servers: str | None = None, client_id: str = "pystreams-admin",
                  security: Any = None) -> TopologyPlan:
    """Resolve partition counts; fail with MissingSourceTopicError for absent user source topics. With
    bootstrap_servers, the cluster's metadata is read with one request of our own (cluster_metadata, with the
    group client's security), not the admin client's first request (~50 ms later on a fresh librdkafka client)."""
    existing = _cluster_topics(admin, timeout, bootstrap_servers, client_id, security)
    return plan_from_metadata(topology, application_id, existing)


def plan_from_metadata(topology: Any, application_id: str, existing: dict[str, int]) -> TopologyPlan:
    """The plan for the cluster's topic -> partition count `existing` (no I/O): start() plans with it, and the
    group leader plans again before every assignment (Kafka's assignor derives tasks and internal topic sizes
    from the metadata of each rebalance), so partitions added to a source topic become tasks."""
    subs = topology.subtopologies()
    if not subs:
        raise TopologyError("the topology has no sub-topology reading a topic: nothing to run")
    repartition_cfg = {rt.name: rt.partitions for rt in topology.repartition_topics()} \
        if hasattr(topology, "repartition_topics") else {}
    plans = []
    for sub in subs:
        plans.append(SubtopologyPlan(sub.id, tuple(sub.node_names),
                                     [physical(topology, application_id, t) for t in sub.source_topics],
                                     [re.compile(p) for p in getattr(sub, "source_patterns", ())]))
    internal = {f"{application_id}-{name}": count for name, count in repartition_cfg.items()}
    counts: dict[str, int] = {}
    for plan in plans:
        for topic in plan.source_topics:
            if topic in internal:
                continue
            if topic not in existing:
                raise MissingSourceTopicError(
                    f"source topic {topic} (sub-topology {plan.id}) does not exist: create it before starting "
                    "the application (Kafka Streams does not create source topics)")
            counts[topic] = existing[topic]
        for pattern in plan.source_patterns:
            for topic, n in existing.items():
                if pattern.fullmatch(topic):
                    counts[topic] = n
    for topic, n in internal.items():
        if n:
            counts[topic] = n
    _copartition(topology, application_id, counts, repartition_cfg)
    sinks_of = {sub.id: [physical(topology, application_id, t) for t in sub.sink_topics] for sub in subs}
    for _ in range(len(plans) + 1):  # fixed point over chains of repartition topics
        for topic in internal:
            if topic in counts:
                continue
            upstream = [p for p in plans if topic in sinks_of[p.id]]
            known = [counts[t] for p in upstream for t in p.source_topics if t in counts]
            known += [counts[t] for p in upstream for pat in p.source_patterns for t in counts
                      if pat.fullmatch(t)]
            if known:
                counts[topic] = max(known)
    _equalize_internal_groups(topology, application_id, counts, repartition_cfg)
    for topic in internal:
        if topic not in counts:
            raise TopologyError(f"cannot tell how many partitions repartition topic {topic} needs: no "
                                "upstream source topic has a known partition count")
    changelogs: dict[str, int] = {}
    source_changelogs = set(topology.internal_topics().get("source_changelog", {}).values())
    for plan in plans:
        matched = [counts[t] for t in counts if any(p.fullmatch(t) for p in plan.source_patterns)]
        plan.partitions = max([counts[t] for t in plan.source_topics] + matched, default=0)
        sub = next(s for s in subs if s.id == plan.id)
        for store in sub.store_names:
            topic = topology.changelog_topic(store, application_id)
            if topic:
                plan.changelogs[store] = topic
                if topic not in source_changelogs:
                    changelogs[topic] = plan.partitions
    return TopologyPlan(application_id, plans, counts, {t: counts[t] for t in internal}, changelogs,
                        source_changelogs, dict(existing))


def _copartition(topology: Any, application_id: str, counts: dict[str, int], fixed: dict[str, Any]) -> None:
    """Kafka's CopartitionedTopicsEnforcer: joined source topics must have one partition count (else a
    CopartitionError naming them), and a join group's repartition topics take that count."""
    if not hasattr(topology, "copartition_groups"):
        return
    from pystreams.compiler.copartition import CopartitionError, copartition_counts

    needed = copartition_counts(topology, lambda t: counts.get(physical(topology, application_id, t)))
    for topic, n in needed.items():
        if fixed.get(topic) and fixed[topic] != n:
            raise CopartitionError(f"Number of partitions [{fixed[topic]}] of repartition topic "
                                   f"[{application_id}-{topic}] doesn't match number of partitions [{n}] of the "
                                   "source topics it is joined with (its Repartitioned partition count)")
        counts[physical(topology, application_id, topic)] = n


def _equalize_internal_groups(topology: Any, application_id: str, counts: dict[str, int],
                              fixed: dict[str, Any]) -> None:
    """A join group of repartition topics only: all take the largest count among them (as Kafka does)."""
    if not hasattr(topology, "copartition_groups"):
        return
    for group in topology.copartition_groups():
        topics = [physical(topology, application_id, t) for src in group
                  for t in (getattr(topology.node(src), "topics", ()) or ())]
        if not topics or not all(topology.is_internal_topic(t[len(application_id) + 1:]) for t in topics):
            continue
        known = [counts[t] for t in topics if t in counts]
        if known and len(set(known)) > 1:
            n = max(known)
            for t in topics:
                if not fixed.get(t[len(application_id) + 1:]):
                    counts[t] = n


#: Kafka's InternalTopicConfig.INTERNAL_TOPIC_DEFAULT_OVERRIDES: every internal topic keeps the producer's
#: timestamps (stream time, windows and punctuation depend on them)
INTERNAL_TOPIC_DEFAULTS = {"message.timestamp.type": "CreateTime"}
#: Kafka's RepartitionTopicConfig: delete, 50 MB segments and infinite time retention (records are removed by the
#: explicit purge, repartition_purge.py, once committed, never by age: reprocessing old data must not lose any)
REPARTITION_TOPIC_DEFAULTS = {**INTERNAL_TOPIC_DEFAULTS, "cleanup.policy": "delete", "segment.bytes": "52428800",
                              "retention.ms": "-1"}
#: Kafka's UnwindowedUnversionedChangelogTopicConfig: key-value changelogs are compacted
KV_CHANGELOG_DEFAULTS = {**INTERNAL_TOPIC_DEFAULTS, "cleanup.policy": "compact"}
#: Kafka's WindowedChangelogTopicConfig (window and session stores): every window is a new key, so compaction
#: alone never shrinks them; time retention (store retention + additional) drops expired windows
WINDOWED_CHANGELOG_DEFAULTS = {**INTERNAL_TOPIC_DEFAULTS, "cleanup.policy": "compact,delete"}
#: Kafka's StreamsConfig.WINDOW_STORE_CHANGE_LOG_ADDITIONAL_RETENTION_MS default (1 day, for clock drift)
DEFAULT_ADDITIONAL_RETENTION_MS = 86_400_000
_LONG_MAX = 2**63 - 1


def repartition_topic_config(topic_defaults: dict[str, str] | None = None) -> dict[str, str]:
    """A repartition topic's configs: Kafka's library overrides < `topic.*` configs of the application."""
    return {**REPARTITION_TOPIC_DEFAULTS, **(topic_defaults or {})}


def changelog_topic_config(builder: Any, topic_defaults: dict[str, str] | None = None,
                           additional_retention_ms: int = DEFAULT_ADDITIONAL_RETENTION_MS) -> dict[str, str]:
    """A store's changelog configs as Kafka creates them: library overrides < `topic.*` configs < the store's
    log config (withLoggingEnabled). A window or session store (its builder has retention_period_ms) gets
    compact,delete and, unless its log config sets retention.ms, retention.ms = retention + additional."""
    log_config = {str(k): str(v) for k, v in dict(getattr(builder, "log_config", None) or {}).items()}
    retention = getattr(builder, "retention_period_ms", None)
    if retention is None:
        return {**KV_CHANGELOG_DEFAULTS, **(topic_defaults or {}), **log_config}
    config = {**WINDOWED_CHANGELOG_DEFAULTS, **(topic_defaults or {}), **log_config}
    if "retention.ms" not in log_config:
        config["retention.ms"] = str(min(int(retention) + int(additional_retention_ms), _LONG_MAX))
    return config


def internal_topic_specs(topology: Any, plan: TopologyPlan, topic_defaults: dict[str, str] | None = None,
                         additional_retention_ms: int = DEFAULT_ADDITIONAL_RETENTION_MS) -> dict[str, InternalTopicSpec]:
    """Every repartition topic and changelog of `plan` with the partition count and configs it is created with
    (Kafka's RepartitionTopicConfig / changelog configs): start() and the group leader create from the same specs."""
    wanted: dict[str, InternalTopicSpec] = {}
    for topic, n in plan.repartition_topics.items():
        wanted[topic] = InternalTopicSpec(topic, n, repartition_topic_config(topic_defaults))
    builders = topology.store_builders()
    for sub in plan.subtopologies:
        for store, topic in sub.changelogs.items():
            if topic in plan.changelog_topics:
                config = changelog_topic_config(builders.get(store), topic_defaults, additional_retention_ms)
                wanted[topic] = InternalTopicSpec(topic, plan.changelog_topics[topic], config)
    return wanted


def ensure_internal_topics(topology: Any, plan: TopologyPlan, admin: AdminClient, replication_factor: int = -1,
                           timeout: float = 30.0, existing: dict[str, int] | None = None,
                           topic_defaults: dict[str, str] | None = None,
                           additional_retention_ms: int = DEFAULT_ADDITIONAL_RETENTION_MS) -> list[str]:
    """Create missing repartition and changelog topics with Kafka's configs at start(); returns the names created
    (make_ready: a topic another instance creates in between is ready once the metadata has it, one still being
    deleted, e.g. just after `pystreams reset`, is created again after the deletion, all within timeout s).
    existing: the cluster's topic -> partition count if the caller has just read it (plan.cluster_topics), else it
    is read here. topic_defaults: the application's `topic.`-prefixed configs (StreamsConfig.topic_configs());
    additional_retention_ms: windowstore.changelog.additional.retention.ms."""
    if existing is None:
        existing = _metadata(admin, timeout)
    wanted = internal_topic_specs(topology, plan, topic_defaults, additional_retention_ms)
    validate_internal_topics(plan, existing)
    missing = {t: spec for t, spec in wanted.items() if t not in existing}
    if not missing:
        return []
    known: list[dict[str, int]] = [existing]  # the first look is the caller's metadata: no second round trip

    def describe(topics: Collection[str]) -> tuple[dict[str, int], Collection[str]]:
        if known:
            counts = known.pop()
            return {t: counts[t] for t in topics if t in counts}, ()
        return describe_topics(admin, topics, timeout)

    created = sorted(make_ready(plan, missing, admin, describe, replication_factor=replication_factor,
                                timeout_s=timeout))
    log.info("created internal topics %s", created)
    return created


def describe_topics(admin: Any, topics: Collection[str], timeout: float) -> tuple[dict[str, int], Collection[str]]:
    """Kafka's Admin.describeTopics for makeReady: (topic -> partition count of those that exist, the others'
    errors as an UnsureTopics with their codes). By name, so a topic the principal may not describe answers
    TOPIC_AUTHORIZATION_FAILED (a Metadata request for all topics leaves it out, as if it did not exist), and
    without creating anything (the admin client's list_topics(topic) would auto-create it: librdkafka's admin
    client is a producer). A local failure (a timeout) is reported as REQUEST_TIMED_OUT: retried."""
    from confluent_kafka import TopicCollection

    from pystreams.broker.protocol import ErrorCode
    from pystreams.runtime.group.client import UnsureTopics

    names = sorted(topics)
    if not names:
        return {}, UnsureTopics()
    try:
        futures = admin.describe_topics(TopicCollection(names), request_timeout=timeout)
    except KafkaException as e:
        raise _unreachable("", e.args[0] if e.args else e) from e
    counts: dict[str, int] = {}
    codes: dict[str, int] = {}
    for topic, future in futures.items():
        try:
            counts[topic] = len(future.result(timeout).partitions)
        except KafkaException as e:
            err: Any = e.args[0] if e.args else None
            code = int(err.code()) if hasattr(err, "code") else int(ErrorCode.REQUEST_TIMED_OUT)
            if code != ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
                codes[topic] = code if code > 0 else int(ErrorCode.REQUEST_TIMED_OUT)
        except concurrent.futures.TimeoutError:
            codes[topic] = int(ErrorCode.REQUEST_TIMED_OUT)
    return counts, UnsureTopics(codes)


def input_topics(plan: TopologyPlan) -> list[str]:
    """The application's user source topics (pattern matches included): what `pystreams reset --input-topics`
    takes."""
    return sorted(t for t in plan.topic_partitions if t not in plan.repartition_topics)


def invalid_partitions_message(plan: TopologyPlan, topic: str, expected: int, actual: int) -> str:
    """Kafka's InternalTopicManager text for an internal topic with the wrong partition count, naming our reset
    command (Kafka's names org.apache.kafka.tools.StreamsResetter)."""
    return (f"Existing internal topic {topic} has invalid partitions: expected: {expected}; actual: {actual}; "
            f"reset the application with `pystreams reset --application-id {plan.application_id} --input-topics "
            f"{','.join(input_topics(plan))}` (Kafka's StreamsResetter) or delete the topic")


def validate_internal_topics(plan: TopologyPlan, existing: dict[str, int]) -> None:
    """Kafka's InternalTopicManager.validateTopics: every repartition topic and changelog of the plan that exists
    must have the partition count the plan needs (a source topic that grew makes its sub-topology's changelogs,
    and the repartition topics it feeds, too small: its state is partitioned by the old count). Raises
    InternalTopicError with Kafka's text; missing topics are left to ensure_internal_topics."""
    wanted = {**plan.repartition_topics, **plan.changelog_topics}
    for topic, n in sorted(wanted.items()):
        if topic in existing and existing[topic] != n:
            raise InternalTopicError(invalid_partitions_message(plan, topic, n, existing[topic]))


def adopt_plan(plan: TopologyPlan, new: TopologyPlan) -> bool:
    """Make `plan` (the object start() made, shared by the client, its threads and the assignor) take the
    partition counts of `new`, a plan of the same topology from newer metadata; True when something changed.
    Whole dicts are swapped (readers on other threads see the old or the new one, never a half-updated one)."""
    changed = (plan.topic_partitions != new.topic_partitions
               or [s.partitions for s in plan.subtopologies] != [s.partitions for s in new.subtopologies])
    if not changed:
        return False
    by_id = {s.id: s for s in new.subtopologies}
    for sub in plan.subtopologies:
        if sub.id in by_id:
            sub.partitions = by_id[sub.id].partitions
    plan.topic_partitions = dict(new.topic_partitions)
    plan.repartition_topics = dict(new.repartition_topics)
    plan.changelog_topics = dict(new.changelog_topics)
    return True


#: describe(topics) -> (topic -> partition count of those that exist, topics answered with a retriable error)
Describe = Callable[[Collection[str]], "tuple[dict[str, int], Collection[str]]"]


def make_ready(plan: TopologyPlan, specs: Mapping[str, InternalTopicSpec], admin: Any, describe: Describe, *,
               replication_factor: int = -1, timeout_s: float = 150.0, retry_backoff_s: float = 0.1,
               clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> set[str]:
    """Kafka's InternalTopicManager.makeReady, as the group leader runs it at every rebalance: until every topic of
    `specs` exists with its partition count, create the missing ones; returns the names created. An existing topic
    with another count: InternalTopicError (Kafka's "invalid partitions"); TOPIC_ALREADY_EXISTS (still being
    deleted), a timed-out request or a retriable metadata error (LEADER_NOT_AVAILABLE): tried again after
    retry_backoff_s; any other creation error: InternalTopicError "Could not create topic X."; not ready within
    timeout_s (Kafka: the main consumer's max.poll.interval.ms / 2): InternalTopicTimeoutError. A created topic
    counts once the metadata has it (Apache Kafka answers CreateTopics before its metadata cache knows it)."""
    deadline = clock() + timeout_s
    not_ready, created, awaiting = set(specs), set[str](), set[str]()
    while True:
        counts, unsure = describe(sorted(not_ready))
        _raise_refused(plan, not_ready, getattr(unsure, "codes", None) or {})
        for topic in sorted(not_ready & set(counts)):
            if counts[topic] != specs[topic].partitions:
                raise InternalTopicError(invalid_partitions_message(plan, topic, specs[topic].partitions,
                                                                    counts[topic]))
        not_ready -= set(counts)
        if not not_ready:
            return created
        wanted = [NewTopic(t, num_partitions=specs[t].partitions, replication_factor=replication_factor,
                           config=specs[t].config) for t in sorted(not_ready - awaiting - set(unsure))]
        left = max(deadline - clock(), 0.001)
        just_created = False
        if wanted:
            futures = admin.create_topics(wanted, operation_timeout=left, request_timeout=left)
            for topic, future in sorted(futures.items()):
                if _created(plan, topic, future, left):
                    created.add(topic)
                    awaiting.add(topic)
                    just_created = True
        if just_created and not not_ready - awaiting and clock() < deadline:
            continue  # look at once: our broker's metadata has a created topic already (a fresh app's start-up)
        if clock() >= deadline:
            message = (f"Could not create topics within {int(timeout_s * 1000)} milliseconds. This can happen if "
                       "the Kafka cluster is temporarily not available.")
            log.error("%s Internal topics not ready: %s", message, sorted(not_ready))
            raise InternalTopicTimeoutError(message)
        if not_ready - awaiting:
            log.info("Topics %s could not be made ready. Will retry in %d milliseconds. Remaining time in "
                     "milliseconds: %d", sorted(not_ready - awaiting), retry_backoff_s * 1000,
                     (deadline - clock()) * 1000)
        sleep(retry_backoff_s if not_ready - awaiting else min(retry_backoff_s, 0.02))


def _created(plan: TopologyPlan, topic: str, future: Any, timeout_s: float) -> bool:
    """Whether CreateTopics made `topic`; False for what makeReady tries again, InternalTopicError for the rest."""
    try:
        future.result(timeout_s)
        return True
    except concurrent.futures.TimeoutError:
        log.error("Creating topic %s timed out.", topic)
        return False
    except KafkaException as e:
        err = e.args[0] if e.args else e
        name = err.name() if hasattr(err, "name") else ""
        if name == "TOPIC_ALREADY_EXISTS":
            log.info("Could not create topic %s. Topic is probably marked for deletion (number of partitions is "
                     "unknown). Will retry to create this topic (to let broker finish async delete operation "
                     "first). Error message was: %s", topic, err)
            return False
        if name in ("REQUEST_TIMED_OUT", "_TIMED_OUT"):
            log.error("Creating topic %s timed out. Error message was: %s", topic, err)
            return False
        log.error("Unexpected error during topic creation for %s. Error message was: %s", topic, err)
        raise InternalTopicError(f"Could not create topic {topic}. {err}{_advice(plan, name)}") from e


#: Kafka's authorization errors: the application's principal may not describe or create its internal topics
_AUTHORIZATION_ERRORS = frozenset({"TOPIC_AUTHORIZATION_FAILED", "CLUSTER_AUTHORIZATION_FAILED"})


def _advice(plan: TopologyPlan, error_name: str) -> str:
    """What to do about an error that stops the internal topics from being made ready."""
    if error_name not in _AUTHORIZATION_ERRORS:
        return ""
    app = plan.application_id
    return (f". The application's principal is not authorized to describe or create its internal topics: grant it "
            f"DESCRIBE, CREATE, READ and WRITE on the topics prefixed '{app}-' (e.g. kafka-acls --add "
            f"--allow-principal User:<name> --operation Describe --operation Create --operation Read --operation "
            f"Write --topic {app}- --resource-pattern-type prefixed), or have an administrator create the internal "
            f"topics ({', '.join(sorted({**plan.repartition_topics, **plan.changelog_topics}))}) before starting.")


def _raise_refused(plan: TopologyPlan, topics: Collection[str], codes: Mapping[str, int]) -> None:
    """Kafka's InternalTopicManager.getTopicPartitionInfo: describing a topic fails for good (any error but an
    unknown topic, LEADER_NOT_AVAILABLE or a timeout: TOPIC_AUTHORIZATION_FAILED, ...) -> "Could not create topic
    X." at once, not a wait for it until the timeout and a rejoin that waits again."""
    from pystreams.broker.protocol import ErrorCode

    for topic in sorted(topics):
        code = codes.get(topic)
        if code is None:
            continue
        try:
            error = ErrorCode(code)
        except ValueError:
            name, retriable = f"error code {code}", False
        else:
            name, retriable = error.name, error.retriable
        if retriable:
            continue
        log.error("Unexpected error during topic description for %s. Error message was: %s", topic, name)
        raise InternalTopicError(f"Could not create topic {topic}. Describing it failed: {name}"
                                 f"{_advice(plan, name)}")
