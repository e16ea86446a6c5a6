"""StateDirectory: one live instance per `<state.dir>/<application.id>` (Kafka's initializeProcessId lock), user
clean-up (cleanUp) and the removal of obsolete task directories (cleanRemovedTasks, state.cleanup.delay.ms)."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from pystreams import Consumed, Materialized, Serdes, StreamsBuilder
from pystreams.runtime.checkpoint import TaskDirLock
from pystreams.runtime.kafka_streams import IllegalStateError, KafkaStreams, State
from pystreams.runtime.state_directory import (
    StateDirCleaner,
    StateDirectory,
    StateDirectoryLockedError,
    has_persistent_stores,
)
from pystreams.state.stores import Stores

pytestmark = pytest.mark.unit

MESSAGE = "multiple instances of Kafka Streams are running in the same state directory"


def _counting(store=None):
    b = StreamsBuilder()
    b.stream("in", Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())).group_by_key() \
        .count(store or Materialized(name="counts"))
    return b.build()


def _task_dir(app_dir, name, age_s=0.0):
    path = os.path.join(app_dir, name)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "data"), "w") as f:
        f.write("x")
    if age_s:
        then = time.time() - age_s
        os.utime(path, (then, then))
    return path


def test_a_second_lock_in_this_process_is_refused_until_the_first_lets_go(tmp_path):
    first, second = StateDirectory(str(tmp_path), "app"), StateDirectory(str(tmp_path), "app")
    first.lock()
    with pytest.raises(StateDirectoryLockedError, match=MESSAGE) as info:
        second.lock()
    assert "give each instance its own state.dir" in str(info.value)
    assert str(tmp_path / "app") in str(info.value)
    StateDirectory(str(tmp_path), "other-app").lock()  # another application.id is another directory
    first.unlock()
    second.lock()
    second.unlock()


def test_a_lock_held_by_another_process_is_refused(tmp_path):
    code = ("import sys; from pystreams.runtime.state_directory import StateDirectory; "
            f"d = StateDirectory({str(tmp_path)!r}, 'app'); d.lock(); print('locked', flush=True); sys.stdin.read()")
    child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(StateDirectoryLockedError, match=MESSAGE):
            StateDirectory(str(tmp_path), "app").lock()
    finally:
        child.stdin.close()
        child.wait(10)
    StateDirectory(str(tmp_path), "app").lock()  # the process is gone: so is its lock


def test_only_persistent_stores_count():
    assert has_persistent_stores(_counting())
    assert not has_persistent_stores(_counting(Materialized.as_(Stores.in_memory_key_value_store("mem"))))
    b = StreamsBuilder()
    b.stream("in").map_values(lambda v: v).to("out")
    assert not has_persistent_stores(b.build())


def test_start_refuses_a_state_dir_a_live_instance_holds_before_creating_any_client(tmp_path):
    other = StateDirectory(str(tmp_path), "app")
    other.lock()
    streams = KafkaStreams(_counting(), {"application.id": "app", "bootstrap.servers": "127.0.0.1:1",
                                         "state.dir": str(tmp_path)})
    with pytest.raises(StateDirectoryLockedError, match=MESSAGE):
        streams.start()
    assert streams.admin is None and streams.threads == [] and streams.state is State.CREATED
    other.unlock()


def test_clean_deletes_task_and_global_dirs_but_not_a_live_instances_or_a_live_tasks(tmp_path):
    d = StateDirectory(str(tmp_path), "app")
    a, b = _task_dir(d.app_dir, "0_0"), _task_dir(d.app_dir, "1_2")
    glob = _task_dir(d.app_dir, "global")
    with open(os.path.join(d.app_dir, "kafka-streams-process-metadata"), "w") as f:
        f.write('{"processId": "p"}')
    live = StateDirectory(str(tmp_path), "app")
    live.lock()
    with pytest.raises(StateDirectoryLockedError):
        d.clean()
    assert os.path.isdir(a) and os.path.isdir(b) and os.path.isdir(glob)
    live.unlock()
    held = TaskDirLock(b)  # a live task of an instance that takes no directory lock (no persistent store)
    assert held.try_lock()
    try:
        assert d.clean() == [a, glob]
    finally:
        held.unlock()
    assert not os.path.exists(a) and not os.path.exists(glob) and os.path.isdir(b)
    assert os.path.isdir(d.app_dir)  # b is still in use
    assert not d.locked
    assert d.clean() == [b]
    assert not os.path.exists(d.app_dir)  # nothing held any more: the whole directory goes


def test_clean_removed_tasks_deletes_only_old_unlocked_task_dirs(tmp_path):
    d = StateDirectory(str(tmp_path), "app")
    owned = _task_dir(d.app_dir, "0_2")
    lock = TaskDirLock(owned)  # a live task or standby of this or another process
    assert lock.try_lock()
    then = time.time() - 60
    os.utime(owned, (then, then))  # unmodified for a minute, but owned
    old, recent = _task_dir(d.app_dir, "0_0", 60), _task_dir(d.app_dir, "0_1")
    not_a_task = _task_dir(d.app_dir, "global", 60)
    try:
        assert d.clean_removed_tasks(30_000) == [old]
    finally:
        lock.unlock()
    assert os.path.isdir(recent) and os.path.isdir(owned) and os.path.isdir(not_a_task)
    assert d.clean_removed_tasks(30_000) == [owned]  # its owner let go


def test_the_cleaner_runs_every_delay_while_active_only(tmp_path):
    d = StateDirectory(str(tmp_path), "app")
    old = _task_dir(d.app_dir, "0_0", 60)
    active = {"on": False}
    cleaner = StateDirCleaner(d, 50, lambda: active["on"])
    cleaner.start()
    try:
        time.sleep(0.3)
        assert os.path.isdir(old)  # not RUNNING: Kafka's cleaner skips its round
        active["on"] = True
        deadline = time.monotonic() + 10
        while os.path.isdir(old) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not os.path.exists(old)
    finally:
        cleaner.stop()
    later = _task_dir(d.app_dir, "0_1", 60)
    time.sleep(0.3)
    assert os.path.isdir(later)  # stopped


@pytest.mark.parametrize("state", [State.REBALANCING, State.RUNNING, State.PENDING_SHUTDOWN, State.PENDING_ERROR])
def test_cleanup_is_refused_unless_created_not_running_or_error(tmp_path, state):
    streams = KafkaStreams(_counting(), {"application.id": "app", "state.dir": str(tmp_path)})
    task = _task_dir(os.path.join(str(tmp_path), "app"), "0_0")
    streams._state = state
    with pytest.raises(IllegalStateError, match="Cannot clean up while running"):
        streams.cleanup()
    assert os.path.isdir(task)


@pytest.mark.parametrize("state", [State.CREATED, State.NOT_RUNNING, State.ERROR])
def test_cleanup_is_allowed_when_not_running_but_not_under_a_live_instance(tmp_path, state):
    streams = KafkaStreams(_counting(), {"application.id": "app", "state.dir": str(tmp_path)})
    task = _task_dir(os.path.join(str(tmp_path), "app"), "0_0")
    streams._state = state
    live = StateDirectory(str(tmp_path), "app")
    live.lock()
    with pytest.raises(StateDirectoryLockedError, match=MESSAGE):
        streams.cleanup()
    assert os.path.isdir(task)
    live.unlock()
    streams.cleanup()
    assert not os.path.exists(task)
