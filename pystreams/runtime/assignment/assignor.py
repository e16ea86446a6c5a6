"""StreamsPartitionAssignor: the group leader's assignment for a Streams application (Kafka's
StreamsPartitionAssignor, protocol name "stream"). Pure and deterministic: the same subscriptions, partition
counts and changelog end offsets give the same assignment on any leader.

Members are grouped into clients by process_id (a KafkaStreams instance and all its stream threads); tasks are
placed per client, balanced per thread (placement.py: a client's capacity is its member count, as in Kafka), and
then spread over the client's members evenly, sticky to the member that ran them.
Cooperative: a task whose input partitions another member still owns is left out of both members' assignments
this round; the owner revokes it and rejoins, the member it goes to is asked to rejoin at once (follow-up 0 ms,
as Kafka's), and the next round hands it over (KIP-429's two phases).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pystreams.errors import ConfigError, PystreamsError
from pystreams.processor.task_id import TaskId
from pystreams.runtime.assignment.codec import AssignmentError
from pystreams.runtime.assignment.info import (
    ASSIGNMENT_ERROR,
    INCOMPLETE_SOURCE_TOPIC_METADATA,
    LATEST_OFFSET,
    SHUTDOWN_REQUESTED,
    AssignmentInfo,
    MemberAssignment,
    MemberSubscription,
    TopicPartition,
)
from pystreams.runtime.assignment.kafka_info import assignment_versions
from pystreams.runtime.assignment.placement import ClientState, Quota, place
from pystreams.runtime.assignment.topology_tasks import TaskSpec, plan_tasks
from pystreams.runtime.topics import MissingSourceTopicError, TopologyPlan


class TaskAssignmentError(PystreamsError):
    """Kafka's TaskAssignmentException: the group leader could not assign (ASSIGNMENT_ERROR); the message is the
    leader's (e.g. an internal topic with the wrong partition count)."""


#: Kafka's StreamsRebalanceListener text for INCOMPLETE_SOURCE_TOPIC_METADATA
MISSING_SOURCE_TOPICS = "One or more source topics were missing during rebalance"


def error_assignment(members: Mapping[str, object], code: int, message: str = "") -> dict[str, MemberAssignment]:
    """Kafka's errorAssignment: every member gets no partitions and the error code (and here the leader's text)."""
    info = AssignmentInfo(error_code=code, error_message=message)
    return {member: MemberAssignment([], info) for member in sorted(members)}


def assignment_failure(info: AssignmentInfo) -> PystreamsError | None:
    """What a member raises for an error assignment, as Kafka's StreamsRebalanceListener.onPartitionsAssigned:
    MissingSourceTopicException / TaskAssignmentException (the stream thread dies; the uncaught-exception handler
    decides). None for no error and for SHUTDOWN_REQUESTED (the client handles that one itself)."""
    detail = f" ({info.error_message})" if info.error_message else ""
    if info.error_code == INCOMPLETE_SOURCE_TOPIC_METADATA:
        return MissingSourceTopicError(MISSING_SOURCE_TOPICS + detail)
    if info.error_code == ASSIGNMENT_ERROR:
        return TaskAssignmentError(info.error_message or "Hit an unexpected exception during task assignment "
                                   "phase of rebalance (see the group leader's log)")
    return None


