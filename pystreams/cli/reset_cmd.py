"""`pystreams reset`: Kafka's application reset tool (bin/kafka-streams-application-reset.sh,
org.apache.kafka.tools.StreamsResetter) with its option names, output lines and exit codes (0 done, 1 error).

It reads everything first (the group, the topics, the offsets), plans with pystreams.runtime.reset (where every
check is made), and only then writes: members removed (--force), offsets committed, internal topics deleted. So a
reset that cannot be done whole changes nothing. Works against our broker and Apache Kafka alike."""
from __future__ import annotations

import os
import sys
import time
from typing import Any, Optional

import typer

try:  # typer vendors its own click (typer._click); its usage errors are that click's
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover - a typer on the plain click package
    from click.exceptions import UsageError  # type: ignore[assignment]

from pystreams.cli.broker_cmds import admin_client, bootstrap_servers
from pystreams.cli.help_format import PlainCommand
from pystreams.errors import PystreamsError
from pystreams.runtime.reset import (
    ClusterState,
    CommitOffsets,
    DeleteCommittedOffsets,
    DeleteTopics,
    Member,
    RemoveMembers,
    ResetError,
    ResetOptions,
    ResetPlan,
    partitions_to_read,
    plan_reset,
    position_from_options,
)

TIMEOUT_S = 30.0
CLIENT_ID = "pystreams-reset"
REMINDER = ("*** Important! You will get wrong output if you don't clean up the local stores after running the reset "
            "tool! Call KafkaStreams.cleanup() in the application before it starts again (or delete "
            "<state.dir>/{app_id} on every instance; pystreams reset --state-dir DIR does it on this machine).")


