"""A consumer process that dies without leaving (SIGKILL) is expired by its session timeout and
the surviving member takes over its partitions."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest
from confluent_kafka import Consumer, Producer

from tests.integration.broker._clients import create_topic, unique

pytestmark = pytest.mark.integration

MEMBER = textwrap.dedent("""
    import sys
    import time
    from confluent_kafka import Consumer
    c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": sys.argv[2],
                  "session.timeout.ms": 1500, "heartbeat.interval.ms": 300,
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe([sys.argv[3]])
    told = False
    give_up = time.time() + 30  # the test reads our stdout: never leave it waiting
    while True:
        m = c.poll(0.2)
        if m is not None and not m.error():
            c.commit(m, asynchronous=False)
        if c.assignment() and not told:
            print("assigned", flush=True)
            told = True
        if not told and time.time() > give_up:
            sys.exit("no assignment within 30 s")
""")


def test_killed_member_is_expired_and_its_partitions_move(pystreams_broker_factory, tmp_path):
    broker = pystreams_broker_factory(tmp_path / "data", **{"group.min.session.timeout.ms": 1000})
    bs = broker.bootstrap_servers
    topic, group = unique("sess"), unique("sess-g")
    create_topic(bs, topic, partitions=4)
    producer = Producer({"bootstrap.servers": bs})
    for i in range(40):
        producer.produce(topic, value=str(i).encode(), partition=i % 4)
    assert producer.flush(10) == 0

    doomed = subprocess.Popen([sys.executable, "-c", MEMBER, bs, group, topic],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert doomed.stdout is not None and doomed.stdout.readline().strip() == b"assigned"
        survivor = Consumer({"bootstrap.servers": bs, "group.id": group,
                             "session.timeout.ms": 1500, "heartbeat.interval.ms": 300,
                             "auto.offset.reset": "earliest", "enable.auto.commit": False})
        survivor.subscribe([topic])
        deadline = time.time() + 15
        while time.time() < deadline and len(survivor.assignment()) in (0, 4):
            survivor.poll(0.2)  # wait until the group is split between the two members
        assert 0 < len(survivor.assignment()) < 4
        doomed.kill()  # no LeaveGroup: only the session timeout can notice
        doomed.wait()
        killed_at = time.time()
        while time.time() < killed_at + 15 and len(survivor.assignment()) < 4:
            survivor.poll(0.2)
        assert len(survivor.assignment()) == 4
        assert time.time() - killed_at < 10  # 1.5 s session + rebalance, not forever
        survivor.close()
    finally:
        if doomed.poll() is None:
            doomed.kill()
            doomed.wait()
