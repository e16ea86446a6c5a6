"""Moving a stateful app between Java Kafka Streams 4.1.1 and pystreams with the same application.id, in both
directions: proof that our internal formats are Kafka's.

The first system processes the first part of the input (word count on the RocksDB store "counts", tumbling-window
count "window-counts", session-window count "session-counts", all behind the repartition topic
"<app>-words-repartition") and closes cleanly. The second system starts with a fresh, empty state.dir, so it must
(1) continue from the first one's committed offsets (input and repartition topics) and (2) restore every store from
the first one's changelog topics, which Kafka's InternalTopicManager must also accept (partitions, configs). The
latest counts at the end are exact only if both held: lost state restarts counts, a wrong offset counts lines twice
or never; a tumbling window and sessions straddle the hand-over, so they are continued across systems too.

Kafka's changelog formats, checked on the topics afterwards: KV value = the plain serialized value (Long), the store
timestamp travels as the record timestamp (ChangeLoggingTimestampedKeyValueBytesStore logs rawValue, not the
8-byte-timestamp-prefixed store value); window key = key + 8-byte start + 4-byte seqnum (0); session key = key +
8-byte end + 8-byte start. Java's windowed output keys are decoded with our windowed serdes."""
from __future__ import annotations

import base64
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource
from kafka.admin import KafkaAdminClient

import pystreams.compiler.extensions  # noqa: F401  (windowed_by on grouped streams)
from pystreams import Consumed, Grouped, Materialized, Produced, Serdes, StreamsBuilder
from pystreams.dsl.windows import SessionWindows, TimeWindows
from pystreams.runtime.kafka_streams import KafkaStreams
from pystreams.serdes.windowed import WindowedSerdes
from tests.integration.runtime.helpers import create_topics, random_lines, unique

pytestmark = [pytest.mark.integration, pytest.mark.reference]

MAIN_CLASS = "pystreams.interop.StatefulMigration"  # tests/reference/java/pystreams/interop/
WINDOW_MS = 5_000
GRACE_MS = 3_600_000  # = Duration.ofHours(1) in StatefulMigration.java
GAP_MS = 2_000  # session inactivity gap: a word two lines apart extends its session
STEP_MS = 1_000  # one input line per second of event time: 5 lines per window
LINES, HANDOVER = 160, 82  # the hand-over falls inside a window
STORES = ("counts", "window-counts", "session-counts")
INTERNAL = {"words-repartition", "counts-changelog", "window-counts-changelog", "session-counts-changelog"}


def _pystreams_app(app_id: str, bootstrap: str, state_dir: Path, topics: tuple[str, str, str, str],
                   guarantee: str) -> KafkaStreams:
    source, counts, windows, sessions = topics
    builder = StreamsBuilder()
    words = (builder.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
             .flat_map_values(lambda line: line.lower().split(" "))
             .group_by(lambda _key, word: word, Grouped(Serdes.String(), Serdes.String(), name="words")))
    (words.count(Materialized(name="counts", key_serde=Serdes.String(), value_serde=Serdes.Long()))
        .to_stream().to(counts, Produced(key_serde=Serdes.String(), value_serde=Serdes.Long())))
    (words.windowed_by(TimeWindows.of_size_and_grace(WINDOW_MS, GRACE_MS))
        .count(Materialized(name="window-counts", key_serde=Serdes.String(), value_serde=Serdes.Long()))
        .to_stream().to(windows, Produced(key_serde=WindowedSerdes.time_windowed_serde_from(Serdes.String(),
                                                                                            WINDOW_MS),
                                          value_serde=Serdes.Long())))
    (words.windowed_by(SessionWindows.of_inactivity_gap_and_grace(GAP_MS, GRACE_MS))
        .count(Materialized(name="session-counts", key_serde=Serdes.String(), value_serde=Serdes.Long()))
        .to_stream().to(sessions, Produced(key_serde=WindowedSerdes.session_windowed_serde_from(Serdes.String()),
                                           value_serde=Serdes.Long())))
    return KafkaStreams(builder.build(), {"application.id": app_id, "bootstrap.servers": bootstrap,
                                          "state.dir": str(state_dir), "commit.interval.ms": 200, "processing.guarantee": guarantee,
                                          "auto.offset.reset": "earliest"})


