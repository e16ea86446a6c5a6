"""start()'s topic work reads the cluster's metadata once: plan_topology keeps what it read (plan.cluster_topics)
and ensure_internal_topics creates from it (room P2: each admin metadata round trip is 1-50 ms of start-up)."""
from __future__ import annotations

import pytest

from pystreams.runtime.topics import (
    InternalTopicError,
    ensure_internal_topics,
    plan_topology,
)
from tests.unit.runtime.test_topics import FakeAdmin, _wordcount

pytestmark = pytest.mark.unit


class CountingAdmin(FakeAdmin):
    def __init__(self, topics: dict[str, int]) -> None:
        super().__init__(topics)
        self.reads = 0

    def list_topics(self, timeout: float = 0):
        self.reads += 1
        return super().list_topics(timeout)

    def describe_topics(self, topics, request_timeout: float = 0):
        self.reads += 1
        return super().describe_topics(topics, request_timeout)


def test_plan_metadata_is_reused_for_internal_topic_creation():
    topology, admin = _wordcount(), CountingAdmin({"text": 4, "out": 1})
    plan = plan_topology(topology, "wc", admin)
    assert plan.cluster_topics == {"text": 4, "out": 1}
    assert admin.reads == 1
    created = ensure_internal_topics(topology, plan, admin, existing=plan.cluster_topics)
    assert sorted(created) == ["wc-counts-changelog", "wc-counts-repartition"]
    assert admin.reads == 2  # only the wait for the created topics to show up in the metadata


def test_nothing_to_create_costs_no_metadata_read():
    topology = _wordcount()
    admin = CountingAdmin({"text": 4, "out": 1, "wc-counts-changelog": 4, "wc-counts-repartition": 4})
    plan = plan_topology(topology, "wc", admin)
    assert ensure_internal_topics(topology, plan, admin, existing=plan.cluster_topics) == []
    assert admin.reads == 1 and admin.created == []


def test_wrong_partition_count_is_still_caught_from_the_plans_metadata():
    topology = _wordcount()
    admin = CountingAdmin({"text": 4, "out": 1, "wc-counts-changelog": 2})
    plan = plan_topology(topology, "wc", admin)
    with pytest.raises(InternalTopicError, match="wc-counts-changelog has invalid partitions: expected: 4; actual: 2"):
        ensure_internal_topics(topology, plan, admin, existing=plan.cluster_topics)