class StreamsPartitionAssignor:
    """Assigns a Streams application's tasks to the members of its consumer group (run by the group leader)."""

    name = "stream"

    def __init__(self, plan: TopologyPlan, num_standby_replicas: int, acceptable_recovery_lag: int = 10_000,
                 max_warmup_replicas: int = 2, probing_rebalance_interval_ms: int = 600_000,
                 rack_aware_assignment_tags: Sequence[str] = ()) -> None:
        for key, value, minimum in (("num.standby.replicas", num_standby_replicas, 0),
                                    ("acceptable.recovery.lag", acceptable_recovery_lag, 0),
                                    ("max.warmup.replicas", max_warmup_replicas, 1),
                                    ("probing.rebalance.interval.ms", probing_rebalance_interval_ms, 60_000)):
            if not isinstance(value, int) or value < minimum:
                raise ConfigError(f"{key} must be an integer >= {minimum}, got {value!r}")
        self.plan = plan
        self.num_standby_replicas = num_standby_replicas
        self.acceptable_recovery_lag = acceptable_recovery_lag
        self.max_warmup_replicas = max_warmup_replicas
        self.probing_rebalance_interval_ms = probing_rebalance_interval_ms
        #: KIP-708: the client tag keys standbys are spread over (Kafka's ClientTagAwareStandbyTaskAssignor)
        self.rack_aware_assignment_tags = tuple(rack_aware_assignment_tags)

    def changelog_partitions(self, partition_counts: Mapping[str, int]) -> dict[TaskId, list[TopicPartition]]:
        """Changelog partitions per stateful task: the leader reads their end offsets before assign()."""
        return {t: list(spec.changelogs) for t, spec in plan_tasks(self.plan, partition_counts).items()
                if spec.stateful}

    def assign(self, partition_counts: Mapping[str, int], members: Mapping[str, MemberSubscription],
               changelog_end_offsets: Mapping[TopicPartition, int]) -> dict[str, MemberAssignment]:
        """member_id -> its assignment (see the module docstring for the rules)."""
        if any(m.info.error_code == SHUTDOWN_REQUESTED for m in members.values()):
            return error_assignment(members, SHUTDOWN_REQUESTED)
        if not members:
            return {}
        tasks = plan_tasks(self.plan, partition_counts)
        # Kafka's minReceivedMetadataVersion / minSupportedMetadataVersion: an older member makes every member's
        # assignment that version (version probing while a rolling upgrade runs)
        version, common = assignment_versions((m.info.version, m.info.latest_supported_version)
                                              for m in members.values())
        clients, client_members = self._clients(tasks, members, changelog_end_offsets)
        placement = place(tasks, clients, self.num_standby_replicas, self.acceptable_recovery_lag,
                          self.max_warmup_replicas, self.rack_aware_assignment_tags)
        followup = self.probing_rebalance_interval_ms if placement.warmups else -1
        active_hosts: dict[str, list[TopicPartition]] = {}
        standby_hosts: dict[str, list[TopicPartition]] = {}
        for c in clients:
            endpoint = next((members[m].info.user_endpoint for m in client_members[c.process_id]
                             if members[m].info.user_endpoint), None)
            if endpoint:
                active_hosts.setdefault(endpoint, []).extend(tp for t in sorted(c.active) for tp in tasks[t].inputs)
                standby_hosts.setdefault(endpoint, []).extend(tp for t in sorted(c.standby)
                                                              for tp in tasks[t].inputs)
        owner_of = _owners(members)
        out: dict[str, MemberAssignment] = {}
        for c in clients:
            actives, standbys = _spread(c, client_members[c.process_id], members, tasks)
            for member in client_members[c.process_id]:
                withheld = {t for t in actives[member]
                            if any(owner_of.get(tp, member) != member for tp in tasks[t].inputs)}
                mine = {t: list(tasks[t].inputs) for t in sorted(actives[member] - withheld)}
                # Kafka's buildStandbyTaskMap: a withheld stateful task this client has state for stays (or becomes)
                # a standby on the member that gets it next round, so its store is kept warm, not closed
                keep = {t for t in withheld if tasks[t].stateful and t in c.prev_standby | c.local_state}
                # a standby's partitions are its task's input partitions, as Kafka's (its state dir and changelogs
                # follow from the task id)
                info = AssignmentInfo(mine, {t: list(tasks[t].inputs) for t in sorted(standbys[member] | keep)},
                                      active_hosts, standby_hosts, 0,
                                      # Kafka's "followup rebalance be scheduled immediately ... due to tasks
                                      # changing ownership": the member a task was withheld from rejoins at once
                                      # (the owner rejoins having revoked it), no heartbeat of it needed
                                      0 if withheld else followup, version=version,
                                      commonly_supported_version=common)
                out[member] = MemberAssignment(sorted(tp for tps in mine.values() for tp in tps), info)
        return out

    def _clients(self, tasks: dict[TaskId, TaskSpec], members: Mapping[str, MemberSubscription],
                 end_offsets: Mapping[TopicPartition, int]) -> tuple[list[ClientState], dict[str, list[str]]]:
        client_members: dict[str, list[str]] = {}
        for member in sorted(members):
            client_members.setdefault(members[member].info.process_id, []).append(member)
        task_of = {tp: t for t, spec in tasks.items() for tp in spec.inputs}
        clients = []
        for process_id in sorted(client_members):
            c = ClientState(process_id, len(client_members[process_id]))
            sums: dict[TaskId, int] = {}
            for member in client_members[process_id]:
                sub = members[member]
                c.tags = c.tags or dict(sub.info.client_tags)  # one client's members send the same tags
                for tp in sub.owned_partitions:
                    if tp in task_of:
                        c.prev_active.add(task_of[tp])
                for t, s in sub.info.task_offset_sums.items():
                    if s == LATEST_OFFSET:
                        c.prev_active.add(t)
                    else:
                        c.local_state.add(t)
                    if t in tasks:
                        sums[t] = LATEST_OFFSET if LATEST_OFFSET in (s, sums.get(t)) else max(s, sums.get(t, s))
                c.prev_standby |= sub.info.prev_standby
            c.prev_active &= set(tasks)
            for t, spec in tasks.items():
                if spec.stateful:
                    end = sum(max(0, end_offsets.get(tp, 0)) for tp in spec.changelogs)
                    offset_sum = LATEST_OFFSET if t in c.prev_active else sums.get(t)
                    c.lags[t] = _lag(offset_sum, end)
            clients.append(c)
        return clients, client_members