class _JavaApp:
    """The Java twin (one JVM), its stdout in a file: STATE / RESTORED / ERROR lines."""

    def __init__(self, argv: list[str], log: Path) -> None:
        self.log = log
        self._out = log.open("w")
        self.proc = subprocess.Popen(argv, stdout=self._out, stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.log.read_text()

    def restored(self) -> dict[str, int]:
        """Records restored per store, over all its partitions (from Kafka's StateRestoreListener)."""
        out: Counter[str] = Counter()
        for line in self.text().splitlines():
            if line.startswith("RESTORED "):
                _, store, _partition, total = line.split()
                out[store] += int(total)
        return dict(out)

    def close(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._out.close()
        return self.proc.returncode


class _Latest:
    """Latest count per word, per (word, window start) and per (word, session start, session end) on the three
    output topics, read as they arrive (a null count removes a session that was merged into a longer one)."""

    def __init__(self, bootstrap: str, counts: str, windows: str, sessions: str) -> None:
        self.topics = counts, windows, sessions
        self.time_serde = WindowedSerdes.time_windowed_serde_from(Serdes.String(), WINDOW_MS)
        self.session_serde = WindowedSerdes.session_windowed_serde_from(Serdes.String())
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("reader"),
                                  "auto.offset.reset": "earliest", "enable.auto.commit": False,
                                  "isolation.level": "read_committed"})
        self.consumer.subscribe(list(self.topics))
        self.counts: dict[str, int] = {}
        self.windows: dict[tuple[str, int], int] = {}
        self.sessions: dict[tuple[str, int, int], int] = {}

    def state(self) -> tuple[dict[str, int], dict[tuple[str, int], int], dict[tuple[str, int, int], int]]:
        return self.counts, self.windows, self.sessions

    def until(self, want: tuple[Any, ...], timeout: float, alive: Any = lambda: True) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.state() != want and alive():
            for m in self.consumer.consume(1000, 0.3):
                if m.error() is not None:
                    continue
                value = None if m.value() is None else int.from_bytes(m.value(), "big", signed=True)
                if m.topic() == self.topics[0]:
                    self.counts[m.key().decode()] = value
                elif m.topic() == self.topics[1]:
                    windowed = self.time_serde.deserialize(m.topic(), m.key())
                    assert windowed.window.end - windowed.window.start == WINDOW_MS
                    self.windows[(windowed.key, windowed.window.start)] = value
                else:
                    windowed = self.session_serde.deserialize(m.topic(), m.key())
                    key = (windowed.key, windowed.window.start, windowed.window.end)
                    if value is None:
                        self.sessions.pop(key, None)
                    else:
                        self.sessions[key] = value

    def close(self) -> None:
        self.consumer.close()


def _expected(lines: list[tuple[str, int]]) -> tuple[dict[str, int], dict[tuple[str, int], int],
                                                     dict[tuple[str, int, int], int]]:
    """Word counts, tumbling-window counts, and session counts (a word's occurrences no more than GAP_MS apart
    share a session [first, last])."""
    counts: Counter[str] = Counter()
    windows: Counter[tuple[str, int]] = Counter()
    seen: dict[str, list[int]] = {}
    for line, ts in lines:
        for word in line.lower().split(" "):
            counts[word] += 1
            windows[(word, ts - ts % WINDOW_MS)] += 1
            seen.setdefault(word, []).append(ts)
    sessions: dict[tuple[str, int, int], int] = {}
    for word, stamps in seen.items():
        start, last, n = stamps[0], stamps[0], 0
        for ts in stamps:
            if ts - last > GAP_MS:
                sessions[(word, start, last)] = n
                start, n = ts, 0
            last, n = ts, n + 1
        sessions[(word, start, last)] = n
    return dict(counts), dict(windows), sessions


