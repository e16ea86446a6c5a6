"""`pystreams run`'s restore progress: lines with records/s when stderr is not a terminal, a rich bar when it is."""
from __future__ import annotations

import io
import re
import time

import pytest

from pystreams.cli.run_cmd import RestoreProgress

pytestmark = pytest.mark.unit


def test_not_a_tty_prints_one_line_per_batch_and_a_final_rate():
    out = io.StringIO()  # isatty() is False
    progress = RestoreProgress("[instance 1] ", out)
    assert not progress.tty
    progress("t-1", 1_000, 3_000)
    time.sleep(0.05)
    progress("t-1", 3_000, 3_000)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3, lines
    assert re.fullmatch(r"\[instance 1\] restoring state: 1,000/3,000 records \([\d,]+ records/s\)", lines[0])
    assert lines[1].startswith("[instance 1] restoring state: 3,000/3,000 records (")
    m = re.fullmatch(r"\[instance 1\] restore done: 3,000 records in ([\d.]+) s \(([\d,]+) records/s\)", lines[2])
    assert m, lines[2]
    rate = int(m.group(2).replace(",", ""))
    assert 0 < rate <= 3_000 / 0.05  # at least 50 ms passed since the first batch
    assert not progress.active


def test_a_restore_that_stops_short_of_its_estimate_is_closed_once_running():
    out = io.StringIO()
    progress = RestoreProgress("", out)
    progress("t-1", 500, 800)
    progress.tick(running=False, idle=0)
    assert progress.active  # still restoring
    progress.tick(running=True, idle=0)
    assert not progress.active
    assert out.getvalue().splitlines()[-1].startswith("restore done: 500 records in ")


def test_a_terminal_gets_a_progress_bar_with_records_per_second():
    out = io.StringIO()
    progress = RestoreProgress("", out, tty=True)
    progress("StreamThread-1", 2_500, 10_000)
    assert progress.active
    progress("StreamThread-1", 10_000, 10_000)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())
    assert "restoring StreamThread-1" in text and "10000/10000" in text and "records/s" in text
    assert "restore done: 10,000 records" in text and not progress.active
