"""The application reset tool's plan (Kafka's org.apache.kafka.tools.StreamsResetter, `pystreams reset`): which
offsets to commit, which internal topics to delete, which group members to remove, and Kafka's lines to print.

Pure: no clients, no clock. `pystreams/cli/reset_cmd.py` reads the cluster (group, topics, offsets), asks
plan_reset for a ResetPlan and then carries out its steps. Every check is made here, on what was read, so a reset
that cannot be done whole fails before its first write (Kafka's tool resets what it can and reports the rest)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence, Union

from pystreams.errors import PystreamsError

TopicPartition = tuple[str, int]

#: Kafka's StreamsResetter.matchesInternalTopicFormat: the name endings of Kafka Streams' internal topics
INTERNAL_TOPIC_SUFFIXES = ("-changelog", "-repartition", "-subscription-registration-topic",
                           "-subscription-response-topic")
_FK_JOIN_TOPIC = re.compile(r".+-KTABLE-FK-JOIN-SUBSCRIPTION-(REGISTRATION|RESPONSE)-\d+-topic")

DRY_RUN_HEADER = "----Dry run displays the actions which will be performed when running Streams Reset Tool----"

#: the offset options, mutually exclusive (Kafka's CommandLineUtils.checkInvalidArgs on each of them)
POSITION_OPTIONS = ("to-offset", "to-datetime", "by-duration", "to-earliest", "to-latest", "from-file", "shift-by")


class ResetError(PystreamsError):
    """The reset cannot be done as asked; nothing was changed (the message says what to fix)."""


def matches_internal_topic_format(name: str) -> bool:
    """Kafka's rule for a topic Kafka Streams made: changelog, repartition or foreign-key join topics."""
    return name.endswith(INTERNAL_TOPIC_SUFFIXES) or _FK_JOIN_TOPIC.fullmatch(name) is not None


def is_inferred_internal_topic(name: str, application_id: str, user_topics: Iterable[str] = ()) -> bool:
    """Kafka's isInferredInternalTopic: `<application.id>-...` in an internal topic's format, and not one of the
    user's input or intermediate topics (which may be named like one by chance, KAFKA-7930)."""
    return (name not in set(user_topics) and name.startswith(application_id + "-")
            and matches_internal_topic_format(name))


def java_list(items: Iterable[object]) -> str:
    """A list as Java's List.toString prints it ("[a, b]"), as Kafka's messages show topic lists."""
    return "[" + ", ".join(str(i) for i in items) + "]"


# ---------------------------------------------------------------------------------------------- positions
@dataclass(frozen=True)
class Position:
    """Where the input topics' offsets go: earliest (Kafka's default), latest, offset, shift, datetime (also
    --by-duration, resolved to a timestamp) or file (a plan read from --from-file)."""

    kind: str = "earliest"
    value: int = 0  # the offset (offset), the shift (shift) or the timestamp in ms (datetime)
    plan: Mapping[TopicPartition, int] = field(default_factory=dict)  # file


def position_from_options(*, to_earliest: bool = False, to_latest: bool = False, to_offset: int | None = None,
                          to_datetime: str | None = None, by_duration: str | None = None,
                          shift_by: int | None = None, from_file_text: str | None = None,
                          now_ms: int = 0) -> Position:
    """The Position of the command's options, with Kafka's message when two of them are given."""
    given = {"to-offset": to_offset is not None, "to-datetime": to_datetime is not None,
             "by-duration": by_duration is not None, "to-earliest": to_earliest, "to-latest": to_latest,
             "from-file": from_file_text is not None, "shift-by": shift_by is not None}
    used = [name for name in POSITION_OPTIONS if given[name]]
    if len(used) > 1:
        raise ResetError(f'Option "[{used[0]}]" can\'t be used with option "[{used[1]}]"')
    if to_offset is not None:
        return Position("offset", to_offset)
    if to_datetime is not None:
        return Position("datetime", parse_datetime(to_datetime))
    if by_duration is not None:
        return Position("datetime", now_ms - parse_duration_ms(by_duration))
    if to_latest:
        return Position("latest")
    if shift_by is not None:
        return Position("shift", shift_by)
    if from_file_text is not None:
        return Position("file", plan=parse_reset_plan(from_file_text))
    return Position("earliest")


_DATETIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{1,3})"
                       r"(Z|[+-]\d{2}(?::?\d{2})?)")


def parse_datetime(text: str) -> int:
    """Kafka's Utils.getDateTime: 'yyyy-MM-ddTHH:mm:ss.SSS' with an optional zone (Z, +hh, +hhmm, +hh:mm; none
    is UTC) -> epoch milliseconds. Java reads the digits after the dot as a number of milliseconds."""
    import calendar

    parts = text.split("T")
    if len(parts) < 2:
        raise ResetError(f"Error parsing timestamp. It does not contain a 'T' according to ISO8601 format: {text}")
    stamp = text if any(c in parts[1] for c in "+-Z") else text + "Z"
    m = _DATETIME.fullmatch(stamp)
    if m is None:
        raise ResetError(f'Unparseable date: "{text}" (--to-datetime takes yyyy-MM-ddTHH:mm:ss.SSS with an '
                         "optional zone Z, +hh, +hhmm or +hh:mm; without one it is UTC)")
    year, month, day, hour, minute, second, millis = (int(g) for g in m.groups()[:7])
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1] and hour < 24 and minute < 60
            and second < 60):
        raise ResetError(f'Unparseable date: "{text}" (no such date or time)')
    zone = m.group(8)
    offset_min = 0
    if zone != "Z":
        digits = zone[1:].replace(":", "")
        offset_min = int(digits[:2]) * 60 + (int(digits[2:]) if len(digits) > 2 else 0)
        offset_min = -offset_min if zone[0] == "-" else offset_min
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)) - offset_min * 60
    return seconds * 1000 + millis


_DURATION = re.compile(r"([-+]?)P(?:([-+]?\d+)D)?(?:T(?:([-+]?\d+)H)?(?:([-+]?\d+)M)?"
                       r"(?:([-+]?)(\d+)(?:[.,](\d{0,9}))?S)?)?", re.IGNORECASE)


