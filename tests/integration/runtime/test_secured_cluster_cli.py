"""`pystreams run` against a secured cluster, as a user runs it: the security keys given with --set, word count
through the reference Kafka's SASL_PLAINTEXT listener; a wrong password ends the command at once with the broker's
reason. Reference Apache Kafka 4.x only (tests/fixtures/secured_kafka.py): our broker has no security yet."""
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

from tests.fixtures.secured_kafka import PLAIN_PASSWORD, PLAIN_USER
from tests.integration.runtime.helpers import (
    create_topics,
    produce_lines,
    random_lines,
    read_counts_until,
    unique,
    word_counts,
)

pytestmark = [pytest.mark.integration, pytest.mark.reference]

ROOT = Path(__file__).resolve().parents[3]
CLI = [sys.executable, "-c", "from pystreams.cli import main; main()"]


def _wait_for_line(proc: subprocess.Popen, pattern: str, timeout: float, seen: list[str]) -> None:
    """Read the command's stderr until a line matches (AssertionError with the output otherwise)."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stderr, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if sel.select(timeout=0.2):
                line = proc.stderr.readline().decode(errors="replace")
                seen.append(line)
                if re.search(pattern, line):
                    return
    finally:
        sel.close()
    if proc.poll() is not None:  # exited: what it wrote last is still in the pipe
        rest = proc.stderr.read().decode(errors="replace")
        seen.append(rest)
        if any(re.search(pattern, line) for line in rest.splitlines()):
            return
    raise AssertionError(f"no line matching {pattern!r} within {timeout} s; output:\n{''.join(seen)}")


def _run(kafka, tmp_path: Path, password: str) -> subprocess.Popen:
    sets = {"bootstrap.servers": kafka.sasl_bootstrap_servers, "application.id": unique("wc-cli"),
            "state.dir": str(tmp_path), "commit.interval.ms": "200", "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "PLAIN", "sasl.username": PLAIN_USER, "sasl.password": password}
    argv = CLI + ["run", str(ROOT / "examples" / "wordcount.py"), "--summary-interval", "0.5"]
    for key, value in sets.items():
        argv += ["--set", f"{key}={value}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYSTREAMS_")}
    return subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    proc.stderr.close()


def test_pystreams_run_with_sasl_keys_on_the_command_line(secured_kafka, tmp_path):
    plaintext = secured_kafka.bootstrap_servers
    create_topics(plaintext, 2, "text-input", "word-counts-output")
    proc = _run(secured_kafka, tmp_path, PLAIN_PASSWORD)
    seen: list[str] = []
    try:
        _wait_for_line(proc, r"^RUNNING", 60, seen)
        lines = random_lines(5, 100)
        produce_lines(plaintext, "text-input", lines)
        expected = word_counts(lines)
        assert read_counts_until(plaintext, "word-counts-output", lambda c: c == expected, timeout=60) == expected
        proc.send_signal(signal.SIGTERM)
        _wait_for_line(proc, r"closed cleanly", 60, seen)
        assert proc.wait(30) == 0
    finally:
        _stop(proc)


def test_pystreams_run_with_a_wrong_password_stops_at_once_with_the_reason(secured_kafka, tmp_path):
    began = time.monotonic()
    proc = _run(secured_kafka, tmp_path, "not-the-password")
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        _stop(proc)
    text = err.decode(errors="replace")
    assert proc.returncode not in (0, None), text
    assert "Invalid username or password" in text and "sasl.password" in text, text
    assert time.monotonic() - began < 30, text
    assert text.count("\n") < 30, text  # the reason, not a flood of client log lines
