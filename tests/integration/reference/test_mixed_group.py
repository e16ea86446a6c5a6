"""A rolling move: a pystreams instance and a Java Kafka Streams 4.1.1 instance of the same application.id in ONE
consumer group at the same time (Kafka Streams' "stream" protocol: SubscriptionInfo / AssignmentInfo bytes exchanged
through the group leader, whichever system it is). Both must get tasks and the counts must come out exact; when the
Java instance stops, the pystreams one takes every task and goes on exactly.

Before that, the user-data bytes themselves: Kafka Streams' own SubscriptionInfo/AssignmentInfo classes decode what
pystreams encodes (extension included) and wrote the fixtures tests/unit/runtime/assignment/test_kafka_info.py
reads (tests/unit/runtime/assignment/java/KafkaInfoBytes.java, run in Java's source-file mode)."""
from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient

from pystreams.processor.task_id import TaskId
from pystreams.runtime.assignment import AssignmentInfo, SubscriptionInfo
from tests.integration.reference.test_stateful_migration import (
    GAP_MS,
    LINES,
    MAIN_CLASS,
    STEP_MS,
    WINDOW_MS,
    _expected,
    _JavaApp,
    _Latest,
    _produce,
    _pystreams_app,
)
from tests.integration.runtime.helpers import create_topics, random_lines, unique
from tests.unit.runtime.assignment.test_kafka_info import JAVA, PID

pytestmark = [pytest.mark.integration, pytest.mark.reference]

KAFKA_INFO_BYTES = Path(__file__).resolve().parents[2] / "unit" / "runtime" / "assignment" / "java" / \
    "KafkaInfoBytes.java"


