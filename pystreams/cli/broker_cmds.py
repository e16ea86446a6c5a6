"""`pystreams broker|topics|groups|produce|consume`: run a broker and talk to any Kafka-protocol
broker (ours or Apache Kafka) with rich tables for people and --json for scripts.

Why through confluent-kafka: the CLI then behaves exactly like any other client does, and works
unchanged against Apache Kafka."""
from __future__ import annotations

import json
import os
import sys
from typing import Any, Mapping, Optional

import typer

from pystreams.cli.help_format import PlainCommand, PlainGroup
from pystreams.errors import BrokerUnreachableError, PystreamsError

BOOTSTRAP_ENV = "PYSTREAMS_BOOTSTRAP_SERVERS"
_BS_HELP = f"bootstrap.servers (default ${BOOTSTRAP_ENV} or 127.0.0.1:9092)"

broker_app = typer.Typer(help="Run a pystreams broker.", no_args_is_help=True, cls=PlainGroup)
topics_app = typer.Typer(help="Create, list, describe, alter and delete topics.", no_args_is_help=True,
                         cls=PlainGroup)
groups_app = typer.Typer(help="List and describe consumer groups, reset their offsets.",
                         no_args_is_help=True, cls=PlainGroup)

BootstrapOpt = typer.Option(None, "--bootstrap-server", "-b", metavar="HOST:PORT", help=_BS_HELP)
JsonOpt = typer.Option(False, "--json", help="machine-readable JSON on stdout")
TopicArg = typer.Argument(..., metavar="TOPIC", help="the topic's name")
GroupArg = typer.Argument(..., metavar="GROUP", help="the consumer group's id (group.id)")


def bootstrap_servers(value: str | None) -> str:
    """The option's value, else $PYSTREAMS_BOOTSTRAP_SERVERS, else 127.0.0.1:9092 (every broker command's rule)."""
    return value or os.environ.get(BOOTSTRAP_ENV) or "127.0.0.1:9092"


