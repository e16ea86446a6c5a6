"""KafkaStreams and its state directory on a real broker (both): a second live instance on one state.dir is
refused (another process or this one), a close that times out still reaches NOT_RUNNING in the background, the
state-dir cleaner removes the directories of tasks that moved to another instance after state.cleanup.delay.ms,
and a failed start() leaves no client behind."""
from __future__ import annotations

import gc
import glob
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.runtime.kafka_streams import KafkaStreams, State
from pystreams.runtime.state_directory import StateDirectory, StateDirectoryLockedError
from pystreams.runtime.topics import MissingSourceTopicError
from tests.integration.runtime.helpers import (
    create_topics,
    produce_lines,
    unique,
    wordcount_topology,
)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
CHILD = """
import sys
from pystreams.runtime.kafka_streams import KafkaStreams, State
from tests.integration.runtime.helpers import wordcount_topology
bootstrap, app_id, source, sink, state_dir = sys.argv[1:6]
app = KafkaStreams(wordcount_topology(source, sink), {"application.id": app_id, "bootstrap.servers": bootstrap,
                                                      "state.dir": state_dir})
app.start()
print("started", flush=True)
sys.stdin.read()
print("closed" if app.close(30) else "close timed out", flush=True)
"""


def _line(child: subprocess.Popen, timeout: float) -> str:
    """The child's next stdout line, or '' after timeout seconds (bounded: a stuck child fails the test)."""
    ready, _, _ = select.select([child.stdout], [], [], timeout)
    return child.stdout.readline().strip() if ready else ""


def _config(bootstrap, app_id, state_dir, **extra):
    return {"application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(state_dir),
            "commit.interval.ms": 100, **extra}


def test_a_second_live_instance_on_one_state_dir_is_refused(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink = unique("sd-two"), unique("text"), unique("counts")
    create_topics(bootstrap, 2, source, sink)
    state, err = tmp_path / "state", tmp_path / "child.err"
    with open(err, "w") as err_file:
        child = subprocess.Popen([sys.executable, "-c", CHILD, bootstrap, app_id, source, sink,
                                  str(state)], cwd=ROOT, stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=err_file, text=True)
    apps: list[KafkaStreams] = []
    try:
        assert _line(child, 60) == "started", err.read_text()[-3000:]
        other_process = KafkaStreams(wordcount_topology(source, sink), _config(bootstrap, app_id, state))
        apps.append(other_process)
        with pytest.raises(StateDirectoryLockedError, match="multiple instances of Kafka Streams are running in "
                                                            "the same state directory"):
            other_process.start()
        assert other_process.admin is None and other_process.threads == []
        child.stdin.close()
        assert _line(child, 60) == "closed", err.read_text()[-3000:]
        assert child.wait(30) == 0
        first = KafkaStreams(wordcount_topology(source, sink), _config(bootstrap, app_id, state))
        apps.append(first)
        first.start()  # the other process is gone: the directory is free
        assert first.wait_for_state(State.RUNNING, timeout=60)
        same_process = KafkaStreams(wordcount_topology(source, sink), _config(bootstrap, app_id, state))
        apps.append(same_process)
        with pytest.raises(StateDirectoryLockedError, match="give each instance its own state.dir"):
            same_process.start()
        assert first.state is State.RUNNING
        with pytest.raises(StateDirectoryLockedError):
            same_process.cleanup()  # would delete the live instance's stores
        assert os.path.isdir(state / app_id / "1_0")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
        for app in apps:
            assert app.close(60)


def _blocking_topology(source, sink, entered: threading.Event, block_s: float):
    def slow(value):
        if value == "block":
            entered.set()
            time.sleep(block_s)
        return value.upper()

    b = StreamsBuilder()
    b.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())).map_values(slow) \
        .to(sink, Produced(key_serde=Serdes.String(), value_serde=Serdes.String()))
    return b.build()