class ResetCommand(PlainCommand):
    """Bad options exit 1, as Kafka's tool does (CommandLineUtils.printUsageAndExit), not click's 2."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except UsageError as exc:
            exc.exit_code = 1
            raise


def reset(
    application_id: str = typer.Option(..., "--application-id", metavar="ID",
                                       help="REQUIRED: The Kafka Streams application ID (application.id)."),
    bootstrap: Optional[str] = typer.Option(
        None, "--bootstrap-server", "--bootstrap-servers", "-b", metavar="HOST:PORT",
        help="The server(s) to connect to, HOST1:PORT1,HOST2:PORT2 (default $PYSTREAMS_BOOTSTRAP_SERVERS or "
             "127.0.0.1:9092; --bootstrap-servers is Kafka 3.x's deprecated spelling)."),
    input_topics: list[str] = typer.Option(
        [], "--input-topics", metavar="LIST",
        help="Comma-separated list of user input topics. Their offsets are reset to the earliest available offset "
             "by default, or to the position another option gives, e.g. --input-topics foo --shift-by 5."),
    intermediate_topics: list[str] = typer.Option(
        [], "--intermediate-topics", metavar="LIST",
        help="(deprecated) Comma-separated list of intermediate user topics (topics that are input and output "
             "topics). For these topics, the tool will skip to the end."),
    internal_topics: list[str] = typer.Option(
        [], "--internal-topics", metavar="LIST",
        help="Comma-separated list of internal topics to delete. Must be a subset of the internal topics marked "
             "for deletion by the default behaviour (do a dry-run without this option to view these topics)."),
    to_offset: Optional[int] = typer.Option(None, "--to-offset", metavar="OFFSET",
                                            help="Reset offsets to a specific offset."),
    to_datetime: Optional[str] = typer.Option(
        None, "--to-datetime", metavar="DATETIME",
        help="Reset offsets to offset from datetime. Format: 'YYYY-MM-DDThh:mm:ss.sss' (UTC unless a zone "
             "Z, +hh, +hhmm or +hh:mm follows)."),
    by_duration: Optional[str] = typer.Option(
        None, "--by-duration", metavar="DURATION",
        help="Reset offsets to offset by duration from current timestamp. Format: 'PnDTnHnMnS'."),
    to_earliest: bool = typer.Option(False, "--to-earliest", help="Reset offsets to earliest offset."),
    to_latest: bool = typer.Option(False, "--to-latest", help="Reset offsets to latest offset."),
    from_file: Optional[str] = typer.Option(
        None, "--from-file", metavar="FILE",
        help="Reset offsets to values defined in CSV file (TOPIC,PARTITION,OFFSET)."),
    shift_by: Optional[int] = typer.Option(
        None, "--shift-by", metavar="N",
        help="Reset offsets shifting current offset by 'n', where 'n' can be positive or negative."),
    dry_run: bool = typer.Option(False, "--dry-run",
                                 help="Display the actions that would be performed without executing the reset "
                                      "commands."),
    force: bool = typer.Option(
        False, "--force",
        help="Force the removal of members of the consumer group (intended to remove stopped members if a long "
             "session timeout was used). Make sure to shut down all stream applications when this option is "
             "specified to avoid unexpected rebalances."),
    config_file: Optional[str] = typer.Option(
        None, "--config-file", "--command-config", metavar="FILE",
        help="Config properties file to be passed to admin clients and embedded consumer (security settings; "
             "Kafka 4.2 calls it --command-config)."),
    state_dir: Optional[str] = typer.Option(
        None, "--state-dir", metavar="DIR",
        help="pystreams only (not in Kafka's tool): after the reset, delete this machine's local state "
             "DIR/<application.id> as KafkaStreams.cleanup() does (DIR is the app's state.dir)."),
) -> None:
    """Reset a Kafka Streams application so that it reprocesses its input from scratch (Kafka's
    kafka-streams-application-reset).

    * Resets the offsets of the input topics to the earliest available offset (by default), or to the position
    another option gives.

    * Deletes the internal topics that were created by Kafka Streams (topics starting with "<application.id>-":
    changelog, repartition and foreign-key join topics); --internal-topics deletes a subset.

    * Does not delete output topics (use pystreams topics delete).

    * Does not clean up the local state of the application instances: call KafkaStreams.cleanup() in the
    application or delete <state.dir>/<application.id> (--state-dir DIR does it here).

    * Refuses while the group has active members; --force removes them (stop every instance first).

    *** Important! You will get wrong output if you don't clean up the local stores after running the reset tool!

    *** Warning! This tool makes irreversible changes to your application. It is strongly recommended that you run
    this once with --dry-run to preview your changes before making them."""
    try:
        position = position_from_options(
            to_earliest=to_earliest, to_latest=to_latest, to_offset=to_offset, to_datetime=to_datetime,
            by_duration=by_duration, shift_by=shift_by, from_file_text=_read(from_file),
            now_ms=int(time.time() * 1000))
        props = _properties(config_file)
        options = ResetOptions(
            application_id=application_id, input_topics=_split(input_topics),
            intermediate_topics=_split(intermediate_topics), internal_topics=_split(internal_topics),
            position=position, dry_run=dry_run, force=force,
            auto_offset_reset=props.get("auto.offset.reset", "latest"))
        _reset(options, bootstrap_servers(bootstrap), props, state_dir)
    except PystreamsError as exc:
        _error(str(exc))
    except Exception as exc:  # a KafkaException from a client: Kafka's own message
        _error(_client_message(exc))


def _client_message(exc: Exception) -> str:
    """A KafkaException's KafkaError text (Kafka's own message), else the exception's."""
    err = exc.args[0] if exc.args else exc
    text = getattr(err, "str", None)
    return str(text()) if callable(text) else str(err)


def _error(message: str) -> None:
    typer.echo(f"ERROR: {message}", err=True)
    raise typer.Exit(1)


def _split(values: list[str]) -> tuple[str, ...]:
    """Comma-separated lists (the option may be repeated), in order, each name once."""
    return tuple(dict.fromkeys(t.strip() for v in values for t in v.split(",") if t.strip()))


def _read(path: str | None) -> str | None:
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as exc:
        raise ResetError(f"cannot read {path}: {exc.strerror or exc}") from None


def _properties(path: str | None) -> dict[str, str]:
    from pystreams.broker.config import parse_properties
    text = _read(path)
    return parse_properties(text) if text is not None else {}


def _client_configs(application_id: str, bootstrap: str, props: dict[str, str]) -> tuple[dict[str, Any], Any]:
    """(admin config in librdkafka's terms, the group client's security) from the --config-file keys, translated
    as pystreams' StreamsConfig translates them for an application's clients."""
    if not props:
        return {}, None
    from pystreams.runtime.config import StreamsConfig
    cfg = StreamsConfig({**props, "application.id": application_id, "bootstrap.servers": bootstrap})
    return cfg.admin_config(), cfg.group_security()