_bootstrap = bootstrap_servers


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def admin_client(bootstrap: str, config: Mapping[str, Any] | None = None):
    """An AdminClient that has proved the broker answers (else BrokerUnreachableError); `config`: more client
    keys in librdkafka's terms (security settings of a --command-config file)."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient
    extra = {k: v for k, v in (config or {}).items() if k not in ("logger", "log_level", "bootstrap.servers")}
    admin = AdminClient({**extra, "bootstrap.servers": bootstrap, "log_level": 0,
                         "logger": _SilentLogger()})  # type: ignore[dict-item]
    try:
        admin.list_topics(timeout=5)
    except KafkaException:
        raise BrokerUnreachableError(f"no broker reachable at {bootstrap}") from None
    return admin


_admin = admin_client


def topic_metadata(admin: Any, name: str) -> Any:
    """One topic's metadata, read from a metadata request for all topics: a request naming the topic lets the broker
    auto-create it (librdkafka's admin client is a producer handle, allow.auto.create.topics true), so asking about a
    mistyped topic would have created it."""
    md = admin.list_topics(timeout=10).topics.get(name)
    if md is None:
        raise PystreamsError(f"topic {name} does not exist (`pystreams topics list` shows the topics)")
    if md.error is not None:
        raise PystreamsError(f"topic {name}: {md.error.str()}")
    return md


class _SilentLogger:
    """librdkafka's connection-refused chatter is replaced by our one-line error."""

    def log(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __getattr__(self, name: str):
        return self.log


def _run(fn, *args: Any) -> None:
    try:
        fn(*args)
    except PystreamsError as exc:
        _fail(str(exc))
    except Exception as exc:  # a KafkaException from a future: show Kafka's own message
        err = exc.args[0] if exc.args else exc
        _fail(getattr(err, "str", lambda: str(err))())


def _print_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table
    table = Table(title=title)
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*[str(v) for v in row])
    Console().print(table)


def _parse_pairs(pairs: list[str]) -> dict[str, str]:
    from pystreams.broker.config import parse_set_flags
    return parse_set_flags(pairs)


# --- broker -----------------------------------------------------------------------------------
@broker_app.command("start", cls=PlainCommand)
def broker_start(data_dir: str = typer.Option(..., "--data-dir", metavar="DIR", help="log.dirs"),
                 port: int = typer.Option(9092, "--port", metavar="PORT"),
                 host: str = typer.Option("127.0.0.1", "--host", metavar="HOST"),
                 config: Optional[str] = typer.Option(None, "--config", metavar="FILE",
                                                      help="a server.properties file"),
                 set_: list[str] = typer.Option([], "--set", metavar="KEY=VALUE",
                                                help="a broker config key (Kafka's names; repeatable)"),
                 log_level: str = typer.Option("INFO", "--log-level", metavar="LEVEL",
                                               help="DEBUG, INFO, WARNING or ERROR")) -> None:
    """Run a broker in the foreground until SIGTERM/SIGINT (then shut down cleanly)."""
    from pystreams.broker.server.logs import configure_logging
    from pystreams.broker.server.main import build_config
    from pystreams.broker.server.app import run
    configure_logging(log_level)
    try:
        cfg = build_config(data_dir, port, host, config, set_)
    except PystreamsError as exc:
        _fail(str(exc), 2)
    try:
        run(cfg, lambda b: typer.echo(f"pystreams broker listening on {b.state.host}:{b.port}",
                                      err=True))
    except OSError as exc:
        _fail(f"cannot start the broker: {exc}")


# --- topics -----------------------------------------------------------------------------------
@topics_app.command("create", cls=PlainCommand)
def topics_create(name: str = TopicArg, partitions: int = typer.Option(1, "--partitions", "-p", metavar="N"),
                  replication_factor: int = typer.Option(1, "--replication-factor", "-r", metavar="N"),
                  config: list[str] = typer.Option([], "--config", "-c", metavar="KEY=VALUE",
                                                   help="a topic config key (repeatable)"),
                  bootstrap: Optional[str] = BootstrapOpt, as_json: bool = JsonOpt) -> None:
    """Create a topic."""
    def go() -> None:
        from confluent_kafka.admin import NewTopic
        admin = _admin(_bootstrap(bootstrap))
        new = NewTopic(name, partitions, replication_factor, config=_parse_pairs(config))
        admin.create_topics([new])[name].result(30)
        _emit(as_json, {"created": name, "partitions": partitions},
              f"Created topic {name} with {partitions} partition(s).")
    _run(go)


@topics_app.command("list", cls=PlainCommand)
def topics_list(bootstrap: Optional[str] = BootstrapOpt, as_json: bool = JsonOpt,
                internal: bool = typer.Option(False, "--internal", help="include __ topics")) -> None:
    """List topics and their partition counts."""
    def go() -> None:
        admin = _admin(_bootstrap(bootstrap))
        md = admin.list_topics(timeout=10)
        rows = sorted((t, len(m.partitions)) for t, m in md.topics.items()
                      if internal or not t.startswith("__"))
        if as_json:
            typer.echo(json.dumps([{"topic": t, "partitions": n} for t, n in rows]))
        else:
            _print_table("Topics", ["topic", "partitions"], [list(r) for r in rows])
    _run(go)


@topics_app.command("describe", cls=PlainCommand)
def topics_describe(name: str = TopicArg, bootstrap: Optional[str] = BootstrapOpt,
                    as_json: bool = JsonOpt) -> None:
    """Partitions, leaders, offsets and config overrides of a topic."""
    def go() -> None:
        from confluent_kafka import Consumer, TopicPartition
        from confluent_kafka.admin import ConfigResource
        bs = _bootstrap(bootstrap)
        admin = _admin(bs)
        md = topic_metadata(admin, name)
        consumer = Consumer({"bootstrap.servers": bs, "group.id": "pystreams-cli"})
        try:
            parts = []
            for p in sorted(md.partitions):
                low, high = consumer.get_watermark_offsets(TopicPartition(name, p), timeout=10)
                info = md.partitions[p]
                parts.append({"partition": p, "leader": info.leader, "replicas": info.replicas,
                              "log_start_offset": low, "high_watermark": high})
        finally:
            consumer.close()
        resource = ConfigResource(ConfigResource.Type.TOPIC, name)
        entries = admin.describe_configs([resource])[resource].result(15)
        overrides = {k: e.value for k, e in entries.items() if not e.is_default}
        if as_json:
            typer.echo(json.dumps({"topic": name, "partitions": parts, "configs": overrides}))
            return
        _print_table(f"Topic {name}", ["partition", "leader", "replicas", "log start", "end"],
                     [[p["partition"], p["leader"], p["replicas"], p["log_start_offset"],
                       p["high_watermark"]] for p in parts])
        if overrides:
            _print_table("Config", ["key", "value"], [[k, v] for k, v in sorted(overrides.items())])
    _run(go)


@topics_app.command("alter", cls=PlainCommand)
def topics_alter(name: str = TopicArg,
                 set_: list[str] = typer.Option([], "--set", metavar="KEY=VALUE",
                                                help="set a topic config key (repeatable)"),
                 delete: list[str] = typer.Option([], "--delete-config", metavar="KEY",
                                                  help="remove a topic config override (repeatable)"),
                 partitions: Optional[int] = typer.Option(None, "--partitions", metavar="N",
                                                          help="grow the topic to N partitions"),
                 bootstrap: Optional[str] = BootstrapOpt, as_json: bool = JsonOpt) -> None:
    """Change config keys (incrementally) or grow the partition count."""
    def go() -> None:
        from confluent_kafka.admin import (AlterConfigOpType, ConfigEntry, ConfigResource,
                                           NewPartitions)
        admin = _admin(_bootstrap(bootstrap))
        entries = [ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET)
                   for k, v in _parse_pairs(set_).items()]
        entries += [ConfigEntry(k, None, incremental_operation=AlterConfigOpType.DELETE)
                    for k in delete]
        if entries:
            res = ConfigResource(ConfigResource.Type.TOPIC, name, incremental_configs=entries)
            for future in admin.incremental_alter_configs([res]).values():
                future.result(15)
        if partitions is not None:
            admin.create_partitions([NewPartitions(name, partitions)])[name].result(15)
        _emit(as_json, {"altered": name}, f"Altered topic {name}.")
    _run(go)