def _lag(offset_sum: int | None, end_sum: int) -> int:
    """Records to restore: 0 when running; the whole changelog when there is no state or it looks corrupt
    (an offset sum past the end, as Kafka's ClientState treats it)."""
    if offset_sum == LATEST_OFFSET:
        return 0
    if offset_sum is None or offset_sum < 0 or offset_sum > end_sum:
        return end_sum
    return end_sum - offset_sum


def _owners(members: Mapping[str, MemberSubscription]) -> dict[TopicPartition, str]:
    """Which member owns each partition now (cooperative); the first member id wins a stale double claim."""
    owners: dict[TopicPartition, str] = {}
    for member in sorted(members):
        for tp in members[member].owned_partitions:
            owners.setdefault(tuple(tp), member)  # type: ignore[arg-type]
    return owners


def _spread(c: ClientState, member_ids: list[str], members: Mapping[str, MemberSubscription],
            tasks: dict[TaskId, TaskSpec]) -> tuple[dict[str, set[TaskId]], dict[str, set[TaskId]]]:
    """A client's actives and standbys over its members (threads), counts differing by at most one: an active
    stays with the member that ran it (else goes to the one keeping its standby: no lock hand-over between
    threads), a standby with the member that kept it; the rest go to the least loaded member."""
    owned = {m: {tuple(tp) for tp in members[m].owned_partitions} for m in member_ids}

    def ran(member: str, t: TaskId) -> bool:
        return (members[member].info.task_offset_sums.get(t) == LATEST_OFFSET
                or any(tp in owned[member] for tp in tasks[t].inputs))

    def kept(member: str, t: TaskId) -> bool:
        return t in members[member].info.prev_standby

    return _fill(sorted(c.active), member_ids, [ran, kept]), _fill(sorted(c.standby), member_ids, [kept])


def _fill(items: list[TaskId], member_ids: list[str], preferences: list[Any]) -> dict[str, set[TaskId]]:
    out: dict[str, set[TaskId]] = {m: set() for m in member_ids}
    quota = Quota(len(items), {m: 0 for m in member_ids})
    rest = items
    for prefers in preferences:
        left = []
        for t in rest:
            member = next((m for m in member_ids if prefers(m, t) and quota.can_take(m)), None)
            if member is None:
                left.append(t)
            else:
                out[member].add(t)
                quota.take(member)
        rest = left
    for t in rest:
        best = min((m for m in member_ids if quota.can_take(m)), key=lambda m: (len(out[m]), member_ids.index(m)))
        out[best].add(t)
        quota.take(best)
    return out


CLIENT_TAG_PREFIX = "client.tag."
#: StreamsConfig.MAX_RACK_AWARE_ASSIGNMENT_TAG_LIST_SIZE / _KEY_LENGTH / _VALUE_LENGTH (the tags travel in every
#: subscription, which the coordinator keeps)
MAX_TAGS, MAX_TAG_KEY_LENGTH, MAX_TAG_VALUE_LENGTH = 5, 20, 30


