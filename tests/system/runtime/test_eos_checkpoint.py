"""exactly_once_v2: an unclean shutdown never leaves a `.checkpoint` that covers uncommitted state.

Under EOS a task's local state runs ahead of what is committed while it processes, so (like Kafka Streams) the
checkpoint exists only while the state matches a commit: written at a clean close or revocation, deleted as
soon as the task processes again. A restarted instance without a checkpoint wipes the task and restores it from
the changelog (read_committed); one that found a stale checkpoint would restore on top of uncommitted writes and
count twice. The case that breaks it: a rebalance hands some tasks to a second instance (the revocation's final
commit checkpoints every task, and the tasks assigned back start from their checkpoint), the first instance keeps
processing the tasks it kept, then it is killed: only the tasks it handed over may have a checkpoint.
"""
from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest

from tests.integration.runtime.helpers import (
    produce_lines,
    random_lines,
    read_count_updates,
    word_counts,
)
from tests.integration.runtime.instances import Instance, wordcount_app

pytestmark = [pytest.mark.system, pytest.mark.slow]

ALL_TASKS = {f"{sub}_{p}" for sub in (0, 1) for p in range(3)}


def _task_dirs(state_dir: Path, app_id: str) -> dict[str, bool]:
    """task id -> whether its directory holds a .checkpoint."""
    app_dir = state_dir / app_id
    if not app_dir.is_dir():
        return {}
    return {d.name: (d / ".checkpoint").exists() for d in app_dir.iterdir() if d.name in ALL_TASKS}


def _log(instance: Instance) -> str:
    """The instance's stderr without its summary lines."""
    return "".join(line for line in instance.lines if "records/s" not in line)[-6000:]


def _processed(instance: Instance) -> int:
    """Records processed in the instance's latest summary line (-1 before the first one)."""
    for line in reversed(instance.lines):
        m = re.search(r"processed ([\d,]+)", line)
        if m:
            return int(m.group(1).replace(",", ""))
    return -1


def _wait(condition, what: str, instances: list[Instance], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, (f"{what}: tasks {[i.tasks() for i in instances]}\n"
                                             + "\n".join(_log(i) for i in instances))
        time.sleep(0.1)


def test_no_checkpoint_covers_uncommitted_state_after_a_kill(kafka_broker, tmp_path):
    """Our cooperative membership: only the moved tasks are revoked, and the final commit checkpoints the kept ones
    too, which must drop that checkpoint again."""
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink, script, env = wordcount_app(bootstrap, tmp_path, "wc-eos-ckpt", 3)
    # a short session (no broker floor in the tests), heartbeats well inside it
    extra = {"processing.guarantee": "exactly_once_v2", "statestore.cache.max.bytes": "0",
             "consumer.session.timeout.ms": "3000", "consumer.heartbeat.interval.ms": "500"}
    state_a, state_b = tmp_path / "state-a", tmp_path / "state-b"
    lines = random_lines(81, 3000)
    feeder = threading.Thread(target=lambda: [produce_lines(bootstrap, source, lines[s:s + 30], s)
                                              or time.sleep(0.1) for s in range(0, len(lines), 30)])
    started: list[Instance] = []
    try:
        a = Instance(script, bootstrap, app_id, state_a, env, extra)
        started.append(a)
        _wait(lambda: a.tasks() == 6, "the first instance never ran all 6 tasks", started)
        feeder.start()
        time.sleep(1.0)
        b = Instance(script, bootstrap, app_id, state_b, env, extra)
        started.append(b)
        _wait(lambda: b.tasks() > 0 and 0 < a.tasks() < 6, "no hand-over of some tasks", started)
        # the first instance keeps processing the tasks it kept, past the revocation's commit: wait until its
        # processed count (summary every 0.3 s) has clearly risen after the hand-over, while input still streams in
        handed_over = _processed(a)
        _wait(lambda: _processed(a) >= handed_over + 300, "the first instance did not process its kept tasks",
              started, timeout=30)
        a.kill()
        owned_by_b = set(_task_dirs(state_b, app_id))  # before B takes over A's tasks (session timeout: 3 s)
        left_by_a = _task_dirs(state_a, app_id)
        kept_by_a = ALL_TASKS - owned_by_b
        assert kept_by_a and owned_by_b, (owned_by_b, left_by_a)
        # the revoked stateful tasks were closed cleanly: checkpointed; the kept ones were processing: none. The
        # stateless 0_x tasks have no store to checkpoint: like Kafka (an empty OffsetCheckpoint deletes the file)
        # they have no .checkpoint at all
        assert {t for t, has in left_by_a.items() if has} == {t for t in owned_by_b if t.startswith("1_")}, (
            owned_by_b, left_by_a)
        restarted = Instance(script, bootstrap, app_id, state_a, env, extra)
        started.append(restarted)
        feeder.join(120)
        expected = word_counts(lines)
        # every update read, then after a 2 s settle (anything late shows up now) again up to the end offsets (was:
        # a re-read waiting 3 s for one record more than expected, always waited out when the test passes)
        per_word = read_count_updates(bootstrap, sink, sum(expected.values()), timeout=120)
        assert per_word == {w: list(range(1, n + 1)) for w, n in expected.items()}
        assert [i.stop() for i in (b, restarted)] == [0, 0], "\n".join(i.output(20) for i in started)
    finally:
        for instance in started:
            instance.kill()
