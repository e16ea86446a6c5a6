"""`pystreams run` processes for multi-instance tests: stderr collected, SIGTERM/SIGKILL, task counts."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

from tests.integration.runtime.helpers import create_topics, unique

ROOT = Path(__file__).resolve().parents[3]
APP = '''
import os
from tests.integration.runtime.helpers import wordcount_topology
topology = wordcount_topology(os.environ["WC_SOURCE"], os.environ["WC_SINK"])
'''


def wordcount_app(bootstrap: str, tmp_path: Path, prefix: str,
                  partitions: int) -> tuple[str, str, str, Path, dict[str, str]]:
    """A word-count app on two fresh topics: (application.id, source, sink, script, env) for Instance."""
    app_id, source, sink = unique(prefix), unique("text"), unique("counts")
    create_topics(bootstrap, partitions, source, sink)
    script = tmp_path / "wc_app.py"
    script.write_text(APP)
    env = {**os.environ, "WC_SOURCE": source, "WC_SINK": sink, "PYTHONPATH": str(ROOT)}
    return app_id, source, sink, script, env


class Instance:
    """One `pystreams run` process; its stderr lines are collected by a reader thread."""

    def __init__(self, script: Path, bootstrap: str, app_id: str, state_dir: Path, env: dict[str, str],
                 extra: dict[str, str] | None = None) -> None:
        cmd = [sys.executable, "-c", "from pystreams.cli import main; main()", "run", str(script),
               "--set", f"bootstrap.servers={bootstrap}", "--set", f"application.id={app_id}",
               "--set", f"state.dir={state_dir}", "--set", "consumer.session.timeout.ms=10000",
               "--summary-interval", "0.3"]
        for key, value in (extra or {}).items():
            cmd += ["--set", f"{key}={value}"]
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

    def standbys(self) -> int:
        """Standby tasks in the latest summary line (-1 before the first one)."""
        for line in reversed(self.lines):
            m = re.search(r"standbys (\d+)", line)
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

    def output(self, last: int = 10) -> str:
        return "".join(self.lines[-last:])

    def kill(self) -> None:
        """SIGKILL the whole process group (the app, nothing else: its broker is not a child here)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
