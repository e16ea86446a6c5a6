"""`pystreams run examples/wordcount.py` as a user runs it: embedded broker, real output, clean stop on SIGTERM."""
from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.runtime.helpers import produce_lines, random_lines, read_counts_until, word_counts

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
CLI = [sys.executable, "-c", "from pystreams.cli import main; main()"]


def _wait_for_line(proc: subprocess.Popen, pattern: str, timeout: float, seen: list[str]) -> re.Match:
    sel = selectors.DefaultSelector()
    sel.register(proc.stderr, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                seen.append(proc.stderr.read().decode(errors="replace"))
                break
            if sel.select(timeout=0.2):
                line = proc.stderr.readline().decode(errors="replace")
                seen.append(line)
                match = re.search(pattern, line)
                if match:
                    return match
    finally:
        sel.close()
    raise AssertionError(f"no line matching {pattern!r} within {timeout} s; output:\n{''.join(seen)}")


def test_pystreams_run_wordcount_on_an_embedded_broker(tmp_path):
    env = {**os.environ, "PYSTREAMS_COMMIT_INTERVAL_MS": "200"}
    env.pop("PYSTREAMS_BOOTSTRAP_SERVERS", None)
    proc = subprocess.Popen(CLI + ["run", str(ROOT / "examples" / "wordcount.py"), "--set",
                                   f"state.dir={tmp_path}", "--summary-interval", "0.5"],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    seen: list[str] = []
    try:
        bootstrap = _wait_for_line(proc, r"embedded pystreams broker at (127\.0\.0\.1:\d+)", 60, seen).group(1)
        _wait_for_line(proc, r"^RUNNING", 60, seen)
        lines = random_lines(11, 200)
        produce_lines(bootstrap, "text-input", lines)
        expected = word_counts(lines)
        assert read_counts_until(bootstrap, "word-counts-output", lambda c: c == expected, timeout=60) == expected
        _wait_for_line(proc, r"processed [1-9]", 30, seen)
        proc.send_signal(signal.SIGTERM)
        _wait_for_line(proc, r"closed cleanly \(([\d,]+) records processed\)", 60, seen)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        proc.stderr.close()
    # the app's state (application.id defaults to the script's name) with checkpoints from the clean close
    assert (tmp_path / "wordcount" / "1_0" / ".checkpoint").exists()


def test_pystreams_run_reports_bad_config_clearly(tmp_path):
    result = subprocess.run(CLI + ["run", str(ROOT / "examples" / "wordcount.py"), "--set", "nonsense",
                                   "--set", "bootstrap.servers=127.0.0.1:1"],
                            cwd=tmp_path, capture_output=True, timeout=60)
    assert result.returncode == 2
    assert b"--set expects key=value" in result.stderr
