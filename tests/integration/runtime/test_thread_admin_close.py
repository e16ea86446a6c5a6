"""close(CloseOptions(...)) on both brokers: LEAVE_GROUP (and pystreams' default) sends LeaveGroup, so the group is
empty at once; REMAIN_IN_GROUP closes without it, so the member stays until session.timeout.ms expires it (what
Kafka Streams does on a bounce, to avoid a rebalance in a rolling restart)."""
from __future__ import annotations

import time

import pytest
from confluent_kafka.admin import AdminClient

from pystreams.runtime import KafkaStreams, State
from pystreams.runtime.thread_admin import CloseOptions, GroupMembershipOperation
from tests.integration.runtime.helpers import create_topics, unique, wordcount_topology

pytestmark = pytest.mark.integration

SESSION_MS = 6000  # the smallest both brokers accept (group.min.session.timeout.ms)


def _members(admin: AdminClient, group: str) -> int:
    return len(admin.describe_consumer_groups([group])[group].result(30).members)


def _run_and_close(bootstrap: str, tmp_path, options: CloseOptions) -> str:
    source, sink = unique("text"), unique("counts")
    create_topics(bootstrap, 2, source, sink)
    app = unique("closeopts")
    streams = KafkaStreams(wordcount_topology(source, sink), {
        "application.id": app, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
        "num.stream.threads": 2, "session.timeout.ms": SESSION_MS, "heartbeat.interval.ms": 1000})
    try:
        streams.start()
        assert streams.wait_for_state(State.RUNNING, timeout=60), streams.state
    finally:
        assert streams.close(options)
    assert streams.state is State.NOT_RUNNING
    return app


@pytest.mark.parametrize("options", [CloseOptions(timeout=60, leave_group=True),
                                     CloseOptions(group_membership_operation=GroupMembershipOperation.DEFAULT)],
                         ids=["leave_group", "default"])
def test_leaving_on_close_empties_the_group_at_once(kafka_broker, tmp_path, options):
    bootstrap = kafka_broker.bootstrap_servers
    app = _run_and_close(bootstrap, tmp_path, options)
    assert _members(AdminClient({"bootstrap.servers": bootstrap}), app) == 0


def test_remain_in_group_keeps_the_members_until_the_session_times_out(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    options = CloseOptions(timeout=60).with_group_membership_operation(GroupMembershipOperation.REMAIN_IN_GROUP)
    closed = time.monotonic()
    app = _run_and_close(bootstrap, tmp_path, options)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    assert _members(admin, app) == 2  # both threads' members are still in the group
    deadline = closed + SESSION_MS / 1000 + 15
    while _members(admin, app) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _members(admin, app) == 0  # expired by the session timeout, not by a LeaveGroup