def _reset(options: ResetOptions, bootstrap: str, props: dict[str, str], state_dir: str | None) -> None:
    admin_cfg, security = _client_configs(options.application_id, bootstrap, props)
    admin = admin_client(bootstrap, admin_cfg)
    cluster = _read_cluster(admin, options)
    local = _check_state_dir(state_dir, options.application_id)
    plan = plan_reset(options, cluster)  # ResetError: nothing has been written
    for warning in plan.warnings:
        typer.echo(warning, err=True)
    _execute(plan, options, admin, bootstrap, security)
    if local is not None and not options.dry_run:
        from pystreams.runtime.state_directory import StateDirectory
        deleted = StateDirectory(state_dir or "", options.application_id).clean()
        typer.echo(f"Deleted the local state {local} ({len(deleted)} task/global director(ies); pystreams "
                   "--state-dir, as KafkaStreams.cleanup()).")
    elif local is not None:
        typer.echo(f"Would delete the local state {local} (pystreams --state-dir).")
    elif not options.dry_run:
        typer.echo(REMINDER.format(app_id=options.application_id))


def _read_cluster(admin: Any, options: ResetOptions) -> ClusterState:
    """Everything the plan needs, read before any write."""
    from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
    from confluent_kafka.admin import OffsetSpec

    group = options.application_id
    members, exists = _describe_group(admin, group)
    md = admin.list_topics(timeout=TIMEOUT_S)
    topics = {name: len(t.partitions) for name, t in md.topics.items() if t.error is None}
    committed: dict[tuple[str, int], int] = {}
    if exists:
        found = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)],
                                                  request_timeout=TIMEOUT_S)[group].result(TIMEOUT_S)
        committed = {(tp.topic, tp.partition): tp.offset for tp in found.topic_partitions or []
                     if tp.error is None and tp.offset >= 0}
    partitions = partitions_to_read(options, topics)

    def offsets(spec: Any) -> dict[tuple[str, int], int]:
        if not partitions:
            return {}
        futures = admin.list_offsets({TopicPartition(t, p): spec for t, p in partitions},
                                     request_timeout=TIMEOUT_S)
        return {(tp.topic, tp.partition): f.result(TIMEOUT_S).offset for tp, f in futures.items()}

    for_time = (offsets(OffsetSpec.for_timestamp(options.position.value))
                if options.position.kind == "datetime" else {})
    return ClusterState(topics=topics, members=members, group_exists=exists, committed=committed,
                        beginning=offsets(OffsetSpec.earliest()), end=offsets(OffsetSpec.latest()),
                        for_time=for_time)


def _describe_group(admin: Any, group: str) -> tuple[tuple[Member, ...], bool]:
    """(members, whether the group exists); a group Kafka does not know is no error (Kafka's tool goes on)."""
    from confluent_kafka import ConsumerGroupState, KafkaError, KafkaException
    try:
        desc = admin.describe_consumer_groups([group], request_timeout=TIMEOUT_S)[group].result(TIMEOUT_S)
    except KafkaException as exc:
        if exc.args and getattr(exc.args[0], "code", lambda: None)() == KafkaError.GROUP_ID_NOT_FOUND:
            return (), False
        raise
    members = tuple(Member(m.member_id, m.group_instance_id, m.client_id or "", m.host or "",
                           tuple((tp.topic, tp.partition) for tp in (m.assignment.topic_partitions or [])
                                 ) if m.assignment is not None else ())
                    for m in desc.members or [])
    return members, members != () or desc.state not in (ConsumerGroupState.DEAD, ConsumerGroupState.UNKNOWN)


def _check_state_dir(state_dir: str | None, application_id: str) -> str | None:
    """<DIR>/<application.id> if it exists (None: nothing to delete); StateDirectoryLockedError now, before any
    write, when a live instance holds it."""
    if state_dir is None:
        return None
    from pystreams.runtime.state_directory import StateDirectory
    directory = StateDirectory(state_dir, application_id)
    if not os.path.isdir(directory.app_dir):
        return None
    directory.lock()
    directory.unlock()
    return directory.app_dir