def _produce(bootstrap: str, topic: str, lines: list[tuple[str, int]], first: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for i, (line, ts) in enumerate(lines, first):
        producer.produce(topic, key=f"line-{i}".encode(), value=line.encode(), timestamp=ts)
    assert producer.flush(30) == 0


def _changelog(bootstrap: str, topic: str) -> list[tuple[bytes, bytes, int]]:
    """(key, value, timestamp) of every record of a changelog topic, per partition in offset order."""
    return [(k, v, ts) for _p, k, v, ts in _records(bootstrap, topic)]


def _records(bootstrap: str, topic: str) -> list[tuple[int, bytes, bytes, int]]:
    """(partition, key, value, timestamp) of every committed record of a topic, per partition in offset order."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("changelog"),
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                                  "isolation.level": "read_committed",
                         "enable.partition.eof": True})
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.subscribe([topic])
    out: list[tuple[int, bytes, bytes, int]] = []
    ended: set[int] = set()
    deadline = time.monotonic() + 30
    try:
        while len(ended) < len(partitions) and time.monotonic() < deadline:
            for m in consumer.consume(1000, 0.3):
                if m.error() is None:
                    out.append((m.partition(), m.key(), m.value(), m.timestamp()[1]))
                elif m.error().code() == KafkaError._PARTITION_EOF:
                    ended.add(m.partition())
    finally:
        consumer.close()
    assert len(ended) == len(partitions), f"{topic}: not read to its end"
    return out


def _partition_times(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    """Partition time per partition from a Kafka Streams group's committed offset metadata (TopicPartitionMetadata:
    base64 of magic byte 2, 8-byte big-endian partition time, then processor metadata, empty here).

    Read with kafka-python: librdkafka hands committed metadata to confluent-kafka-python as a C string without its
    length, so bytes past the end of the metadata can come back with it (librdkafka#4649; seen in CI as
    'AgAAAaIha1E4requested')."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)
    try:
        committed = admin.list_group_offsets({group: None})[group]
    finally:
        admin.close()
    out = {}
    for tp, offset in committed.items():
        if tp.topic != topic:
            continue
        raw = base64.b64decode(offset.metadata or "", validate=True)
        assert len(raw) == 9 and raw[0] == 2, (tp, offset)
        out[tp.partition] = int.from_bytes(raw[1:], "big", signed=True)
    return out


def _max_timestamps(bootstrap: str, topic: str) -> dict[int, int]:
    """The largest record timestamp per partition of a topic now."""
    out: dict[int, int] = {}
    for partition, _k, _v, ts in _records(bootstrap, topic):
        out[partition] = max(out.get(partition, ts), ts)
    return out


def _topic_configs(bootstrap: str, topics: list[str]) -> dict[str, dict[str, str]]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, t) for t in topics],
                                     request_timeout=30)
    return {res.name: {k: e.value for k, e in fut.result(30).items()} for res, fut in futures.items()}


# JVM start-ups are costly, so the matrix is cut in two (~50 s in all): at_least_once on Apache Kafka, and
# exactly_once_v2 on our broker (which then also serves Java's transactional producers and read_committed restore).
DIRECTIONS = pytest.mark.parametrize("first", ["pystreams", "java"], ids=["pystreams-to-java", "java-to-pystreams"])


@DIRECTIONS
def test_app_moves_between_java_and_pystreams_keeping_state(reference_kafka, tmp_path, first):
    _migrate(reference_kafka.bootstrap_servers, tmp_path, first, "at_least_once")


@DIRECTIONS
def test_exactly_once_app_moves_between_java_and_pystreams_on_our_broker(pystreams_broker, tmp_path, first):
    """The same under exactly_once_v2: offsets committed in the producers' transactions, changelogs written in them
    and restored read_committed, Java's transactional clients on our broker."""
    _migrate(pystreams_broker.bootstrap_servers, tmp_path, first, "exactly_once_v2")