@topics_app.command("delete", cls=PlainCommand)
def topics_delete(name: str = TopicArg, bootstrap: Optional[str] = BootstrapOpt,
                  as_json: bool = JsonOpt) -> None:
    """Delete a topic and its data."""
    def go() -> None:
        admin = _admin(_bootstrap(bootstrap))  # keep the handle alive until the future resolves
        admin.delete_topics([name])[name].result(30)
        _emit(as_json, {"deleted": name}, f"Deleted topic {name}.")
    _run(go)


def _emit(as_json: bool, doc: dict, text: str) -> None:
    typer.echo(json.dumps(doc) if as_json else text)


# --- produce / consume -----------------------------------------------------------------------
def produce(topic: str = TopicArg, key_separator: Optional[str] = typer.Option(
                None, "--key-separator", "-K", metavar="SEP", help="split each line into key SEP value"),
            acks: str = typer.Option("all", "--acks", metavar="0|1|all"),
            compression: str = typer.Option("none", "--compression", metavar="CODEC",
                                            help="none, gzip, snappy, lz4 or zstd"),
            bootstrap: Optional[str] = BootstrapOpt, as_json: bool = JsonOpt) -> None:
    """Produce stdin lines to TOPIC (one record per line)."""
    def go() -> None:
        from confluent_kafka import Producer
        bs = _bootstrap(bootstrap)
        _admin(bs)
        errors: list[str] = []
        # keys placed by murmur2 like Kafka's console producer (librdkafka's default consistent_random is CRC32)
        producer = Producer({"bootstrap.servers": bs, "acks": acks, "linger.ms": 5,
                             "compression.type": compression, "partitioner": "murmur2_random"})

        def report(err, _msg) -> None:
            if err is not None:
                errors.append(err.str())

        count = 0
        for line in sys.stdin:
            line = line.rstrip("\n")
            key = None
            if key_separator is not None and key_separator in line:
                key, line = line.split(key_separator, 1)
            producer.produce(topic, value=line.encode(), key=key.encode() if key is not None
                             else None, on_delivery=report)
            producer.poll(0)
            count += 1
        if producer.flush(30):
            raise PystreamsError("timed out delivering records")
        if errors:
            raise PystreamsError(f"{len(errors)} record(s) failed: {errors[0]}")
        _emit(as_json, {"topic": topic, "produced": count}, f"Produced {count} record(s) to {topic}.")
    _run(go)


