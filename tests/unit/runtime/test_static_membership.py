"""Static membership with several stream threads: each thread's member joins as `<group.instance.id>-<index>`
(Kafka's StreamThread: groupInstanceId + "-" + threadIdx), so two threads of one client never share a static id."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pystreams.runtime.config import StreamsConfig
from pystreams.runtime.group.streams_member import (
    StreamsMember,
    thread_group_instance_id,
)
from pystreams.runtime.thread_admin import next_thread_index
from pystreams.runtime.topics import SubtopologyPlan, TopologyPlan
from tests.unit.runtime.group.fakes import FakeClient

pytestmark = pytest.mark.unit


def _thread(tmp_path: Any, index: int, **extra: Any) -> SimpleNamespace:
    plan = TopologyPlan("app", [SubtopologyPlan(0, ("a",), ["in"], [], 1, {})], {"in": 1}, {}, {})
    config = StreamsConfig({"application.id": "app", "bootstrap.servers": "127.0.0.1:1", "state.dir": str(tmp_path),
                            **extra})
    streams = SimpleNamespace(process_id="p1", shutdown_requested=0)
    return SimpleNamespace(name=f"c-StreamThread-{index}", index=index, plan=plan, config=config, streams=streams,
                           tasks={}, _standby=None)


def _member_id(tmp_path: Any, index: int, **extra: Any) -> str | None:
    member = StreamsMember(_thread(tmp_path, index, **extra), (FakeClient(), FakeClient()))
    return member.member.config.group_instance_id


def test_each_thread_joins_with_its_own_static_id(tmp_path: Any) -> None:
    # stream thread indexes start at 1, as Kafka's (KafkaStreams numbers its threads 1..num.stream.threads)
    first = next_thread_index([])
    ids = [_member_id(tmp_path, i, **{"group.instance.id": "node-a"}) for i in range(first, first + 3)]
    assert ids == ["node-a-1", "node-a-2", "node-a-3"]


def test_the_consumer_prefixed_group_instance_id_gets_the_suffix_too(tmp_path: Any) -> None:
    assert _member_id(tmp_path, 1, **{"consumer.group.instance.id": "node-b"}) == "node-b-1"


def test_without_group_instance_id_the_membership_stays_dynamic(tmp_path: Any) -> None:
    assert _member_id(tmp_path, 1) is None and _member_id(tmp_path, 4) is None


def test_the_suffix_helper() -> None:
    assert thread_group_instance_id("x", 7) == "x-7"
    assert thread_group_instance_id("x", None) == "x"
    assert thread_group_instance_id(None, 2) is None and thread_group_instance_id("", 2) is None
