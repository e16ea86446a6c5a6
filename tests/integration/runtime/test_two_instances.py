"""Two `pystreams run` processes of one app share the partitions (one consumer group) and the counts are exact."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.integration.runtime.helpers import (create_topics, produce_lines, random_lines, read_counts_until, unique,
                                               word_counts)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
APP = '''
import os
from tests.integration.runtime.helpers import wordcount_topology
topology = wordcount_topology(os.environ["WC_SOURCE"], os.environ["WC_SINK"])
'''


class Instance:
    """One `pystreams run` process; its stderr lines are collected by a reader thread."""

    def __init__(self, script: Path, bootstrap: str, app_id: str, state_dir: Path, env: dict[str, str]) -> None:
        cmd = [sys.executable, "-c", "from pystreams.cli import main; main()", "run", str(script),
               "--set", f"bootstrap.servers={bootstrap}", "--set", f"application.id={app_id}",
               "--set", f"state.dir={state_dir}", "--set", "commit.interval.ms=200",
               "--set", "consumer.session.timeout.ms=10000", "--summary-interval", "0.3"]
        self.proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     start_new_session=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for raw in self.proc.stderr:
            self.lines.append(raw.decode(errors="replace"))

    def tasks(self) -> int:
        """Active tasks in the latest summary line (-1 before the first one)."""
        for line in reversed(self.lines):
            m = re.search(r"tasks (\d+)", line)
            if m:
                return int(m.group(1))
        return -1

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(60)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def test_two_instances_share_the_partitions_and_count_exactly(pystreams_broker, tmp_path):
    bootstrap = pystreams_broker.bootstrap_servers
    app_id, source, sink = unique("wc-2x"), unique("text"), unique("counts")
    create_topics(bootstrap, 4, source, sink)
    script = tmp_path / "wc_app.py"
    script.write_text(APP)
    env = {**os.environ, "WC_SOURCE": source, "WC_SINK": sink, "PYTHONPATH": str(ROOT)}
    batches = [random_lines(21, 300), random_lines(22, 300)]
    produce_lines(bootstrap, source, batches[0])
    instances = [Instance(script, bootstrap, app_id, tmp_path / "state", env) for _ in range(2)]
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