def consume(topic: str = TopicArg, group: Optional[str] = typer.Option(None, "--group", "-g", metavar="GROUP",
                                                                      help="consume as this consumer group"),
            from_beginning: bool = typer.Option(False, "--from-beginning",
                                                help="start at the earliest offset, else at the end (with --group: where "
                                                     "the group has no committed offset)"),
            max_records: Optional[int] = typer.Option(None, "--max", "-n", metavar="N",
                                                      help="stop after N records"),
            timeout: float = typer.Option(10.0, "--timeout", metavar="SECONDS",
                                          help="stop after this many idle seconds"),
            bootstrap: Optional[str] = BootstrapOpt, as_json: bool = JsonOpt) -> None:
    """Print records of TOPIC (value per line; --json: one object per record)."""
    def go() -> None:
        import time
        from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, TopicPartition
        bs = _bootstrap(bootstrap)
        admin = _admin(bs)
        consumer = Consumer({"bootstrap.servers": bs, "group.id": group or "pystreams-cli",
                             "auto.offset.reset": "earliest" if from_beginning else "latest",
                             "enable.auto.commit": group is not None})
        if group is not None:
            consumer.subscribe([topic])
        else:  # no group: read every partition directly, leaving no group behind
            try:
                md = topic_metadata(admin, topic)
            except PystreamsError:
                consumer.close()
                raise
            start = OFFSET_BEGINNING if from_beginning else OFFSET_END
            consumer.assign([TopicPartition(topic, p, start) for p in md.partitions])
        seen, idle_since = 0, time.monotonic()
        try:
            while max_records is None or seen < max_records:
                msg = consumer.poll(0.5)
                if msg is None:
                    if time.monotonic() - idle_since > timeout:
                        break
                    continue
                error = msg.error()
                if error is not None:
                    raise PystreamsError(error.str())
                idle_since = time.monotonic()
                seen += 1
                if as_json:
                    key, value = msg.key(), msg.value()
                    typer.echo(json.dumps({
                        "partition": msg.partition(), "offset": msg.offset(),
                        "timestamp": msg.timestamp()[1],
                        "key": key.decode(errors="replace") if key is not None else None,
                        "value": value.decode(errors="replace") if value is not None else None}))
                else:
                    typer.echo((msg.value() or b"").decode(errors="replace"))
        finally:
            consumer.close()
    _run(go)


# --- groups -----------------------------------------------------------------------------------
@groups_app.command("list", cls=PlainCommand)
def groups_list(bootstrap: Optional[str] = BootstrapOpt, as_json: bool = JsonOpt) -> None:
    """Consumer groups and their states."""
    def go() -> None:
        admin = _admin(_bootstrap(bootstrap))  # keep the handle alive until the future resolves
        result = admin.list_consumer_groups().result(15)
        rows = sorted((g.group_id, str(getattr(g.state, "name", g.state))) for g in result.valid)
        if as_json:
            typer.echo(json.dumps([{"group": g, "state": s} for g, s in rows]))
        else:
            _print_table("Consumer groups", ["group", "state"], [list(r) for r in rows])
    _run(go)


