"""Two `pystreams run` processes of one app share the partitions (one consumer group) and the counts are exact."""
from __future__ import annotations

import time

import pytest

from tests.integration.runtime.helpers import (
    produce_lines,
    random_lines,
    read_counts_until,
    word_counts,
)
from tests.integration.runtime.instances import Instance, wordcount_app

pytestmark = pytest.mark.integration


def test_two_instances_share_the_partitions_and_count_exactly(pystreams_broker, tmp_path):
    bootstrap = pystreams_broker.bootstrap_servers
    app_id, source, sink, script, env = wordcount_app(bootstrap, tmp_path, "wc-2x", 4)
    batches = [random_lines(21, 300), random_lines(22, 300)]
    produce_lines(bootstrap, source, batches[0])
    extra = {"commit.interval.ms": "200"}
    # each its own state.dir, as Kafka requires (a second live instance on one state directory is refused)
    instances = [Instance(script, bootstrap, app_id, tmp_path / f"state-{i}", env, extra) for i in range(2)]
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:  # 8 tasks (2 sub-topologies x 4 partitions) split 4 + 4
            if [i.tasks() for i in instances] == [4, 4]:
                break
            assert all(i.proc.poll() is None for i in instances), "".join(instances[0].lines + instances[1].lines)
            time.sleep(0.2)
        assert [i.tasks() for i in instances] == [4, 4], "".join(instances[0].lines[-5:] + instances[1].lines[-5:])
        produce_lines(bootstrap, source, batches[1], 300)
        expected = word_counts(batches[0] + batches[1])
        assert read_counts_until(bootstrap, sink, lambda c: c == expected, timeout=60) == expected
        codes = [i.stop() for i in instances]
        assert codes == [0, 0], "".join(instances[0].lines[-5:] + instances[1].lines[-5:])
    finally:
        for i in instances:
            i.kill()
