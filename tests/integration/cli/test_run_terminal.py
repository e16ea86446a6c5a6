"""`pystreams run --instances 2` on a real terminal (a pseudo-terminal): the parent draws one live summary line per
instance at the bottom and prints the children's results and messages above them, never glued to a summary line;
SIGTERM closes both instances cleanly."""
from __future__ import annotations

import fcntl
import os
import pty
import re
import signal
import struct
import subprocess
import termios
import threading
import time

import pytest

from tests.integration.cli.run_process import CLI, ROOT
from tests.integration.runtime.helpers import produce_lines

pytestmark = pytest.mark.integration

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class _PtyRun:
    def __init__(self, args: list[str], cwd) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYSTREAMS_")}
        env.update(PYTHONPATH=str(ROOT), TERM="xterm-256color")
        self.proc = subprocess.Popen(CLI + ["run", *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                     stdout=slave, stderr=slave, start_new_session=True)
        os.close(slave)
        self.master = master
        self.chunks: list[bytes] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.chunks.append(data)

    def raw(self) -> str:
        return b"".join(self.chunks).decode(errors="replace")

    def segments(self) -> list[str]:
        return [s for s in re.split(r"[\r\n]", ANSI.sub("", self.raw())) if s.strip()]

    def wait_for(self, pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for segment in self.segments():
                if m := re.search(pattern, segment):
                    return m
            time.sleep(0.2)
        raise AssertionError(f"{pattern!r} not seen in {timeout} s:\n" + "\n".join(self.segments()[-40:]))

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.reader.join(10)
        os.close(self.master)


def test_instances_on_a_terminal_get_one_live_summary_line_each(tmp_path):
    run = _PtyRun([str(ROOT / "examples" / "wordcount.py"), "--instances", "2", "--summary-interval", "0.3",
                   "--set", f"state.dir={tmp_path / 'state'}", "--set", "commit.interval.ms=200"], tmp_path)
    try:
        bootstrap = run.wait_for(r"embedded pystreams broker at (127\.0\.0\.1:\d+)", 60).group(1)
        for i in range(2):
            run.wait_for(rf"^\[instance {i}\] RUNNING +[\d,]+ records/s", 90)
        produce_lines(bootstrap, "text-input", ["kafka streams kafka", "python kafka"])
        run.wait_for(r"\[word-counts\]: kafka, 3$", 60)
        run.proc.send_signal(signal.SIGTERM)
        assert run.proc.wait(90) == 0, "\n".join(run.segments()[-40:])
    finally:
        run.close()
    segments = run.segments()
    assert "\x1b[" in run.raw()
    assert not [s for s in segments if "records/s" in s and "[word-counts]" in s]
    for i in range(2):
        assert f"[instance {i}] closed cleanly" in "\n".join(segments)
    # the region's last drawing holds both instances' lines, instance 0 first
    last = [s for s in segments if re.match(r"^\[instance \d\] [A-Z_]+ +[\d,]+ records/s", s)][-2:]
    assert [s[:12] for s in last] == ["[instance 0]", "[instance 1]"], last
