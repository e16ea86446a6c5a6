"""`pystreams run`'s terminal display: what the app prints lands on lines of its own above the live summary line
(never glued to it), restore bars live in the same region, and sys.stdout / sys.stderr are given back."""
from __future__ import annotations

import io
import re
import sys
import threading
import time

import pytest

from pystreams.cli.run_display import LiveDisplay, RestoreProgress, same_terminal

pytestmark = pytest.mark.unit

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _segments(raw: str) -> list[str]:
    """The text between line starts (\\r or \\n), escape codes removed: a glued line shows up as one segment."""
    return [s for s in re.split(r"[\r\n]", ANSI.sub("", raw)) if s.strip()]


def test_printed_lines_go_above_the_summary_line_and_the_streams_come_back():
    term = _Terminal()
    display = LiveDisplay(term, capture_stdout=True)
    before = (sys.stdout, sys.stderr)
    display.start()
    try:
        display.set_summary("RUNNING   12 records/s  processed 12")
        time.sleep(0.35)  # at least one redraw with the summary
        threads = [threading.Thread(target=lambda i=i: [print(f"[word-counts]: w{i}-{n}, {n}") for n in range(20)])
                   for i in range(3)]  # stream threads printing at once
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print("no newline yet", end="")
        print(" - now", file=sys.stderr)  # stderr goes above too
        display.set_summary("RUNNING   30 records/s  processed 42")
        time.sleep(0.35)
    finally:
        display.stop()
    assert (sys.stdout, sys.stderr) == before
    segments = _segments(term.getvalue())
    results = [s for s in segments if s.startswith("[word-counts]")]
    assert sorted(results) == sorted(f"[word-counts]: w{i}-{n}, {n}" for i in range(3) for n in range(20))
    assert " - now" in segments and "no newline yet" in segments  # the partial stdout line, flushed at stop
    assert not [s for s in segments if "RUNNING" in s and "[word-counts]" in s]  # never glued together
    assert segments[-1].strip() == "RUNNING   30 records/s  processed 42"  # the last line left on screen


def test_restore_bars_are_drawn_in_the_display_and_leave_their_final_state():
    term = _Terminal()
    display = LiveDisplay(term, capture_stdout=False)
    progress = RestoreProgress("", display=display)
    display.start()
    try:
        progress("app-1b2c-StreamThread-1", 400, 1_000)
        assert display.progress.tasks and progress.active
        time.sleep(0.3)
        progress("app-1b2c-StreamThread-1", 1_000, 1_000)
        assert not display.progress.tasks and not progress.active
    finally:
        display.stop()
    text = ANSI.sub("", term.getvalue())
    assert "restoring StreamThread-1" in text and "1000/1000" in text  # the thread named without its client id
    assert re.search(r"restore done: 1,000 records \(600 in 0\.\d s after the first batch: [\d,]+ records/s\)",
                     text), text


def test_a_one_batch_restore_claims_no_rate():
    out = io.StringIO()
    progress = RestoreProgress("", out)
    progress("t-1", 20, 20)
    assert out.getvalue().splitlines() == ["restoring state: 20/20 records",
                                           "restore done: 20 records in one batch (too quick to measure a rate)"]


def test_stdout_is_drawn_through_the_display_only_when_it_is_the_same_terminal():
    assert not same_terminal(io.StringIO(), io.StringIO())
    assert not same_terminal(_Terminal(), _Terminal())  # ttys without a file descriptor: not provably the same


def test_instances_view_keeps_one_summary_line_per_instance_and_prints_the_rest():
    from pystreams.cli.run_display import InstancesView

    display = LiveDisplay(_Terminal(), capture_stdout=False)
    view = InstancesView(display, 2)
    view.feed("[instance 1] RUNNING          5 records/s  processed 5")
    view.feed("[instance 0] REBALANCING      0 records/s  processed 0")
    view.feed("[instance 1] RUNNING          7 records/s  processed 12")
    view.feed("[word-counts]: kafka, 3")
    view.feed("[instance 0] restoring state: 10/20 records (100 records/s)")
    assert display.summary.splitlines() == ["[instance 0] REBALANCING      0 records/s  processed 0",
                                            "[instance 1] RUNNING          7 records/s  processed 12"]
    printed = ANSI.sub("", display.stream.getvalue()).splitlines()
    assert printed == ["[word-counts]: kafka, 3", "[instance 0] restoring state: 10/20 records (100 records/s)"]
