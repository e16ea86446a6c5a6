"""StreamsMember: a stream thread's group member with Kafka Streams' protocol on top (protocol name "stream"):
what the member tells the leader (SubscriptionInfo: process id, application.server, offset sums of local task
state, running standbys, shutdown request) and what the leader does (partition counts, changelog end offsets,
StreamsPartitionAssignor.assign, one AssignmentInfo per member). The thread sees Rebalance + AssignmentInfo."""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

from pystreams.errors import BrokerUnreachableError, PystreamsError
from pystreams.runtime.assignment import (
    ASSIGNMENT_ERROR,
    INCOMPLETE_SOURCE_TOPIC_METADATA,
    AssignmentInfo,
    MemberSubscription,
    SubscriptionInfo,
    assignor_for,
    task_offset_sums,
)
from pystreams.runtime.assignment.assignor import client_tags, error_assignment
from pystreams.runtime.assignment.codec import AssignmentError
from pystreams.runtime.assignment.info import LegacyUserDataError, MemberAssignment
from pystreams.runtime.assignment.kafka_info import LATEST_SUPPORTED_VERSION, next_subscription_version
from pystreams.runtime.group.client import GroupClient, TopicPartition
from pystreams.runtime.group.errors import BrokerConnectionError
from pystreams.runtime.group.membership import (
    GroupMember,
    GroupMembershipOperation,
    MemberConfig,
    MemberMetadata,
    Rebalance,
)
from pystreams.runtime.topics import (
    InternalTopicTimeoutError,
    MissingSourceTopicError,
    TopologyPlan,
    adopt_plan,
    internal_topic_specs,
    make_ready,
    plan_from_metadata,
    validate_internal_topics,
)

log = logging.getLogger("pystreams.runtime.group")


def thread_group_instance_id(base: str | None, index: int | None) -> str | None:
    """The static member id of one stream thread: `<group.instance.id>-<thread index>`, as Kafka's StreamThread
    gives each thread's consumer, so the threads of one client do not fence each other (FENCED_INSTANCE_ID); an
    index freed by a removed thread is given out again, which keeps a thread's static id stable across restarts.
    No group.instance.id: dynamic membership (None). A thread without an index (a bare stand-in): `base`."""
    if not base:
        return None
    return base if index is None else f"{base}-{index}"


