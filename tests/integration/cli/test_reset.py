"""`pystreams reset` (Kafka's StreamsResetter) on both brokers: a word count run, reset and run again counts from
scratch (not doubled); --dry-run and a refused reset change nothing (committed offsets and topics compared); --force
removes a stopped member with a long session; the offset options land where Kafka's tool puts them."""
from __future__ import annotations

import re
import shlex
import time
from datetime import datetime, timezone
from typing import Any

import pytest
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from typer.testing import CliRunner

from pystreams.cli import app
from pystreams.runtime import KafkaStreams, State
from pystreams.runtime.reset import DRY_RUN_HEADER, java_list
from pystreams.runtime.topics import invalid_partitions_message
from tests.integration.runtime.helpers import (
    create_topics,
    produce_lines,
    random_lines,
    unique,
    word_counts,
    wordcount_topology,
)

pytestmark = pytest.mark.integration

ENV = {"COLUMNS": "200", "NO_COLOR": "1"}


def _reset(bootstrap: str, *args: str) -> Any:
    return CliRunner().invoke(app, ["reset", "--bootstrap-server", bootstrap, *args], env=ENV)


def _snapshot(bootstrap: str, group: str) -> tuple[dict[tuple[str, int], int], list[str]]:
    """(the group's committed offsets, the topics named <group>-...): what a reset may change."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    found = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group].result(30)
    committed = {(tp.topic, tp.partition): tp.offset for tp in found.topic_partitions or [] if tp.offset >= 0}
    topics = sorted(t for t in admin.list_topics(timeout=30).topics if t.startswith(group + "-"))
    return committed, topics


def _settled(bootstrap: str, group: str, source: str, ends: dict[int, int], timeout: float = 30.0) -> Any:
    """The snapshot once the app has committed the whole input and nothing moved for half a second."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        snap = _snapshot(bootstrap, group)
        if snap == last and all(snap[0].get((source, p)) == end for p, end in ends.items()):
            return snap
        last = snap
        time.sleep(0.5)
    raise AssertionError(f"the app did not commit its input: {last}")


def _ends(bootstrap: str, topic: str) -> dict[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("ends")})
    try:
        parts = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10, cached=False)[1]
                for p in parts}
    finally:
        consumer.close()