def _execute(plan: ResetPlan, options: ResetOptions, admin: Any, bootstrap: str, security: Any) -> None:
    """Each step's lines, then its action (none under --dry-run)."""
    for step in plan.steps:
        for line in step.lines:
            typer.echo(line)
        sys.stdout.flush()
        if step.action is None or options.dry_run:
            continue
        action = step.action
        if isinstance(action, RemoveMembers):
            _remove_members(bootstrap, options.application_id, action.members, security)
        elif isinstance(action, CommitOffsets):
            _commit(admin, options.application_id, action)
        elif isinstance(action, DeleteCommittedOffsets):
            _delete_offsets(bootstrap, options.application_id, action, security)
        elif isinstance(action, DeleteTopics):
            _delete_topics(admin, action.topics)


def _group_client(bootstrap: str, group: str, security: Any) -> Any:
    from pystreams.runtime.group.client import GroupClient
    return GroupClient(bootstrap, group, CLIENT_ID, request_timeout_s=TIMEOUT_S, security=security)


def _remove_members(bootstrap: str, group: str, members: tuple[Member, ...], security: Any) -> None:
    """Kafka's removeMembersFromConsumerGroup: LeaveGroup for every member (a member that already left is fine)."""
    from pystreams.broker.protocol import ErrorCode
    from pystreams.runtime.group.errors import CoordinatorMovedError, GroupError
    client = _group_client(bootstrap, group, security)
    try:
        for m in members:
            for attempt in range(5):
                try:
                    client.leave_group(m.member_id, m.group_instance_id, reason="member was removed by an admin "
                                       "(pystreams reset --force)")
                    break
                except CoordinatorMovedError:
                    if attempt == 4:
                        raise
                    time.sleep(0.2)
                except GroupError as exc:
                    if exc.code != ErrorCode.UNKNOWN_MEMBER_ID:
                        raise
                    break
    finally:
        client.close()


def _commit(admin: Any, group: str, action: CommitOffsets) -> None:
    from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
    request = ConsumerGroupTopicPartitions(group, [TopicPartition(t, p, o) for (t, p), o in action.offsets])
    result = admin.alter_consumer_group_offsets([request], request_timeout=TIMEOUT_S)[group].result(TIMEOUT_S)
    failed = [f"{tp.topic}-{tp.partition}: {tp.error.str()}" for tp in result.topic_partitions or []
              if tp.error is not None]
    if failed:
        raise ResetError("Resetting offsets failed: " + "; ".join(failed))


def _delete_offsets(bootstrap: str, group: str, action: DeleteCommittedOffsets, security: Any) -> None:
    """OffsetDelete (API 47) of the group's offsets on the internal topics about to be deleted."""
    from pystreams.broker.protocol import ApiKey, error_name
    topics: dict[str, list[int]] = {}
    for t, p in action.partitions:
        topics.setdefault(t, []).append(p)
    body = {"group_id": group, "topics": [{"name": t, "partitions": [{"partition_index": p} for p in ps]}
                                          for t, ps in topics.items()]}
    client = _group_client(bootstrap, group, security)
    try:
        _, answer = client.coordinator().request(ApiKey.OFFSET_DELETE, body)
    finally:
        client.close()
    codes = [answer.get("error_code", 0)] + [p["error_code"] for t in answer.get("topics") or []
                                             for p in t["partitions"]]
    bad = [c for c in codes if c != 0]
    if bad:
        raise ResetError(f"deleting the committed offsets of the internal topics failed: {error_name(bad[0])}")


def _delete_topics(admin: Any, topics: tuple[str, ...]) -> None:
    """Kafka's doDelete: every deletion awaited; an error per failed topic, then one overall error."""
    failed = False
    for name, future in admin.delete_topics(list(topics), operation_timeout=TIMEOUT_S).items():
        try:
            future.result(TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - reported per topic, as Kafka's tool does
            typer.echo(f"ERROR: deleting topic {name}: {_client_message(exc)}", err=True)
            failed = True
    if failed:
        raise ResetError("Encountered an error deleting one or more topics")