class StreamsMember:
    """Owns the GroupMember of one StreamThread; `thread` gives plan, config, streams, tasks and standbys."""

    def __init__(self, thread: Any, clients: tuple[Any, Any] | None = None) -> None:
        self.thread = thread
        cfg = thread.config
        # the one KafkaStreams.start() built (config errors surfaced there); built here for a bare thread
        self.assignor = getattr(thread.streams, "assignor", None) or assignor_for(thread.plan, cfg)
        self._client_tags = client_tags(cfg)  # client.tag.* (KIP-708), in every subscription
        #: Kafka's usedSubscriptionMetadataVersion: the latest until an assignment says the group needs an older
        #: one (version probing, _follow_group_version)
        self.subscription_version = LATEST_SUPPORTED_VERSION
        if clients is None:
            # no "@application.server" in the client.id: the endpoints travel in SubscriptionInfo/AssignmentInfo
            base = f"{thread.name}-consumer"
            # the main consumer's security.protocol / sasl.* / ssl.* keys (StreamsConfig; a test's stand-in has none)
            security = cfg.group_security() if hasattr(cfg, "group_security") else None
            clients = (GroupClient(cfg.bootstrap_servers, cfg.application_id, base, security=security),
                       GroupClient(cfg.bootstrap_servers, cfg.application_id, f"{base}-heartbeat", security=security))
        self.client: Any = clients[0]
        heartbeat_client = clients[1]
        member_kwargs = cfg.group_member_config()
        member_kwargs["group_instance_id"] = thread_group_instance_id(member_kwargs.get("group_instance_id"),
                                                                      getattr(thread, "index", None))
        member_cfg = MemberConfig(cfg.application_id, **member_kwargs)
        self.member = GroupMember(member_cfg, self.client, heartbeat_client, self.topics, self.user_data,
                                  self.leader_assign)
        self._shutdown_sent = 0
        wanted = thread.plan.subscription()
        self._plain = [t for t in wanted if not t.startswith("^")]
        self._patterns = [re.compile(t[1:]) for t in wanted if t.startswith("^")]
        self._subscribed: list[str] | None = None
        #: the subscribed topics' partition counts as last seen (start()'s plan first); a change means a rejoin
        self._seen: dict[str, int] = dict(thread.plan.topic_partitions)
        self._adopt_pending = False  # seen counts differ from the plan: adopt them after the next good assignment
        # the consumer's metadata.max.age.ms: topic metadata is read again that often (at most) and the member
        # rejoins when it changed (Kafka's ConsumerCoordinator): new topics for a pattern, a source topic's new
        # partition count, a deleted source topic
        # (the main consumer's view: `main.consumer.` over `consumer.` over the unprefixed key; Kafka's 5 min default)
        self._refresh_s = int(cfg.get("main.consumer.metadata.max.age.ms") or cfg.get("consumer.metadata.max.age.ms")
                              or cfg.get("metadata.max.age.ms") or 300_000) / 1000.0
        self._next_refresh = time.monotonic() + self._refresh_s

    # ------------------------------------------------------------------ member side
    def topics(self) -> list[str]:
        """The subscription: source topics, with `^regex` patterns resolved against the cluster's topics."""
        self._subscribed = self._resolve()
        return self._subscribed

    def _resolve(self, counts: Mapping[str, int] | None = None) -> list[str]:
        topics = list(self._plain)
        if self._patterns:
            names = self.client.topic_names() if counts is None else list(counts)
            topics += [t for t in names if t not in topics and any(p.fullmatch(t) for p in self._patterns)]
        return sorted(topics)

    def _maybe_refresh_metadata(self) -> None:
        """Once per metadata.max.age.ms (one Metadata request): rejoin when the subscription's topics changed (a
        pattern matches new ones), a subscribed topic's partition count changed, or one is gone. The leader then
        plans again (leader_assign): new tasks for new partitions, or an error for every member."""
        now = time.monotonic()
        if self._subscribed is None or now < self._next_refresh:
            return
        self._next_refresh = now + self._refresh_s
        try:
            if self._patterns:
                counts = self.client.all_partition_counts()
            else:
                counts = self.client.partition_counts(self._plain)
            counts = self._with_unsure(counts, self._seen)
            current = self._resolve(counts)
        except PystreamsError as e:  # retried at the next refresh
            log.info("group %s: refreshing the source topics' metadata: %s", self.thread.config.application_id, e)
            return
        reasons = []
        if current != self._subscribed:
            reasons.append(f"the pattern subscription's topics changed: {sorted(set(current) ^ set(self._subscribed))}")
        changed = {t: counts.get(t) for t in sorted(set(current) | set(self._subscribed))
                   if counts.get(t) != self._seen.get(t)}
        if changed:
            reasons.append("the subscribed topics' metadata changed: " + ", ".join(
                f"{t} {'deleted' if n is None else f'has {n} partitions'} (was {self._seen.get(t, 'unknown')})"
                for t, n in changed.items()))
            for t, n in changed.items():
                if n is None:
                    self._seen.pop(t, None)
                else:
                    self._seen[t] = n
            self._adopt_pending = True
        if reasons:
            self.member.request_rejoin("; ".join(reasons))

    def _with_unsure(self, counts: dict[str, int], known: Mapping[str, int]) -> dict[str, int]:
        """A topic the Metadata answered with a retriable error (LEADER_NOT_AVAILABLE while a broker restarts, ...)
        exists: it keeps its known count instead of looking deleted (only UNKNOWN_TOPIC_OR_PARTITION is gone)."""
        unsure = getattr(self.client, "unsure_topics", None) or ()
        kept = {t: known[t] for t in unsure if t in known and t not in counts}
        return {**counts, **kept} if kept else counts

    # kept for callers of the pattern-only refresh: it is the metadata refresh now
    _maybe_refresh_patterns = _maybe_refresh_metadata

    def _adopt_seen(self) -> None:
        """After a good assignment: plan with the counts this member saw, so its client's plan (interactive
        queries' key -> partition, a later leadership) has the new partitions the leader assigned."""
        self._adopt_pending = False
        topology = getattr(self.thread, "topology", None)
        plan = self.thread.plan
        if topology is None:
            return
        try:
            adopt_plan(plan, plan_from_metadata(topology, plan.application_id, {**plan.topic_partitions,
                                                                                 **self._seen}))
        except PystreamsError as e:  # the leader validates; this member's view is only informational
            log.debug("group %s: planning with the new partition counts: %s", plan.application_id, e)

    def user_data(self) -> bytes:
        """SubscriptionInfo of this member (read at every join, so it reflects the state on disk now)."""
        thread, cfg = self.thread, self.thread.config
        standby = getattr(thread, "_standby", None)
        running_standbys = getattr(standby, "running_standbys", None)
        self._shutdown_sent = int(getattr(thread.streams, "shutdown_requested", 0) or 0)
        info = SubscriptionInfo(
            process_id=thread.streams.process_id,
            user_endpoint=cfg.application_server or None,
            task_offset_sums=task_offset_sums(cfg.state_dir, cfg.application_id, list(thread.tasks)),
            prev_standby=frozenset(running_standbys()) if callable(running_standbys) else frozenset(),
            error_code=self._shutdown_sent,
            client_tags=self._client_tags,
            version=self.subscription_version)
        return info.encode()

    # ------------------------------------------------------------------ leader side
    def leader_assign(self, members: Sequence[MemberMetadata]) -> dict[str, tuple[list[TopicPartition], bytes]]:
        """Kafka Streams' leader step: decode subscriptions, read partition counts and changelog end offsets,
        run the assignor, encode every member's AssignmentInfo."""
        subscriptions: dict[str, MemberSubscription] = {}
        for m in members:
            try:
                info = SubscriptionInfo.decode(m.user_data or b"")
            except LegacyUserDataError as e:
                raise LegacyUserDataError(f"group member {m.member_id}: {e}") from None
            except AssignmentError as e:
                raise AssignmentError(f"group member {m.member_id} is not a Kafka Streams member of this "
                                      f"application ({e}); every member of group "
                                      f"{self.thread.config.application_id} must be a pystreams or Kafka Streams "
                                      "instance of it (a plain consumer must use another group.id)") from None
            subscriptions[m.member_id] = MemberSubscription(list(m.topics), info, list(m.owned_partitions))
            if log.isEnabledFor(logging.DEBUG):
                log.debug("group %s leader: member %s of client %s owns %s, task offset sums %s, standbys %s%s",
                          self.thread.config.application_id, m.member_id, info.process_id,
                          sorted(m.owned_partitions), {str(t): s for t, s in sorted(info.task_offset_sums.items())},
                          sorted(str(t) for t in info.prev_standby),
                          f", error code {info.error_code}" if info.error_code else "")
        topics = set(self.topics()) | {t for m in members for t in m.topics}
        plan = self.thread.plan
        topology = getattr(self.thread, "topology", None)
        internal = set(plan.repartition_topics) | set(plan.changelog_topics) if topology is not None else set()
        metadata = self._with_unsure(self.client.partition_counts(topics | internal), plan.topic_partitions)
        if topology is not None:
            failed = self._plan_again(topology, metadata, subscriptions)
            if failed is not None:
                return {m: (list(a.partitions), a.info.encode()) for m, a in failed.items()}
        counts = {t: n for t, n in metadata.items() if t in topics}
        changelogs = self.assignor.changelog_partitions(counts)
        ends = self.client.end_offsets([tp for tps in changelogs.values() for tp in tps])
        result = self.assignor.assign(counts, subscriptions, ends)
        log.info("group %s leader: assigned %d members: %s", self.thread.config.application_id, len(result),
                 {m: len(a.info.active_tasks) for m, a in result.items()})
        if log.isEnabledFor(logging.DEBUG):
            for m, a in sorted(result.items()):
                log.debug("group %s leader: member %s gets actives %s, standbys %s, follow-up %d ms",
                          self.thread.config.application_id, m, sorted(str(t) for t in a.info.active_tasks),
                          sorted(str(t) for t in a.info.standby_tasks), a.info.followup_rebalance_ms)
        return {m: (list(a.partitions), a.info.encode()) for m, a in result.items()}

    def _plan_again(self, topology: Any, metadata: dict[str, int], subscriptions: Mapping[str, MemberSubscription]
                    ) -> dict[str, MemberAssignment] | None:
        """Kafka's assignor makes tasks and sizes internal topics from each rebalance's metadata: plan with it (a
        source topic's new partitions become tasks) and validate the internal topics (InternalTopicManager). A
        missing source topic: INCOMPLETE_SOURCE_TOPIC_METADATA for every member (KIP-662); an internal topic with
        the wrong partition count (or any other planning failure): ASSIGNMENT_ERROR with its text, every member's
        stream thread then fails with it. None when the plan holds (the shared plan takes the new counts)."""
        plan = self.thread.plan
        app = plan.application_id
        missing = sorted({t for sub in plan.subtopologies for t in sub.source_topics
                          if t not in plan.repartition_topics and t not in metadata})
        if missing:
            log.error("group %s leader: Missing source topics %s; returning an error assignment "
                      "(INCOMPLETE_SOURCE_TOPIC_METADATA)", app, missing)
            return error_assignment(subscriptions, INCOMPLETE_SOURCE_TOPIC_METADATA,
                                    f"missing source topics: {', '.join(missing)}")
        try:
            new = plan_from_metadata(topology, app, metadata)
            validate_internal_topics(new, metadata)
            self._make_internal_topics_ready(topology, new, metadata)
        except (InternalTopicTimeoutError, BrokerUnreachableError, BrokerConnectionError):
            # retriable (Kafka's TimeoutException from makeReady, a broker away): the leader joins again (join_round)
            raise
        except MissingSourceTopicError as e:
            log.error("group %s leader: %s; returning an error assignment (INCOMPLETE_SOURCE_TOPIC_METADATA)", app, e)
            return error_assignment(subscriptions, INCOMPLETE_SOURCE_TOPIC_METADATA, str(e))
        except PystreamsError as e:
            log.error("group %s leader: %s; returning an error assignment (ASSIGNMENT_ERROR)", app, e)
            return error_assignment(subscriptions, ASSIGNMENT_ERROR, str(e))
        before = {s.id: s.partitions for s in plan.subtopologies}
        if adopt_plan(plan, new):
            log.info("group %s leader: planned with the new metadata: sub-topology tasks %s (were %s)", app,
                     {s.id: s.partitions for s in plan.subtopologies}, before)
        self._seen.update({t: n for t, n in metadata.items() if t in plan.topic_partitions})
        return None

    def _make_internal_topics_ready(self, topology: Any, plan: TopologyPlan, metadata: dict[str, int]) -> None:
        """Kafka's leader creates missing internal topics at every rebalance (StreamsPartitionAssignor.assign ->
        prepareRepartitionTopics / ChangelogTopics.setup -> InternalTopicManager.makeReady), not only at start: a
        repartition topic or changelog deleted while the application runs comes back empty, with its partition
        count and configs; `metadata` then has it, so its partitions are assigned. Bounded by the main consumer's
        max.poll.interval.ms / 2 (InternalTopicTimeoutError); a creation error is InternalTopicError."""
        missing = sorted(t for t in {**plan.repartition_topics, **plan.changelog_topics} if t not in metadata)
        if not missing:
            return
        cfg = self.thread.config
        admin = getattr(self.thread.streams, "admin", None)  # a local reference: close() may drop the client's
        if admin is None:
            log.warning("group %s leader: internal topics %s are missing and this client has no admin client (it is "
                        "closing): not created", plan.application_id, missing)
            return
        log.info("group %s leader: internal topics %s are missing; creating them", plan.application_id, missing)
        specs = internal_topic_specs(topology, plan, cfg.topic_configs(),
                                     cfg.windowstore_changelog_additional_retention_ms)
        client = self.client

        def describe(topics: Any) -> tuple[dict[str, int], Any]:
            return client.partition_counts(topics), getattr(client, "unsure_topics", None) or ()

        created = make_ready(plan, {t: specs[t] for t in missing}, admin, describe,
                             replication_factor=cfg.replication_factor,
                             timeout_s=self.member.config.rebalance_timeout_ms / 2000.0,
                             retry_backoff_s=int(cfg.get("retry.backoff.ms") or 100) / 1000.0)
        log.info("group %s leader: created internal topics %s", plan.application_id, sorted(created))
        metadata.update({t: specs[t].partitions for t in missing})

    # ------------------------------------------------------------------ thread API
    def poll(self) -> tuple[Rebalance, AssignmentInfo | None] | None:
        """(what changed, the AssignmentInfo received) after a join/sync or a loss; None when nothing changed."""
        requested = int(getattr(self.thread.streams, "shutdown_requested", 0) or 0)
        if requested and requested != self._shutdown_sent:
            self.member.request_rejoin("this client requests the application's shutdown")
        self._maybe_refresh_metadata()
        rebalance = self.member.poll()
        if rebalance is None:
            return None
        info = None
        if rebalance.generation_id >= 0:
            # the assignment's partitions zip with the active task list (Kafka's AssignmentInfo, any leader)
            info = (AssignmentInfo.decode(rebalance.user_data, rebalance.assigned) if rebalance.user_data
                    else AssignmentInfo())
            if self._adopt_pending and not info.error_code:
                self._adopt_seen()
            if rebalance.user_data and not info.error_code:
                self._follow_group_version(info)
            if info.followup_rebalance_ms == 0:  # Kafka's maybeScheduleFollowupRebalance, encoded 0
                self.member.request_rejoin("immediate follow-up rebalance requested by the leader, for new tasks to "
                                           "be safely revoked from their current owner")
            elif info.followup_rebalance_ms > 0:
                self.member.request_rejoin("probing rebalance", delay_ms=info.followup_rebalance_ms)
        return rebalance, info

    def _follow_group_version(self, info: AssignmentInfo) -> None:
        """Kafka's version probing (StreamsPartitionAssignor.onAssignment): an assignment older than the subscription
        (a leader or member of an older Kafka Streams / pystreams in the group) makes this member subscribe with the
        group's commonly supported version, and a commonly supported version above it (the older one is gone) makes
        it upgrade; either way it rejoins at once. AssignmentError for an assignment newer than the subscription."""
        used = self.subscription_version
        version, rejoin = next_subscription_version(used, info.version, info.commonly_supported_version)
        if not rejoin:
            return
        self.subscription_version = version
        change = f"{'downgrades' if version < used else 'upgrades' if version > used else 'keeps'} its subscription " \
                 f"version {used} -> {version}"
        log.info("group %s: sent a version %d subscription, got a version %d assignment (group's commonly supported "
                 "version %d): this member %s", self.thread.config.application_id, used, info.version,
                 info.commonly_supported_version, change)
        self.member.request_rejoin(f"version probing: {change}")

    def commit(self, offsets: Mapping[TopicPartition, int], metadata: Mapping[TopicPartition, str] | None = None
               ) -> None:
        self.member.commit(offsets, metadata)

    def committed(self, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        return self.member.committed(partitions)

    def committed_with_metadata(self, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, tuple[int, str]]:
        return self.member.committed_with_metadata(partitions)

    def group_metadata(self) -> bytes:
        return self.member.group_metadata()

    def request_rejoin(self, reason: str) -> None:
        self.member.request_rejoin(reason)

    def wakeup(self) -> None:
        """From another thread (shutdown): end a JoinGroup/SyncGroup the stream thread is blocked in."""
        self.member.wakeup()

    def close(self, leave: bool | GroupMembershipOperation = True) -> None:
        """Close the member: `leave` is what the client asked for (KafkaStreams.close's CloseOptions, LEAVE_GROUP from
        remove_stream_thread; True: the consumer's DEFAULT rule). A thread that died of an exception leaves the
        group, a static member too, as Kafka's StreamThread.run sets LEAVE_GROUP in its catch: its tasks go to the
        other members now instead of after session.timeout.ms (a replacement thread joins under its own index)."""
        if getattr(self.thread, "error", None) is not None:
            leave = GroupMembershipOperation.LEAVE_GROUP
        self.member.close(leave)
