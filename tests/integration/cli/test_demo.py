"""`make demo`'s script on a real terminal (a pseudo-terminal): both runs of `pystreams run` draw the live summary
line with the counts printed above it, the second run restores from the changelog with a progress bar, and the demo
checks every count (exit 0)."""
from __future__ import annotations

import fcntl
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import termios
import threading

import pytest

from tests.integration.cli.run_process import ROOT

pytestmark = pytest.mark.integration

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def test_make_demo_on_a_terminal():
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYSTREAMS_")}
    env.update(PYTHONPATH=str(ROOT), TERM="xterm-256color")
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([sys.executable, "-m", "examples.demo"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every writer is gone
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        code = proc.wait(180)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        reader.join(10)
        os.close(master)
    raw = b"".join(chunks).decode(errors="replace")
    segments = [s for s in re.split(r"[\r\n]", ANSI.sub("", raw)) if s.strip()]
    text = "\n".join(segments)
    assert code == 0, text[-5000:]
    assert "every count is right (the second run went on from the restored state)" in text
    assert "\x1b[" in raw  # drawn as on a terminal, not plain lines
    summaries = [s for s in segments if re.match(r"RUNNING +[\d,]+ records/s  processed \d+", s)]
    assert summaries, text[-5000:]
    assert "[word-counts]: kafka, 7" in segments and "[word-counts]: kafka, 9" in segments  # run 1, then run 2
    assert not [s for s in segments if "records/s" in s and "[word-counts]" in s]  # results never glued to it
    assert re.search(r"restoring StreamThread-1 .* \d+/\d+", text), text[-5000:]
    assert re.search(r"restore done: [1-9][\d,]* records", text), text[-5000:]
    assert len(re.findall(r"^closed cleanly \(\d+ records processed\)$", text, re.MULTILINE)) == 2