def parse_duration_ms(text: str) -> int:
    """Java's Duration.parse ('PnDTnHnMn.nS', e.g. PT15M, P1DT2H, -PT30S) -> milliseconds, rounded up, so that
    now_ms minus it is floored as Kafka's Instant.now().minus(duration).toEpochMilli() is."""
    m = _DURATION.fullmatch(text)
    has_time = "T" in text.upper()
    if m is None or (m.group(2) is None and m.group(3) is None and m.group(4) is None and m.group(6) is None) or (
            has_time and m.group(3) is None and m.group(4) is None and m.group(6) is None):
        raise ResetError(f"Text cannot be parsed to a Duration: {text} (--by-duration takes ISO-8601's PnDTnHnMnS, "
                         "e.g. PT15M or P1DT2H)")
    sign, days, hours, minutes, sec_sign, secs, frac = m.groups()
    nanos = int(days or 0) * 86_400 * 10**9 + int(hours or 0) * 3600 * 10**9 + int(minutes or 0) * 60 * 10**9
    if secs is not None:
        sec_nanos = int(secs) * 10**9 + int((frac or "").ljust(9, "0"))
        nanos += -sec_nanos if sec_sign == "-" else sec_nanos
    if sign == "-":
        nanos = -nanos
    return -((-nanos) // 10**6)  # now - duration, floored to ms: subtract the duration's ceiling in ms


def parse_reset_plan(text: str) -> dict[TopicPartition, int]:
    """Kafka's --from-file CSV: one `TOPIC,PARTITION,OFFSET` per line."""
    if not text:
        raise ResetError("Error parsing reset plan CSV file. It is empty,")
    plan: dict[TopicPartition, int] = {}
    lines = text.split("\n")
    while lines and lines[-1] == "":  # Java's String.split drops trailing empty strings
        lines.pop()
    for number, line in enumerate(lines, 1):
        parts = line.rstrip("\r").split(",")
        if len(parts) != 3:
            raise ResetError("Reset plan CSV file is not following the format `TOPIC,PARTITION,OFFSET`. "
                             f"(line {number}: {line!r})")
        try:
            plan[(parts[0], int(parts[1]))] = int(parts[2])
        except ValueError:
            raise ResetError(f"Reset plan CSV file line {number} ({line!r}): PARTITION and OFFSET must be "
                             "numbers") from None
    return plan


# ---------------------------------------------------------------------------------------------- the plan
@dataclass(frozen=True)
class Member:
    """A member of the application's group (from DescribeGroups)."""

    member_id: str
    group_instance_id: str | None = None
    client_id: str = ""
    host: str = ""
    assignment: tuple[TopicPartition, ...] = ()

    def __str__(self) -> str:  # Kafka prints MemberDescription.toString in its "still active" message
        parts = ",".join(f"{t}-{p}" for t, p in self.assignment)
        return (f"(memberId={self.member_id}, groupInstanceId={self.group_instance_id or 'null'}, "
                f"clientId={self.client_id}, host={self.host}, assignment=(topicPartitions={parts}))")


@dataclass(frozen=True)
class ResetOptions:
    """What the user asked for (Kafka's StreamsResetter options)."""

    application_id: str
    input_topics: tuple[str, ...] = ()
    intermediate_topics: tuple[str, ...] = ()
    internal_topics: tuple[str, ...] = ()  # --internal-topics: a subset of the inferred ones to delete
    position: Position = Position()
    dry_run: bool = False
    force: bool = False
    auto_offset_reset: str = "latest"  # the consumer's, from --config-file: where --shift-by starts without a commit


@dataclass(frozen=True)
class ClusterState:
    """What the command read before planning: every topic with its partition count, the group's members and
    committed offsets, and the input/intermediate partitions' earliest, latest and (for --to-datetime /
    --by-duration) by-timestamp offsets (-1: no record at or after the time)."""

    topics: Mapping[str, int]
    members: tuple[Member, ...] = ()
    group_exists: bool = True
    committed: Mapping[TopicPartition, int] = field(default_factory=dict)
    beginning: Mapping[TopicPartition, int] = field(default_factory=dict)
    end: Mapping[TopicPartition, int] = field(default_factory=dict)
    for_time: Mapping[TopicPartition, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RemoveMembers:
    """Kafka's removeMembersFromConsumerGroup (--force): LeaveGroup for every member."""

    members: tuple[Member, ...]


@dataclass(frozen=True)
class CommitOffsets:
    """The group's new committed offsets (Kafka's consumer commitSync of its positions)."""

    offsets: tuple[tuple[TopicPartition, int], ...]


@dataclass(frozen=True)
class DeleteCommittedOffsets:
    """OffsetDelete of the group's offsets on the internal topics about to be deleted: Kafka's broker drops a
    deleted topic's offsets only later (in the background), ours never; a re-created repartition topic read from
    such a stale offset would skip its first records."""

    partitions: tuple[TopicPartition, ...]


@dataclass(frozen=True)
class DeleteTopics:
    """DeleteTopics of the application's internal topics."""

    topics: tuple[str, ...]


Action = Union[RemoveMembers, CommitOffsets, DeleteCommittedOffsets, DeleteTopics]


@dataclass(frozen=True)
class Step:
    """Lines to print (Kafka's wording), then the action (skipped by --dry-run), in order."""

    lines: tuple[str, ...]
    action: Action | None = None


@dataclass(frozen=True)
class ResetPlan:
    """The steps of a reset and the warnings (stderr) to show before them."""

    steps: tuple[Step, ...]
    warnings: tuple[str, ...] = ()

    def action(self, kind: type) -> Action | None:
        """The plan's action of this type, if any (for callers and tests)."""
        return next((s.action for s in self.steps if isinstance(s.action, kind)), None)


def partitions_to_read(options: ResetOptions, topics: Mapping[str, int]) -> list[TopicPartition]:
    """The input and intermediate partitions (of the topics that exist) whose offsets the plan needs."""
    wanted = dict.fromkeys([*options.input_topics, *options.intermediate_topics])
    return [(t, p) for t in wanted if t in topics for p in range(topics[t])]


def plan_reset(options: ResetOptions, cluster: ClusterState) -> ResetPlan:
    """The whole reset, or ResetError naming every reason it cannot be done (then nothing is changed)."""
    problems: list[str] = []
    if cluster.members and not options.force:
        problems.append(f"Consumer group '{options.application_id}' is still active and has following members: "
                        f"{java_list(cluster.members)}. Make sure to stop all running application instances "
                        "before running the reset tool. You can use option '--force' to remove active members "
                        "from the group.")
    missing_input = [t for t in options.input_topics if t not in cluster.topics]
    if missing_input:
        problems.append(f"Input topics not found: {java_list(missing_input)} (Kafka's tool would skip them; "
                        "pystreams resets nothing until every one exists or is left out)")
    missing_intermediate = [t for t in options.intermediate_topics if t not in cluster.topics]
    if missing_intermediate:
        problems.append(f"Intermediate topics not found: {java_list(missing_intermediate)}")
    user_topics = {*options.input_topics, *options.intermediate_topics}
    inferred = sorted(t for t in cluster.topics if is_inferred_internal_topic(t, options.application_id, user_topics))
    if options.internal_topics and not set(options.internal_topics) <= set(inferred):
        problems.append("Invalid topic specified in the --internal-topics option. Ensure that the topics specified "
                        "are all internal topics. Do a dry run without the --internal-topics option to see the list "
                        "of all internal topics that can be deleted.")
    input_partitions = [tp for tp in partitions_to_read(options, cluster.topics) if tp[0] in options.input_topics]
    targets: dict[TopicPartition, int] = {}
    notes: list[str] = []
    if input_partitions:
        targets, notes = _input_targets(options, cluster, input_partitions, problems)
    if problems:
        raise ResetError("\n".join(problems))

    # the dry-run header first: Kafka prints it after removing the members (it removes them in a dry run too),
    # pystreams removes nobody in a dry run, so the "Force deleting" line belongs to the preview
    steps: list[Step] = [Step((DRY_RUN_HEADER,))] if options.dry_run else []
    if cluster.members:
        steps.append(Step((f"Force deleting all active members in the group: {options.application_id}",),
                          RemoveMembers(cluster.members)))
    steps.extend(_offset_steps(options, cluster, input_partitions, targets, notes))
    steps.extend(_topic_steps(options, cluster, inferred))
    warnings = () if cluster.group_exists else (
        f"WARN: there is no consumer group '{options.application_id}' (has the application ever run? check "
        "--application-id); committing the offsets creates it.",)
    return ResetPlan(tuple(steps), warnings)


def _input_targets(options: ResetOptions, cluster: ClusterState, partitions: Sequence[TopicPartition],
                   problems: list[str]) -> tuple[dict[TopicPartition, int], list[str]]:
    """Kafka's maybeReset: each input partition's new offset, and the lines it prints while computing them."""
    pos = options.position
    notes: list[str] = []
    wanted: dict[TopicPartition, int] = {}
    if pos.kind == "earliest":
        return {tp: cluster.beginning[tp] for tp in partitions}, notes
    if pos.kind == "latest":
        return {tp: cluster.end[tp] for tp in partitions}, notes
    if pos.kind == "datetime":
        out: dict[TopicPartition, int] = {}
        for tp in partitions:
            found = cluster.for_time.get(tp, -1)
            if found >= 0:
                out[tp] = found
            else:
                out[tp] = cluster.end[tp]
                notes.append(f"Partition {tp[1]} from topic {tp[0]} is empty, without a committed record. "
                             "Falling back to latest known offset.")
        return out, notes
    if pos.kind == "offset":
        wanted = {tp: pos.value for tp in partitions}
    elif pos.kind == "shift":
        undefined: list[str] = []
        for tp in partitions:
            start = _position(tp, options, cluster)
            if start is None:
                undefined.append(f"{tp[0]}-{tp[1]}")
            else:
                wanted[tp] = start + pos.value
        if undefined:
            problems.append(f"Undefined offset with no reset policy for partitions: {java_list(undefined)} (no "
                            "committed offset and auto.offset.reset=none: --shift-by has no position to shift)")
            return {}, notes
    else:  # file
        unknown = sorted(tp for tp in pos.plan if tp not in set(partitions))
        absent = [tp for tp in partitions if tp not in pos.plan]
        if unknown:
            problems.append("--from-file names partitions that are not partitions of the input topics: "
                            f"{java_list(f'{t}-{p}' for t, p in unknown)}")
        if absent:
            problems.append("--from-file has no offset for input partitions "
                            f"{java_list(f'{t}-{p}' for t, p in absent)}")
        if unknown or absent:
            return {}, notes
        wanted = {tp: pos.plan[tp] for tp in partitions}
    return _check_offset_range(wanted, cluster, notes), notes


def _position(tp: TopicPartition, options: ResetOptions, cluster: ClusterState) -> int | None:
    """The consumer's position: the committed offset, else auto.offset.reset's (Kafka's consumer: latest)."""
    committed = cluster.committed.get(tp, -1)
    if committed >= 0:
        return committed
    reset = options.auto_offset_reset.strip().lower()
    if reset == "earliest":
        return cluster.beginning[tp]
    if reset == "none":
        return None
    return cluster.end[tp]


def _check_offset_range(wanted: Mapping[TopicPartition, int], cluster: ClusterState,
                        notes: list[str]) -> dict[TopicPartition, int]:
    """Kafka's checkOffsetRange: an offset at or past the end becomes the end, one at or below the earliest the
    earliest (its messages, word for word, also for an offset equal to either bound)."""
    out: dict[TopicPartition, int] = {}
    for tp, offset in wanted.items():
        end, beginning = cluster.end[tp], cluster.beginning[tp]
        if offset < end:
            if offset > beginning:
                out[tp] = offset
            else:
                notes.append(f"New offset ({offset}) is lower than earliest offset. Value will be set to {beginning}")
                out[tp] = beginning
        else:
            notes.append(f"New offset ({offset}) is higher than latest offset. Value will be set to {end}")
            out[tp] = end
    return out


def _offset_steps(options: ResetOptions, cluster: ClusterState, input_partitions: Sequence[TopicPartition],
                  targets: Mapping[TopicPartition, int], notes: Sequence[str]) -> list[Step]:
    """Kafka's maybeResetInputAndSeekToEndIntermediateTopicOffsets: its lines and one commit."""
    lines: list[str] = []
    if options.intermediate_topics:
        lines.append("WARN: `--intermediate-topics` is deprecated and will be removed in a future release")
    if not options.input_topics and not options.intermediate_topics:
        return [Step(("No input or intermediate topics specified. Skipping seek.",))]
    if options.input_topics:
        lines.append(f"Reset-offsets for input topics {java_list(options.input_topics)}")
    if options.intermediate_topics:
        lines.append(f"Seek-to-end for intermediate topics {java_list(options.intermediate_topics)}")
    offsets = dict(targets)
    if input_partitions:
        lines.append(f"Following input topics offsets will be reset to (for consumer group "
                     f"{options.application_id})")
        lines.extend(notes)
        lines.extend(f"Topic: {t} Partition: {p} Offset: {targets[(t, p)]}" for t, p in input_partitions)
    intermediate = [tp for tp in partitions_to_read(options, cluster.topics)
                    if tp[0] in options.intermediate_topics and tp[0] not in options.input_topics]
    if intermediate:
        lines.append(f"Following intermediate topics offsets will be reset to end (for consumer group "
                     f"{options.application_id})")
        lines.extend(f"Topic: {t}" for t, _ in intermediate)
        offsets.update({tp: cluster.end[tp] for tp in intermediate})
    if not offsets:
        return [Step(tuple(lines))]
    return [Step(tuple(lines), CommitOffsets(tuple(sorted(offsets.items())))), Step(("Done.",))]


def _topic_steps(options: ResetOptions, cluster: ClusterState, inferred: Sequence[str]) -> list[Step]:
    """Kafka's maybeDeleteInternalTopics (the specified subset, else every inferred internal topic), preceded by
    the deletion of the group's committed offsets on them."""
    if options.internal_topics:
        topics = tuple(dict.fromkeys(options.internal_topics))
        line = f"Deleting specified internal topics {java_list(topics)}"
    else:
        topics = tuple(inferred)
        line = f"Deleting inferred internal topics {java_list(topics)}"
    steps: list[Step] = []
    stale = tuple(sorted(tp for tp, offset in cluster.committed.items() if tp[0] in topics))
    if stale:
        steps.append(Step((), DeleteCommittedOffsets(stale)))
    steps.append(Step((line,), DeleteTopics(topics) if topics else None))
    steps.append(Step(("Done.",)))
    return steps
