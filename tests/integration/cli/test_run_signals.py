"""`pystreams run` stops cleanly on Ctrl-C (SIGINT to its whole process group, as a terminal sends it) and on
SIGTERM, with one instance or with --instances 2: every app closes (final commit, checkpoints), says so, exits 0, and
the embedded broker it started (and said where) is gone afterwards."""
from __future__ import annotations

import os
import re
import signal
import socket
import time

import pytest

from tests.integration.cli.run_process import ROOT, RunProcess
from tests.integration.runtime.helpers import (
    produce_lines,
    random_lines,
    read_counts_until,
    word_counts,
)

pytestmark = pytest.mark.integration

WORDCOUNT = ROOT / "examples" / "wordcount.py"
SAYS_WHERE = (r"^no bootstrap.servers configured: started an embedded pystreams broker at (127\.0\.0\.1:(\d+)) "
              r"\(data in (\S+); it stops with this command\)\. Clients reach it with bootstrap.servers=\1")


def _port_closed(port: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
@pytest.mark.parametrize("instances", [1, 2])
def test_run_stops_cleanly_on_a_signal(tmp_path, how, instances):
    state = tmp_path / "state"
    args = [str(WORDCOUNT), "--set", f"state.dir={state}", "--set", "commit.interval.ms=200",
            "--summary-interval", "0.3", "--instances", str(instances)]
    prefix = r"\[instance \d\] " if instances > 1 else ""
    with RunProcess(args, cwd=tmp_path) as run:
        where = run.wait_for(SAYS_WHERE, 60)[0]
        bootstrap, port, data_dir = where.group(1), int(where.group(2)), where.group(3)
        assert os.path.isdir(data_dir)
        run.wait_for(rf"^{prefix}RUNNING .* tasks [1-9]", 90, count=instances)
        lines = random_lines(17, 60)
        produce_lines(bootstrap, "text-input", lines)
        expected = word_counts(lines)
        assert read_counts_until(bootstrap, "word-counts-output", lambda c: c == expected, 60) == expected
        if how == "ctrl-c":
            os.killpg(run.proc.pid, signal.SIGINT)  # the terminal's foreground group: the run and its children
        else:
            run.proc.send_signal(signal.SIGTERM)
        assert run.proc.wait(90) == 0, run.digest()
        assert run.output_closed(30), run.digest()
        closed = run.matches(rf"^{prefix}closed cleanly \(([\d,]+) records processed\)")
        out = run.output()
    assert len(closed) == instances, out[-4000:]
    assert sum(int(m.group(1).replace(",", "")) for m in closed) >= sum(len(line.split()) for line in lines)
    assert "Traceback" not in out and "KeyboardInterrupt" not in out, out[-4000:]
    assert _port_closed(port), f"the embedded broker at {bootstrap} still answers after the run exited"
    app_dirs = [state] if instances == 1 else [state / f"instance-{i}" for i in range(instances)]
    checkpoints = [p for d in app_dirs for p in (d / "wordcount").glob("*/.checkpoint")]
    assert checkpoints, f"no .checkpoint under {app_dirs}: not a clean close"
    assert all(re.fullmatch(r"\d+_\d+", p.parent.name) for p in checkpoints)