def test_a_close_that_times_out_reaches_not_running_in_the_background(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink = unique("sd-close"), unique("text"), unique("upper")
    create_topics(bootstrap, 1, source, sink)
    entered = threading.Event()
    transitions: list[tuple[State, State]] = []
    streams = KafkaStreams(_blocking_topology(source, sink, entered, 4.0), _config(bootstrap, app_id, tmp_path))
    streams.set_state_listener(lambda new, old: transitions.append((new, old)))
    try:
        streams.start()
        assert streams.wait_for_state(State.RUNNING, timeout=60)
        produce_lines(bootstrap, source, ["block"])
        assert entered.wait(30), "the blocking record was not processed"
        started = time.monotonic()
        assert streams.close(0.5) is False  # the processor blocks for 4 s
        assert time.monotonic() - started < 2.5
        assert streams.state is State.PENDING_SHUTDOWN
        assert (State.NOT_RUNNING, State.PENDING_SHUTDOWN) not in transitions
        assert streams.wait_for_state(State.NOT_RUNNING, timeout=30)  # Kafka: the close goes on in the background
        assert transitions[-1] == (State.NOT_RUNNING, State.PENDING_SHUTDOWN)
        assert not any(t.is_alive() for t in streams.threads)
        free = StateDirectory(str(tmp_path), app_id)  # the close released the state directory
        free.lock()
        free.unlock()
        streams.cleanup()  # allowed in NOT_RUNNING
        assert streams.close(1) is True
    finally:
        streams.close(30)


def test_task_dirs_of_tasks_moved_away_are_removed_after_the_cleanup_delay(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink = unique("sd-clean"), unique("text"), unique("counts")
    create_topics(bootstrap, 2, source, sink)
    extra = {"state.cleanup.delay.ms": 300, "consumer.session.timeout.ms": 10_000}
    a = KafkaStreams(wordcount_topology(source, sink), _config(bootstrap, app_id, tmp_path / "a", **extra))
    b = KafkaStreams(wordcount_topology(source, sink), _config(bootstrap, app_id, tmp_path / "b", **extra))
    a_dir = tmp_path / "a" / app_id
    try:
        a.start()
        assert a.wait_for_state(State.RUNNING, timeout=60)
        deadline = time.monotonic() + 30
        while len(a.threads[0].tasks) < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sorted(p.name for p in a_dir.iterdir() if p.is_dir()) == ["0_0", "0_1", "1_0", "1_1"]
        b.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the tasks split 2 + 2, both RUNNING
            if (a.state is State.RUNNING and b.state is State.RUNNING and len(a.threads[0].tasks) == 2
                    and len(b.threads[0].tasks) == 2):
                break
            time.sleep(0.1)
        kept = {str(t) for t in a.threads[0].tasks}
        moved = {"0_0", "0_1", "1_0", "1_1"} - kept
        assert len(kept) == 2 and len(moved) == 2, (kept, [str(t) for t in b.threads[0].tasks])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any((a_dir / name).exists() for name in moved):
            time.sleep(0.1)
        assert not any((a_dir / name).exists() for name in moved), sorted(p.name for p in a_dir.iterdir())
        for name in kept:  # held by a's live tasks, however old: never removed
            old = time.time() - 60
            os.utime(a_dir / name, (old, old))
        time.sleep(1.0)  # three cleaner rounds
        assert all((a_dir / name).is_dir() for name in kept)
    finally:
        assert b.close(60)
        assert a.close(60)


def _librdkafka_threads() -> int:
    names = []
    for path in glob.glob("/proc/self/task/*/comm"):
        try:
            names.append(Path(path).read_text().strip())
        except OSError:
            continue  # the thread ended meanwhile
    return sum(n.startswith("rdk:") for n in names)


def test_a_failed_start_leaves_no_client_alive(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink = unique("sd-fail"), unique("missing"), unique("counts")
    gc.collect()
    before = _librdkafka_threads()
    streams = KafkaStreams(wordcount_topology(source, sink), _config(bootstrap, app_id, tmp_path))
    try:
        streams.start()
    except MissingSourceTopicError as e:
        error = e
    else:
        pytest.fail("start() with a missing source topic did not fail")
    assert "does not exist" in str(error)
    assert streams.admin is None and streams.threads == []
    assert streams.state is State.ERROR
    free = StateDirectory(str(tmp_path), app_id)  # the state directory is released
    free.lock()
    free.unlock()
    deadline = time.monotonic() + 10  # librdkafka's threads stop a moment after the handle is destroyed
    while _librdkafka_threads() > before and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.05)
    assert _librdkafka_threads() <= before, "the AdminClient of the failed start() is still alive"
    del error  # kept alive on purpose until here: the exception must not keep the AdminClient
    assert streams.close(5)


def test_the_cleaner_keeps_a_standbys_task_dir(kafka_broker, tmp_path):
    """With num.standby.replicas=1 the stateful tasks that moved to b stay on a as standbys: their directories are
    locked by a's standby tasks and survive the cleaner, the moved stateless tasks' directories do not."""
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink = unique("sd-standby"), unique("text"), unique("counts")
    create_topics(bootstrap, 2, source, sink)
    extra = {"state.cleanup.delay.ms": 300, "consumer.session.timeout.ms": 10_000, "num.standby.replicas": 1}
    a = KafkaStreams(wordcount_topology(source, sink), _config(bootstrap, app_id, tmp_path / "a", **extra))
    b = KafkaStreams(wordcount_topology(source, sink), _config(bootstrap, app_id, tmp_path / "b", **extra))
    a_dir = tmp_path / "a" / app_id
    try:
        a.start()
        assert a.wait_for_state(State.RUNNING, timeout=60)
        b.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # 2 + 2 active, and a holds a standby of b's stateful task
            a_standbys = set(a.threads[0]._standby.tasks) if a.threads[0]._standby is not None else set()
            if (a.state is State.RUNNING and b.state is State.RUNNING and len(a.threads[0].tasks) == 2
                    and len(b.threads[0].tasks) == 2 and a_standbys and not a_standbys & set(a.threads[0].tasks)):
                break
            time.sleep(0.1)
        kept = {str(t) for t in a.threads[0].tasks}
        standby = {str(t) for t in a.threads[0]._standby.tasks}
        moved = {"0_0", "0_1", "1_0", "1_1"} - kept - standby
        assert len(kept) == 2 and standby and all(s.startswith("1_") for s in standby), (kept, standby)
        assert moved and all(m.startswith("0_") for m in moved), (kept, standby)  # stateless: no standby
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any((a_dir / name).exists() for name in moved):
            time.sleep(0.1)
        assert not any((a_dir / name).exists() for name in moved), sorted(p.name for p in a_dir.iterdir())
        for name in standby:
            old = time.time() - 60
            os.utime(a_dir / name, (old, old))
        time.sleep(1.0)  # three cleaner rounds
        assert all((a_dir / name).is_dir() for name in standby)
    finally:
        assert b.close(60)
        assert a.close(60)