def _migrate(bootstrap: str, tmp_path: Path, first: str, guarantee: str) -> None:
    from tests.reference import jvm
    from tests.reference.streams_oracle import compile_oracle

    topics = source, counts, windows, sessions = tuple(unique(n) for n in ("lines", "counts", "windows", "sessions"))
    create_topics(bootstrap, 2, *topics)
    app_id = unique("migrate")
    try:
        java_argv = jvm.java_command(MAIN_CLASS, bootstrap, app_id, str(tmp_path / "java-state"), source, counts,
                                     windows, str(WINDOW_MS), sessions, str(GAP_MS), guarantee,
                                     extra_classpath=[compile_oracle()])
    except jvm.ReferenceSetupError as e:
        pytest.skip(str(e))
    base = (int(time.time() * 1000) - 3_600_000) // WINDOW_MS * WINDOW_MS
    lines = [(text, base + i * STEP_MS) for i, text in enumerate(random_lines(7, LINES))]
    part1, part2 = lines[:HANDOVER], lines[HANDOVER:]
    latest = _Latest(bootstrap, counts, windows, sessions)
    py_restored: Counter[str] = Counter()
    java: _JavaApp | None = None
    py: KafkaStreams | None = None
    try:
        def run_java(phase: str) -> _JavaApp:
            return _JavaApp(java_argv, tmp_path / f"java-{phase}.log")

        def run_py() -> KafkaStreams:
            app = _pystreams_app(app_id, bootstrap, tmp_path / "py-state", topics, guarantee)

            class Listener:
                def on_restore_start(self, *args: Any) -> None: ...
                def on_batch_restored(self, *args: Any) -> None: ...
                def on_restore_suspended(self, *args: Any) -> None: ...

                def on_restore_end(self, _tp: Any, store: str, total: int) -> None:
                    py_restored[store] += total

            app.set_global_state_restore_listener(Listener())
            app.start()
            return app

        # first system: the first part of the input, then a clean close (commit + flush + checkpoint)
        _produce(bootstrap, source, part1, 0)
        want1 = _expected(part1)
        if first == "java":
            java = run_java("first")
            latest.until(want1, timeout=90, alive=lambda: java.proc.poll() is None)
            assert latest.state() == want1, java.text()[-3000:]
            # a JVM ended by SIGTERM exits 143 after its shutdown hook (here: KafkaStreams.close) has run
            assert java.close() in (0, 143) and "CLOSED true" in java.text(), java.text()[-3000:]
        else:
            py = run_py()
            latest.until(want1, timeout=90)
            assert latest.state() == want1
            assert py.close(60)
            py = None
        if first == "java":  # Kafka Streams' offset metadata (see test_offset_metadata.py for ours)
            assert _partition_times(bootstrap, app_id, source) == _max_timestamps(bootstrap, source)
        # second system, fresh state.dir: restores the first one's changelogs, continues at its offsets
        _produce(bootstrap, source, part2, HANDOVER)
        want = _expected(lines)
        if first == "java":
            py = run_py()
            latest.until(want, timeout=90)
            assert latest.state() == want
            # the changelogs hold one record per update flushed (at least one per key), all restored
            assert [py_restored[s] >= len(w) for s, w in zip(STORES, want1)] == [True] * 3, py_restored
        else:
            java = run_java("second")
            latest.until(want, timeout=90, alive=lambda: java.proc.poll() is None)
            assert latest.state() == want, java.text()[-3000:]
            # the changelogs hold one record per update flushed (at least one per key), all restored
            restored = java.restored()
            assert [restored.get(s, 0) >= len(w) for s, w in zip(STORES, want1)] == [True] * 3, java.text()[-3000:]
            assert "ERROR" not in java.text() and "STATE ERROR" not in java.text()
            # Java decoded pystreams' committed partition times (TopicPartitionMetadata.decode warns otherwise: it
            # did under exactly_once_v2 while confluent-kafka's send_offsets_to_transaction appended a NUL)
            assert "Unsupported offset metadata" not in java.text(), java.text()[-3000:]
    finally:
        latest.close()
        if java is not None:
            java.close()
        if py is not None:
            py.close(60)

    # both systems wrote the same internal topics, in the same formats
    names = set(AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10).topics)
    assert {t[len(app_id) + 1:] for t in names if t.startswith(app_id + "-")} == INTERNAL
    # the first system created them, the second accepted them (InternalTopicManager checks partitions, and
    # cleanup.policy of windowed changelogs); either way they carry what Kafka Streams sets on internal topics
    configs = _topic_configs(bootstrap, [f"{app_id}-{t}" for t in sorted(INTERNAL)])
    want_configs = {
        "words-repartition": {"cleanup.policy": "delete", "retention.ms": "-1", "segment.bytes": "52428800",
                              "message.timestamp.type": "CreateTime"},
        "counts-changelog": {"cleanup.policy": "compact", "message.timestamp.type": "CreateTime"},
        # retention = window size + grace, plus windowstore.changelog.additional.retention.ms (1 day)
        "window-counts-changelog": {"cleanup.policy": "compact,delete", "message.timestamp.type": "CreateTime",
                                    "retention.ms": str(WINDOW_MS + GRACE_MS + 86_400_000)},
        "session-counts-changelog": {"cleanup.policy": "compact,delete", "message.timestamp.type": "CreateTime",
                                     "retention.ms": str(GAP_MS + GRACE_MS + 86_400_000)},
    }
    assert {t: {k: configs[f"{app_id}-{t}"][k] for k in keys} for t, keys in want_configs.items()} == want_configs
    meta = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10).topics
    assert {t: len(meta[f"{app_id}-{t}"].partitions) for t in INTERNAL} == {t: 2 for t in INTERNAL}
    # Kafka's changelog formats (ChangeLoggingTimestamped*BytesStore): the value is the plain Long (no timestamp
    # prefix; that exists only inside the store), the store timestamp is the record timestamp, which for a count is
    # the latest input timestamp of the key (of the window); window keys are key + 8-byte start + 4-byte seqnum 0
    last_seen = {word: ts for text, ts in lines for word in text.lower().split(" ")}
    kv = _changelog(bootstrap, f"{app_id}-counts-changelog")
    assert kv and all(len(v) == 8 for _k, v, _ts in kv)
    latest_kv = {k.decode(): (int.from_bytes(v, "big"), ts) for k, v, ts in kv}
    assert latest_kv == {w: (n, last_seen[w]) for w, n in want[0].items()}
    win = _changelog(bootstrap, f"{app_id}-window-counts-changelog")
    assert win and all(len(v) == 8 and k[-4:] == b"\0\0\0\0" for k, v, _ts in win)
    latest_win = {(k[:-12].decode(), int.from_bytes(k[-12:-4], "big")): (int.from_bytes(v, "big"), ts)
                  for k, v, ts in win}
    assert {key: n for key, (n, _ts) in latest_win.items()} == want[1]
    assert all(start <= ts < start + WINDOW_MS for (_w, start), (_n, ts) in latest_win.items())
    # session changelog (ChangeLoggingSessionBytesStore): key + 8-byte end + 8-byte start (SessionKeySchema.toBinary),
    # a plain Long or a tombstone for a session merged away, logged at the timestamp of a record in the session
    ses = _changelog(bootstrap, f"{app_id}-session-counts-changelog")
    latest_ses: dict[tuple[str, int, int], tuple[int, int]] = {}
    for k, v, ts in ses:
        key = (k[:-16].decode(), int.from_bytes(k[-8:], "big"), int.from_bytes(k[-16:-8], "big"))
        if v is None:
            latest_ses.pop(key, None)
        else:
            assert len(v) == 8
            latest_ses[key] = (int.from_bytes(v, "big"), ts)
    assert {key: n for key, (n, _ts) in latest_ses.items()} == want[2]
    # (not always the end: Java logs a merged session at the timestamp of a record inside it, and so do we)
    assert all(start <= ts <= end for (_w, start, end), (_n, ts) in latest_ses.items())
