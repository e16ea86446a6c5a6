"""poll_group() on a fake thread: the order of the steps (lost; revoke then unassign; hooks and standbys; committed
offsets BEFORE the restore in _on_assign; then assign() of the added partitions only) and the rejoin after a
revocation whose commit failed."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING

from pystreams.runtime.assignment import AssignmentInfo
from pystreams.runtime.group.membership import Rebalance
from pystreams.runtime.group.thread_rebalance import poll_group

pytestmark = pytest.mark.unit

A0, A1, A2 = ("in", 0), ("in", 1), ("in", 2)


class FakeThread:
    def __init__(self, polled: Any, tasks: dict[Any, Any] | None = None, fail_revoke: bool = False) -> None:
        self.steps: list[tuple[str, Any]] = []
        self.tasks = dict(tasks or {})
        self.by_partition = {tp: SimpleNamespace(id=t) for t, tps in self.tasks.items() for tp in tps}
        self._rejoin_pending = False
        self.fail_revoke = fail_revoke
        self.config = SimpleNamespace(get=lambda key, default=None: "earliest")
        self.streams = SimpleNamespace(_on_assignment=lambda thread, info: self.steps.append(("hook", info)))
        self._standby = SimpleNamespace(assign=lambda tasks: self.steps.append(("standby", tasks)))
        self._group = SimpleNamespace(poll=lambda: polled, committed_with_metadata=self._committed)
        assigned: set[Any] = {tp for tps in self.tasks.values() for tp in tps}
        self._consumer = SimpleNamespace(
            assignment=lambda: [SimpleNamespace(topic=t, partition=p) for t, p in sorted(assigned)],
            incremental_unassign=lambda tps: self.steps.append(("unassign", [(x.topic, x.partition) for x in tps])),
            incremental_assign=lambda tps: self.steps.append(
                ("assign", [(x.topic, x.partition, x.offset) for x in tps])))

    def _committed(self, partitions: list[Any]) -> dict[Any, tuple[int, str]]:
        self.steps.append(("committed", list(partitions)))
        return {tp: (-1 if tp == A2 else 10 + tp[1], "") for tp in partitions}

    def _on_lost(self, consumer: Any, partitions: Any) -> None:
        self.steps.append(("lost", None))
        self.tasks.clear()

    def _on_revoke(self, consumer: Any, partitions: Any) -> None:
        self.steps.append(("revoke", [(x.topic, x.partition) for x in partitions]))
        if self.fail_revoke:
            self.tasks.clear()
            self._rejoin_pending = True

    def _on_assign(self, consumer: Any, partitions: Any, committed: Any = None) -> None:
        self.steps.append(("restore", [(x.topic, x.partition) for x in partitions]))

    def _rejoin_group(self) -> None:
        self.steps.append(("rejoin", None))


def test_added_partitions_read_committed_offsets_before_the_restore_then_assign_at_them() -> None:
    info = AssignmentInfo(standby_tasks={})
    thread = FakeThread((Rebalance(2, added=frozenset({A1, A2}), assigned=frozenset({A0, A1, A2})), info),
                        tasks={"t0": [A0]})
    poll_group(thread)
    assert [s for s, _ in thread.steps] == ["hook", "standby", "committed", "restore", "assign"]
    assert thread.steps[3] == ("restore", [A0, A1, A2])
    assert thread.steps[4] == ("assign", [("in", 1, 11), ("in", 2, OFFSET_BEGINNING)])  # none committed: reset


def test_revoked_partitions_are_committed_closed_and_unassigned_the_rest_untouched() -> None:
    thread = FakeThread((Rebalance(3, revoked=frozenset({A1}), assigned=frozenset({A0})), AssignmentInfo()),
                        tasks={"t0": [A0], "t1": [A1]})
    thread._on_revoke = lambda c, ps: (thread.steps.append(("revoke", [(x.topic, x.partition) for x in ps])),
                                       thread.tasks.pop("t1"))
    poll_group(thread)
    assert [s for s, _ in thread.steps] == ["revoke", "unassign", "hook", "standby", "restore"]
    assert thread.steps[1] == ("unassign", [A1]) and "t0" in thread.tasks


def test_a_failed_revocation_commit_rejoins_without_assigning() -> None:
    thread = FakeThread((Rebalance(3, revoked=frozenset({A1}), assigned=frozenset({A0})), AssignmentInfo()),
                        tasks={"t0": [A0], "t1": [A1]}, fail_revoke=True)
    poll_group(thread)
    assert [s for s, _ in thread.steps] == ["revoke", "unassign", "rejoin"]
    assert not thread._rejoin_pending


def test_lost_partitions_close_dirty_and_are_unassigned() -> None:
    thread = FakeThread((Rebalance(-1, lost=frozenset({A0})), None), tasks={"t0": [A0]})
    poll_group(thread)
    assert thread.steps == [("lost", None), ("unassign", [A0])]


def test_nothing_changed_does_nothing() -> None:
    thread = FakeThread(None, tasks={"t0": [A0]})
    poll_group(thread)
    assert thread.steps == []