@groups_app.command("describe", cls=PlainCommand)
def groups_describe(group: str = GroupArg, bootstrap: Optional[str] = BootstrapOpt,
                    as_json: bool = JsonOpt) -> None:
    """A group's members and its committed offsets with lag."""
    def go() -> None:
        from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, TopicPartition
        bs = _bootstrap(bootstrap)
        admin = _admin(bs)
        desc = admin.describe_consumer_groups([group])[group].result(15)
        offsets = admin.list_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(group)])[group].result(15)
        consumer = Consumer({"bootstrap.servers": bs, "group.id": "pystreams-cli"})
        rows = []
        try:
            for tp in sorted(offsets.topic_partitions, key=lambda t: (t.topic, t.partition)):
                end = consumer.get_watermark_offsets(TopicPartition(tp.topic, tp.partition),
                                                     timeout=10)[1]
                rows.append({"topic": tp.topic, "partition": tp.partition,
                             "committed": tp.offset, "end": end,
                             "lag": end - tp.offset if tp.offset >= 0 else None})
        finally:
            consumer.close()
        members = [{"member_id": m.member_id, "client_id": m.client_id, "host": m.host,
                    "assignment": [f"{t.topic}-{t.partition}" for t in m.assignment.topic_partitions]}
                   for m in desc.members]
        state = str(getattr(desc.state, "name", desc.state))
        if as_json:
            typer.echo(json.dumps({"group": group, "state": state, "members": members,
                                   "offsets": rows}))
            return
        _print_table(f"Group {group} ({state})", ["member", "client", "host", "assignment"],
                     [[m["member_id"], m["client_id"], m["host"], ", ".join(m["assignment"])]
                      for m in members])
        _print_table("Offsets", ["topic", "partition", "committed", "end", "lag"],
                     [[r["topic"], r["partition"], r["committed"], r["end"], r["lag"]] for r in rows])
    _run(go)


@groups_app.command("reset-offsets", cls=PlainCommand)
def groups_reset_offsets(group: str = GroupArg, topic: str = typer.Option(..., "--topic", metavar="TOPIC"),
                         to: str = typer.Option("earliest", "--to", metavar="earliest|latest|OFFSET",
                                                help="earliest, latest or an offset"),
                         bootstrap: Optional[str] = BootstrapOpt, as_json: bool = JsonOpt) -> None:
    """Set an inactive group's committed offsets for a topic (like kafka-consumer-groups)."""
    def go() -> None:
        from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
        from confluent_kafka.admin import OffsetSpec
        admin = _admin(_bootstrap(bootstrap))
        md = topic_metadata(admin, topic)
        parts = sorted(md.partitions)
        if to in ("earliest", "latest"):
            spec = OffsetSpec.earliest() if to == "earliest" else OffsetSpec.latest()
            found = admin.list_offsets({TopicPartition(topic, p): spec for p in parts})
            targets = {tp.partition: f.result(15).offset for tp, f in found.items()}
        else:
            try:
                targets = {p: int(to) for p in parts}
            except ValueError:
                raise PystreamsError(f"--to must be earliest, latest or an offset, got {to!r}") \
                    from None
        request = ConsumerGroupTopicPartitions(
            group, [TopicPartition(topic, p, o) for p, o in sorted(targets.items())])
        admin.alter_consumer_group_offsets([request])[group].result(15)
        _emit(as_json, {"group": group, "topic": topic, "offsets": targets},
              f"Reset {group} on {topic}: " + ", ".join(f"{p}->{o}" for p, o in sorted(targets.items())))
    _run(go)


def register(app: typer.Typer) -> None:
    """Add the broker, topics, groups, produce and consume commands to the root app."""
    app.add_typer(broker_app, name="broker")
    app.add_typer(topics_app, name="topics")
    app.add_typer(groups_app, name="groups")
    app.command("produce", cls=PlainCommand)(produce)
    app.command("consume", cls=PlainCommand)(consume)
