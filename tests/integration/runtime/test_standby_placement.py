"""num.standby.replicas=1 with 3 instances: every stateful task has exactly one standby, never on its owner
(an instance no longer keeps a standby of every task it does not run), and KeyQueryMetadata names it; placed by
the Streams assignor (carried in the assignment)."""
from __future__ import annotations

import time
from collections import Counter

import pytest

from pystreams import Serdes
from pystreams.runtime import KafkaStreams, State
from tests.integration.runtime.helpers import create_topics, served_instances, unique, wordcount_topology

pytestmark = pytest.mark.integration


def _standbys(app: KafkaStreams) -> set:
    return {t for th in app.threads if th._standby is not None for t in th._standby.tasks}


def _active(app: KafkaStreams) -> set:
    return {t for th in app.threads for t in th.tasks}


def test_three_instances_keep_one_standby_per_stateful_task(pystreams_broker, tmp_path):
    bootstrap = pystreams_broker.bootstrap_servers
    app_id, source, sink = unique("sb3"), unique("text"), unique("counts")
    create_topics(bootstrap, 6, source, sink)
    hosts, apps = served_instances(lambda: wordcount_topology(source, sink), 3, app_id, bootstrap, tmp_path,
                                   **{"num.standby.replicas": 1})
    try:
        for app in apps:
            app.start()
        stateful = {(1, p) for p in range(6)}  # the count sub-topology (after the repartition) has the store
        deadline = time.monotonic() + 60
        while True:
            actives = [_active(a) for a in apps]
            standbys = [_standbys(a) for a in apps]
            copies = Counter((t.subtopology, t.partition) for s in standbys for t in s)
            if (all(a.state is State.RUNNING for a in apps) and sum(len(a) for a in actives) == 12
                    and copies == Counter({t: 1 for t in stateful})):
                break
            assert time.monotonic() < deadline, (actives, standbys)
            time.sleep(0.2)
        for active, standby in zip(actives, standbys):
            assert not active & standby  # never a standby of one's own task
        assert sum(len(s) for s in standbys) == 6  # (the old rule kept 4 per instance: 12)
        seen = set()
        for word in (f"w{i}" for i in range(60)):  # KeyQueryMetadata names the instance keeping the standby
            meta = apps[0].query_metadata_for_key("word-counts", word, Serdes.String())
            keeper = [hosts[i] for i, s in enumerate(standbys) if (1, meta.partition) in
                      {(t.subtopology, t.partition) for t in s}]
            assert meta.standby_hosts == frozenset(keeper) and len(keeper) == 1, (word, meta, keeper)
            assert meta.active_host not in meta.standby_hosts
            seen.add(meta.partition)
        assert seen == set(range(6))
    finally:
        for app in apps:
            app.close(60)