def _wait(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def _kafka_info_bytes(*args: str, stdin: str | None = None) -> list[str]:
    from tests.reference import jvm

    try:
        argv = jvm.java_command(str(KAFKA_INFO_BYTES), *args)
    except jvm.ReferenceSetupError as e:
        pytest.skip(str(e))
    result = subprocess.run(argv, check=False, input=stdin, capture_output=True, text=True, timeout=120,
                            stdin=None if stdin is not None else subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.splitlines()


def test_kafka_streams_wrote_the_fixtures_and_reads_what_pystreams_writes():
    # the captured fixtures are what Kafka Streams 4.1.1 writes today
    encoded = dict(line.rsplit(" ", 1) for line in _kafka_info_bytes("encode"))
    assert encoded == JAVA
    # Java decodes our bytes (pystreams' extension after Kafka's fields is ignored)
    pid = str(PID)
    ours = {
        "subscription ours": SubscriptionInfo(pid, "localhost:8080", {TaskId(0, 0): -2, TaskId(1, 1): 42},
                                              frozenset({TaskId(1, 1)}), 4, {"zone": "eu-1"}).encode(),
        "subscription named": SubscriptionInfo("not-a-uuid", None, {}).encode(),
        "assignment ours": AssignmentInfo({TaskId(0, 0): [("left", 0), ("right", 0)], TaskId(1, 2): [("rep", 2)]},
                                          {TaskId(0, 1): [("left", 1), ("right", 1)]},
                                          {"localhost:8080": [("left", 0), ("right", 0)]},
                                          {"other:9090": [("left", 1)]}, 0, -1).encode(),
        "assignment error": AssignmentInfo(error_code=3, error_message="invalid partitions").encode(),
    }
    lines = _kafka_info_bytes("decode", stdin="".join(f"{k} {v.hex()}\n" for k, v in ours.items()))
    got = {" ".join(line.split(" ", 2)[:2]): line.split(" ", 2)[2] for line in lines}
    named = uuid.uuid5(uuid.UUID("6ba7b812-9dad-11d1-80b4-00c04fd430c8"), "pystreams-process:not-a-uuid")
    assert got == {
        "subscription ours": f"version=11 latest=11 process={pid} endpoint=localhost:8080 sums={{0_0=-2, 1_1=42}} "
                             "error=4 tags={zone=eu-1}",
        "subscription named": f"version=11 latest=11 process={named} endpoint=null sums={{}} error=0 tags={{}}",
        "assignment ours": "version=11 common=11 active=[0_0, 1_2, 0_0] standby={0_1=[left-1, right-1]} "
                           "hosts={localhost:8080=[left-0, right-0]} standbyHosts={other:9090=[left-1]} error=0 "
                           f"next={2**63 - 1}",
        "assignment error": f"version=11 common=11 active=[] standby={{}} hosts={{}} standbyHosts={{}} error=3 "
                            f"next={2**63 - 1}",
    }


def _group_members(bootstrap: str, group: str) -> list[set[tuple[str, int]]]:
    """Each member's assigned partitions, from DescribeGroups (the consumer protocol both systems speak)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    (future,) = admin.describe_consumer_groups([group], request_timeout=20).values()
    return [{(tp.topic, tp.partition) for tp in m.assignment.topic_partitions} for m in future.result(30).members]


@pytest.mark.parametrize("first", ["pystreams", "java"], ids=["pystreams-leads-apache-kafka",
                                                             "java-leads-pystreams-broker"])
def test_pystreams_and_java_instances_share_one_group(request, tmp_path, first):
    """One direction per broker (a JVM start is costly): pystreams first (it leads, Java joins) on Apache Kafka;
    Java first (it leads, pystreams joins and leads once Java has left) on our broker."""
    from tests.reference import jvm
    from tests.reference.streams_oracle import compile_oracle

    broker = request.getfixturevalue("reference_kafka" if first == "pystreams" else "pystreams_broker")
    bootstrap = broker.bootstrap_servers
    topics = source, counts, windows, sessions = tuple(unique(n) for n in ("lines", "counts", "windows", "sessions"))
    create_topics(bootstrap, 2, *topics)
    app_id = unique("mixed")
    try:
        argv = jvm.java_command(MAIN_CLASS, bootstrap, app_id, str(tmp_path / "java-state"), source, counts,
                                windows, str(WINDOW_MS), sessions, str(GAP_MS), "at_least_once",
                                extra_classpath=[compile_oracle()])
    except jvm.ReferenceSetupError as e:
        pytest.skip(str(e))
    base = (int(time.time() * 1000) - 3_600_000) // WINDOW_MS * WINDOW_MS
    lines = [(text, base + i * STEP_MS) for i, text in enumerate(random_lines(11, LINES))]
    part1, part2 = lines[:LINES // 2], lines[LINES // 2:]
    latest = _Latest(bootstrap, counts, windows, sessions)
    py = _pystreams_app(app_id, bootstrap, tmp_path / "py-state", topics, "at_least_once")
    java = None
    all_inputs = {(t, p) for t in (source, f"{app_id}-words-repartition") for p in range(2)}

    def py_tasks() -> int:
        return sum(len(t.active_tasks) for t in py.metadata_for_local_threads())

    def java_state() -> str:
        states = [line.split()[1] for line in java.text().splitlines() if line.startswith("STATE ")]
        return states[-1] if states else ""

    def java_running() -> bool:
        return java is not None and java.text().count("STATE RUNNING") >= 1 and java.proc.poll() is None

    try:
        if first == "pystreams":
            py.start()
            assert _wait(lambda: py.state.name == "RUNNING" and py_tasks() == 4, 60), py.state
            java = _JavaApp(argv, tmp_path / "java.log")
        else:
            java = _JavaApp(argv, tmp_path / "java.log")
            assert _wait(java_running, 60), java.text()[-3000:]
            py.start()
        # the group rebalances with both members: each client ends up RUNNING with part of the 4 tasks
        settled = _wait(lambda: py.state.name == "ERROR" or java.proc.poll() is not None or (
            java_running() and py.state.name == "RUNNING" and 0 < py_tasks() < 4), 90)
        assert settled and py.state.name == "RUNNING" and java.proc.poll() is None, (py.state, java.text()[-3000:])
        # cooperative: the moving tasks are revoked in one round and handed over in the next
        members: list[set[tuple[str, int]]] = []

        def split() -> bool:
            members[:] = _group_members(bootstrap, app_id)
            return (len(members) == 2 and all(members) and not members[0] & members[1]
                    and members[0] | members[1] == all_inputs)

        assert _wait(split, 60), members
        assert _wait(lambda: py.state.name == "RUNNING" and 0 < py_tasks() < 4 and java_state() == "RUNNING", 30), (py.state, py_tasks(), java.text()[-3000:])
        _produce(bootstrap, source, part1, 0)
        want = _expected(part1)
        latest.until(want, timeout=90, alive=lambda: java.proc.poll() is None and py.state.name == "RUNNING")
        assert latest.state() == want, java.text()[-3000:]
        assert py.state.name == "RUNNING" and 0 < py_tasks() < 4 and java.proc.poll() is None
        assert not any(line.startswith(("ERROR ", "STATE ERROR")) for line in java.text().splitlines()), \
            java.text()[-3000:]
        # the Java instance stops (a clean close leaves the group): pystreams takes every task and goes on
        assert java.close() in (0, 143) and "CLOSED true" in java.text(), java.text()[-3000:]
        assert _wait(lambda: py.state.name == "RUNNING" and py_tasks() == 4, 60), (py.state, py_tasks())
        _produce(bootstrap, source, part2, len(part1))
        want = _expected(lines)
        latest.until(want, timeout=90, alive=lambda: py.state.name == "RUNNING")
        assert latest.state() == want
        assert py_tasks() == 4 and _group_members(bootstrap, app_id) == [all_inputs]
    finally:
        latest.close()
        if java is not None:
            java.close()
        py.close(60)
