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
    # the first batch's duration is unknown: no rate yet (it was ~1,000,000 records/s: 1,000 records over 1 ms)
    assert lines[0] == "[instance 1] restoring state: 1,000/3,000 records"
    m = re.fullmatch(r"\[instance 1\] restoring state: 3,000/3,000 records \(([\d,]+) records/s\)", lines[1])
    assert m, lines[1]
    assert 0 < int(m.group(1).replace(",", "")) <= 2_000 / 0.05  # the 2,000 after the first batch, over >= 50 ms
    m = re.fullmatch(r"\[instance 1\] restore done: 3,000 records \(2,000 in [\d.]+ s after the first batch: "
                     r"([\d,]+) records/s\)", lines[2])
    assert m, lines[2]
    rate = int(m.group(1).replace(",", ""))
    assert 0 < rate <= 2_000 / 0.05  # at least 50 ms passed since the first batch
    assert not progress.active


def test_a_one_batch_restore_prints_its_count_and_no_rate():
    """A restore done in one batch: the listener never saw it start, so no line claims a records/s figure."""
    out = io.StringIO()
    progress = RestoreProgress("", out)
    progress("t-1", 20_000, 20_000)
    assert out.getvalue().splitlines() == ["restoring state: 20,000/20,000 records",
                                           "restore done: 20,000 records in one batch (too quick to measure a rate)"]
    assert not progress.active


def test_batches_too_close_together_give_no_rate():
    out = io.StringIO()
    progress = RestoreProgress("", out)
    for done in (100, 200, 300):
        progress("t-1", done, 300)  # microseconds apart: below MIN_RATE_WINDOW_S
    lines = out.getvalue().splitlines()
    assert lines[:3] == ["restoring state: 100/300 records", "restoring state: 200/300 records",
                         "restoring state: 300/300 records"]
    assert re.fullmatch(r"restore done: 300 records in 3 batches within \d+ ms \(too quick to measure a rate\)",
                        lines[3]), lines[3]


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
    time.sleep(0.02)  # a measurable span after the first batch
    progress("StreamThread-1", 10_000, 10_000)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())
    assert "restoring StreamThread-1" in text and "10000/10000" in text and "records/s" in text
    assert "restore done: 10,000 records" in text and not progress.active