def _count_updates(bootstrap: str, topic: str, starts: dict[int, int], done: Any, timeout: float = 60.0
                   ) -> dict[str, list[int]]:
    """Every count update (String key, Long value) after `starts`, per word in order, read until done(latest)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("reader"), "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, p, o) for p, o in starts.items()])
    updates: dict[str, list[int]] = {}
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not done({w: v[-1] for w, v in updates.items()}):
            for m in consumer.consume(500, 0.3):
                if m.error() is None:
                    updates.setdefault(m.key().decode(), []).append(int.from_bytes(m.value(), "big", signed=True))
    finally:
        consumer.close()
    return updates


def _wait_gone(bootstrap: str, topics: list[str], timeout: float = 20.0) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    deadline = time.monotonic() + timeout
    while set(topics) & set(admin.list_topics(timeout=10).topics):
        assert time.monotonic() < deadline, f"still listed after the reset: {topics}"
        time.sleep(0.3)


def test_reset_then_rerun_counts_from_scratch(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink = unique("wc-reset"), unique("text"), unique("counts")
    create_topics(bootstrap, 2, source, sink)
    lines = random_lines(11, 40)
    produce_lines(bootstrap, source, lines)
    expected = word_counts(lines)
    topology = wordcount_topology(source, sink)
    config = {"application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
              "commit.interval.ms": 100, "statestore.cache.max.bytes": 0}

    streams = KafkaStreams(topology, config)
    try:
        streams.start()
        assert streams.wait_for_state(State.RUNNING, timeout=60)
        first = _count_updates(bootstrap, sink, {0: 0, 1: 0}, lambda c: c == expected)
        assert {w: v[-1] for w, v in first.items()} == expected
        running = _settled(bootstrap, app_id, source, _ends(bootstrap, source))
        # the command line the runtime prints for an internal topic with the wrong partition count
        printed = re.search(r"`(pystreams reset [^`]*)`", invalid_partitions_message(streams.plan, "t", 2, 3))
        assert printed is not None

        # a running application: refused, nothing changed
        refused = _reset(bootstrap, "--application-id", app_id, "--input-topics", source)
        assert refused.exit_code == 1, refused.output
        assert f"ERROR: Consumer group '{app_id}' is still active and has following members: [(memberId=" \
            in refused.stderr
        assert _snapshot(bootstrap, app_id) == running
    finally:
        assert streams.close(60)

    committed, internal = _snapshot(bootstrap, app_id)
    assert any(t.endswith("-changelog") for t in internal) and any(t.endswith("-repartition") for t in internal)

    # --dry-run: Kafka's lines, nothing changed
    dry = _reset(bootstrap, "--application-id", app_id, "--input-topics", source, "--dry-run")
    assert dry.exit_code == 0, dry.output
    out = dry.stdout.splitlines()
    assert out[0] == DRY_RUN_HEADER
    assert f"Topic: {source} Partition: 0 Offset: 0" in out and f"Deleting inferred internal topics " \
        f"{java_list(internal)}" in out
    assert _snapshot(bootstrap, app_id) == (committed, internal)

    # the reset, run as printed (the broker from $PYSTREAMS_BOOTSTRAP_SERVERS)
    done = CliRunner().invoke(app, shlex.split(printed.group(1))[1:],
                              env={**ENV, "PYSTREAMS_BOOTSTRAP_SERVERS": bootstrap})
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines()[-2:-1] == ["Done."] and "KafkaStreams.cleanup()" in done.stdout
    _wait_gone(bootstrap, internal)
    # input offsets at the start; no offsets left on the deleted internal topics
    assert _snapshot(bootstrap, app_id) == ({(source, 0): 0, (source, 1): 0}, [])

    # run again after cleanup(): every word counted once more from scratch, never past the first run's count
    KafkaStreams(topology, config).cleanup()
    starts = _ends(bootstrap, sink)
    with KafkaStreams(topology, config) as again:
        again.start()
        second = _count_updates(bootstrap, sink, starts, lambda c: c == expected)
    assert {w: v[-1] for w, v in second.items()} == expected
    assert {w: max(v) for w, v in second.items()} == expected  # a doubled count would pass the first run's


def _join_and_stop(bootstrap: str, group: str, topic: str) -> Any:
    """A member that joined with a 60 s session and then stopped (no heartbeats, no LeaveGroup): what --force is
    for. Returns its GroupClient (closed by the caller)."""
    from pystreams.broker.protocol.consumer_protocol import encode_assignment, encode_subscription

    from pystreams.runtime.group.client import GroupClient, MemberIdRequired

    client = GroupClient(bootstrap, group, "stopped-member")
    meta = encode_subscription({"topics": [topic]}, version=0)
    try:
        joined = client.join_group("", None, 60_000, 10_000, [("range", meta)])
    except MemberIdRequired as e:
        joined = client.join_group(e.member_id, None, 60_000, 10_000, [("range", meta)])
    assignment = encode_assignment({"assigned_partitions": [{"topic": topic, "partitions": [0, 1]}]}, version=0)
    client.sync_group(joined.generation_id, joined.member_id, None, "range", {joined.member_id: assignment}, 10_000)
    return client


def test_force_removes_a_stopped_member(kafka_broker):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source = unique("wc-force"), unique("text")
    create_topics(bootstrap, 2, source)
    produce_lines(bootstrap, source, random_lines(3, 10))
    client = _join_and_stop(bootstrap, app_id, source)
    try:
        admin = AdminClient({"bootstrap.servers": bootstrap})
        assert len(admin.describe_consumer_groups([app_id])[app_id].result(30).members) == 1
        before = _snapshot(bootstrap, app_id)

        refused = _reset(bootstrap, "--application-id", app_id, "--input-topics", source)
        assert refused.exit_code == 1 and "You can use option '--force'" in refused.stderr, refused.output
        assert _snapshot(bootstrap, app_id) == before

        preview = _reset(bootstrap, "--application-id", app_id, "--input-topics", source, "--force", "--dry-run")
        assert preview.exit_code == 0, preview.output
        assert preview.stdout.splitlines()[:2] == [DRY_RUN_HEADER,
                                                   f"Force deleting all active members in the group: {app_id}"]
        assert len(admin.describe_consumer_groups([app_id])[app_id].result(30).members) == 1  # nobody removed
        assert _snapshot(bootstrap, app_id) == before

        forced = CliRunner().invoke(app, ["reset", "--bootstrap-servers", bootstrap, "--application-id", app_id,
                                          "--input-topics", source, "--force"], env=ENV)  # Kafka 3.x's spelling
        assert forced.exit_code == 0, forced.output
        assert forced.stdout.splitlines()[0] == f"Force deleting all active members in the group: {app_id}"
        assert admin.describe_consumer_groups([app_id])[app_id].result(30).members == []
        assert _snapshot(bootstrap, app_id)[0] == {(source, 0): 0, (source, 1): 0}
    finally:
        client.close()


def _produce_at(bootstrap: str, topic: str, partition: int, timestamps: list[int]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for i, ts in enumerate(timestamps):
        producer.produce(topic, value=f"r{i}".encode(), partition=partition, timestamp=ts)
    assert producer.flush(30) == 0


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}"


def test_offset_options_land_where_kafkas_tool_puts_them(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source = unique("pos"), unique("in")
    create_topics(bootstrap, 2, source)
    now = int(time.time() * 1000)
    minute = 60_000
    _produce_at(bootstrap, source, 0, [now - (10 - i) * minute for i in range(10)])  # 10 minutes ago .. 1 minute ago
    _produce_at(bootstrap, source, 1, [now - (10 - i) * minute for i in range(5)])   # 10 .. 6 minutes ago

    def reset(*args: str) -> dict[int, int]:
        result = _reset(bootstrap, "--application-id", app_id, "--input-topics", source, *args)
        assert result.exit_code == 0, result.output
        committed, _ = _snapshot(bootstrap, app_id)
        return {p: committed[(source, p)] for p in (0, 1)}

    assert reset("--to-latest") == {0: 10, 1: 5}
    assert reset("--to-offset", "7") == {0: 7, 1: 5}  # clamped to the end
    assert reset("--shift-by", "-3") == {0: 4, 1: 2}  # from the committed offsets
    assert reset("--shift-by", "-100") == {0: 0, 1: 0}  # clamped to the earliest
    # the first record at or after the time; none that late on partition 1: its end
    assert reset("--to-datetime", _iso(now - 4 * minute)) == {0: 6, 1: 5}
    assert reset("--by-duration", "PT7M30S") == {0: 3, 1: 3}
    plan = tmp_path / "plan.csv"
    plan.write_text(f"{source},0,2\n{source},1,99\n")
    assert reset("--from-file", str(plan)) == {0: 2, 1: 5}
    assert reset("--to-earliest") == {0: 0, 1: 0}

    # --shift-by without a committed offset starts where the consumer's auto.offset.reset says (--config-file)
    config = tmp_path / "client.properties"
    config.write_text("# client settings\nauto.offset.reset=earliest\nclient.id=reset-test\n")
    fresh = unique("pos-fresh")
    result = _reset(bootstrap, "--application-id", fresh, "--input-topics", source, "--shift-by", "2",
                    "--config-file", str(config))
    assert result.exit_code == 0, result.output
    assert _snapshot(bootstrap, fresh)[0] == {(source, 0): 2, (source, 1): 2}


def test_state_dir_extra_deletes_the_local_state_unless_an_instance_holds_it(kafka_broker, tmp_path):
    from pystreams.runtime.state_directory import StateDirectory

    bootstrap = kafka_broker.bootstrap_servers
    app_id, source = unique("wc-local"), unique("text")
    create_topics(bootstrap, 1, source)
    produce_lines(bootstrap, source, random_lines(5, 4))
    task_dir = tmp_path / app_id / "0_0"
    task_dir.mkdir(parents=True)
    (task_dir / "data").write_text("old state")
    args = ("--application-id", app_id, "--input-topics", source, "--state-dir", str(tmp_path))

    holder = StateDirectory(str(tmp_path), app_id)  # a live instance on this machine
    holder.lock()
    try:
        refused = _reset(bootstrap, *args)
        assert refused.exit_code == 1 and "multiple instances of Kafka Streams" in refused.stderr, refused.output
        assert _snapshot(bootstrap, app_id)[0] == {}  # nothing committed
    finally:
        holder.unlock()
    assert (task_dir / "data").exists()

    done = _reset(bootstrap, *args)
    assert done.exit_code == 0, done.output
    assert not (tmp_path / app_id).exists()
    assert f"Deleted the local state {tmp_path / app_id}" in done.stdout
    assert _snapshot(bootstrap, app_id)[0] == {(source, 0): 0}


@pytest.mark.reference
def test_kafkas_own_tool_lands_at_the_same_offsets_and_prints_the_same_lines(reference_kafka):
    """The oracle: Kafka 4.1's StreamsResetter and ours, each on a twin group of the same topic, after the same
    sequence of options, commit the same offsets and print the same lines (ours may print more: the reminder)."""
    import subprocess

    from tests.reference import jvm

    bootstrap = reference_kafka.bootstrap_servers
    ours, theirs, source = unique("oracle-py"), unique("oracle-java"), unique("in")
    create_topics(bootstrap, 2, source)
    now = int(time.time() * 1000)
    _produce_at(bootstrap, source, 0, [now - (10 - i) * 60_000 for i in range(10)])
    _produce_at(bootstrap, source, 1, [now - (10 - i) * 60_000 for i in range(5)])

    middle = unique("through")  # an intermediate topic (Kafka's deprecated --intermediate-topics): to its end
    create_topics(bootstrap, 2, middle)
    _produce_at(bootstrap, middle, 1, [now] * 3)
    for args in (["--to-offset", "7"], ["--shift-by", "-3"], ["--to-datetime", _iso(now - 4 * 60_000)],
                 ["--intermediate-topics", middle]):
        common = ["--bootstrap-server", bootstrap, "--input-topics", source, *args]
        java = subprocess.run(jvm.java_command("org.apache.kafka.tools.StreamsResetter", "--application-id", theirs,
                                               *common), capture_output=True, text=True, timeout=120)
        assert java.returncode == 0, java.stdout + java.stderr
        mine = CliRunner().invoke(app, ["reset", "--application-id", ours, *common], env=ENV)
        assert mine.exit_code == 0, mine.output
        java_offsets = _snapshot(bootstrap, theirs)[0]
        our_offsets = _snapshot(bootstrap, ours)[0]
        assert our_offsets == java_offsets, args
        java_lines = set(java.stdout.replace(theirs, "<group>").splitlines())
        assert java_lines <= set(mine.stdout.replace(ours, "<group>").splitlines()), (args, java.stdout, mine.stdout)


@pytest.mark.reference
def test_kafkas_own_tool_infers_the_same_internal_topics(reference_kafka):
    """Kafka 4.1's matchesInternalTopicFormat + <application.id>- prefix, by its own --dry-run, against ours."""
    import subprocess

    from tests.reference import jvm

    bootstrap = reference_kafka.bootstrap_servers
    app_id = unique("infer")
    names = [f"{app_id}-store-changelog", f"{app_id}-KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition",
             f"{app_id}-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic",
             f"{app_id}-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000014-topic",
             f"{app_id}-fk-subscription-response-topic", f"{app_id}-output", f"{app_id}-changelog-archive",
             f"{app_id}x-store-changelog", f"{app_id}-in-repartition"]
    create_topics(bootstrap, 1, *names)
    common = ["--application-id", app_id, "--bootstrap-server", bootstrap, "--input-topics", f"{app_id}-in-repartition",
              "--dry-run"]
    java = subprocess.run(jvm.java_command("org.apache.kafka.tools.StreamsResetter", *common), capture_output=True,
                          text=True, timeout=120)
    assert java.returncode == 0, java.stdout + java.stderr
    mine = CliRunner().invoke(app, ["reset", *common], env=ENV)
    assert mine.exit_code == 0, mine.output

    def inferred(stdout: str) -> set[str]:
        line = next(x for x in stdout.splitlines() if x.startswith("Deleting inferred internal topics ["))
        return set(line.split("[", 1)[1].rstrip("]").split(", "))

    assert inferred(mine.stdout) == inferred(java.stdout)
    assert len(inferred(mine.stdout)) == 5  # the input topic named like a repartition topic is kept (KAFKA-7930)