def client_tags(config: Any) -> dict[str, str]:
    """Kafka's StreamsConfig.getClientTags: the `client.tag.<key>=<value>` keys of a StreamsConfig (its originals)
    or a plain mapping, as key -> value, checked as Kafka's validateRackAwarenessConfiguration does."""
    items = getattr(config, "originals", config)
    if not isinstance(items, Mapping):  # a test's stand-in config without its keys
        return {}
    tags = {str(k)[len(CLIENT_TAG_PREFIX):]: str(v) for k, v in items.items() if str(k).startswith(CLIENT_TAG_PREFIX)}
    if len(tags) > MAX_TAGS:
        raise ConfigError(f"At most {MAX_TAGS} client tags can be specified using {CLIENT_TAG_PREFIX} prefix "
                          f"(got {len(tags)}: {', '.join(sorted(tags))}).")
    for key, value in sorted(tags.items()):
        if not key:
            raise ConfigError(f"{CLIENT_TAG_PREFIX} needs a tag key after the prefix (client.tag.<key>=<value>)")
        if len(key) > MAX_TAG_KEY_LENGTH:
            raise ConfigError(f"Invalid value {key} for configuration {CLIENT_TAG_PREFIX}: Tag key exceeds maximum "
                              f"length of {MAX_TAG_KEY_LENGTH}.")
        if len(value) > MAX_TAG_VALUE_LENGTH:
            raise ConfigError(f"Invalid value {value} for configuration {CLIENT_TAG_PREFIX}{key}: Tag value exceeds "
                              f"maximum length of {MAX_TAG_VALUE_LENGTH}.")
    return tags


def rack_aware_assignment_tags(config: Any) -> list[str]:
    """rack.aware.assignment.tags (Kafka's LIST: comma-separated or a list), each a client.tag.<key> of this
    client's config and at most MAX_TAGS of them, as Kafka's StreamsConfig validates it."""
    tags = client_tags(config)  # checked with or without rack-aware tags, as Kafka's StreamsConfig does
    raw = config.get("rack.aware.assignment.tags")
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        names = [n.strip() for n in raw.split(",")]
    elif isinstance(raw, (list, tuple)):
        names = [str(n).strip() for n in raw]
    else:
        raise ConfigError(f"rack.aware.assignment.tags must be a list of client tag keys (comma-separated), got "
                          f"{raw!r}")
    if any(not n for n in names):
        raise ConfigError(f"rack.aware.assignment.tags has an empty entry: {raw!r}")
    if len(names) > MAX_TAGS:
        raise ConfigError(f"Invalid value {raw} for configuration rack.aware.assignment.tags: List must have at most "
                          f"{MAX_TAGS} elements")
    for name in names:
        if name not in tags:
            raise ConfigError(f"Invalid value {raw} for configuration rack.aware.assignment.tags: Contains invalid "
                              f"value [{name}] which doesn't have corresponding tag set via [{CLIENT_TAG_PREFIX}] "
                              f"prefix (set {CLIENT_TAG_PREFIX}{name}=<value>).")
    return names


def assignor_for(plan: TopologyPlan, config: Any) -> StreamsPartitionAssignor:
    """The assignor for a StreamsConfig (or a plain mapping of Kafka Streams config keys): num.standby.replicas,
    acceptable.recovery.lag, max.warmup.replicas, probing.rebalance.interval.ms with Kafka's defaults, and
    rack.aware.assignment.tags (checked against the client.tag.* keys)."""
    get = config.get

    def number(key: str, default: int) -> int:
        raw = get(key, default)
        if raw is None:
            raw = default
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{key} must be an integer, got {raw!r}") from None

    if plan is None:
        raise AssignmentError("assignor_for needs the TopologyPlan made at KafkaStreams.start()")
    return StreamsPartitionAssignor(plan, number("num.standby.replicas", 0), number("acceptable.recovery.lag", 10_000),
                                    number("max.warmup.replicas", 2),
                                    number("probing.rebalance.interval.ms", 600_000),
                                    rack_aware_assignment_tags(config))
