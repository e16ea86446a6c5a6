"""The checker on hand-made histories: a clean one passes, and each anomaly the issue names is
detected (and only that one), so the system test's "valid" means something."""
from __future__ import annotations

import json

import pytest

from tests.system.jepsen.checker import check
from tests.system.jepsen.history import History, load

pytestmark = pytest.mark.unit

T = "out"


class Script:
    """Builds a history with explicit times (1.0, 2.0, ...) so tests read like timelines."""

    def __init__(self) -> None:
        self.history = History()
        self.clock = 0.0

    def op(self, process: str, type_: str, f: str, values=(), offsets=(), **extra) -> None:
        self.clock += 1.0
        op = self.history.log(process, type_, f, values, offsets, **extra)
        op["time"] = self.clock

    def txn(self, process: str, txn: str, sends: list[tuple[int, int, int]],
            outcome: str = "commit") -> None:
        """A transaction: begin, sends (value, partition, offset), send-offsets, end."""
        self.op(process, "invoke", "txn-begin", txn=txn)
        self.op(process, "ok", "txn-begin", txn=txn)
        for value, partition, offset in sends:
            self.op(process, "invoke", "send", [value], txn=txn)
            self.op(process, "ok", "send", [value], [[T, partition, offset]], txn=txn)
        self.op(process, "invoke", "send-offsets", offsets=[["in", 0, 10]], txn=txn)
        self.op(process, "ok", "send-offsets", offsets=[["in", 0, 10]], txn=txn)
        if outcome == "commit":
            self.op(process, "invoke", "txn-commit", txn=txn)
            self.op(process, "ok", "txn-commit", txn=txn)
        elif outcome == "abort":
            self.op(process, "invoke", "txn-abort", txn=txn)
            self.op(process, "ok", "txn-abort", txn=txn)
        # outcome "crash": the process died before asking to commit

    def poll(self, process: str, reads: list[tuple[int, int, int, str]], **extra) -> None:
        """reads: (value, partition, offset, txn)."""
        self.op(process, "invoke", "poll")
        self.op(process, "ok", "poll", [r[0] for r in reads], [[T, r[1], r[2]] for r in reads],
                txns=[r[3] for r in reads], **extra)

    def end(self, process: str, since: float) -> None:
        self.op(process, "ok", "poll", end=True, since=since)


def clean() -> Script:
    """Two committed transactions (offsets 0-1 and 3-4, marker at 2 and 5), one aborted (6-7,
    marker 8), one crashed before commit (9), one committed after (10-11); two readers."""
    s = Script()
    s.txn("w", "t1", [(1, 0, 0), (2, 0, 1)])
    s.txn("w", "t2", [(3, 0, 3), (4, 0, 4)])
    s.txn("w", "t3", [(5, 0, 6), (6, 0, 7)], outcome="abort")
    s.txn("w", "t4", [(5, 0, 9)], outcome="crash")
    s.txn("w2", "t5", [(5, 0, 10), (6, 0, 11)])
    s.poll("r1", [(1, 0, 0, "t1"), (2, 0, 1, "t1")])
    s.poll("r1", [(3, 0, 3, "t2")])
    since = s.clock
    s.poll("r2", [(1, 0, 0, "t1"), (2, 0, 1, "t1"), (3, 0, 3, "t2"), (4, 0, 4, "t2")])
    s.poll("r2", [(5, 0, 10, "t5"), (6, 0, 11, "t5")])
    s.end("r2", since)
    return s


def test_clean_history_is_valid():
    report = check(clean().history, output_topic=T)
    assert report.valid, report.summary()
    assert report.stats["committed_txns"] == 3 and report.stats["aborted_txns"] == 2
    assert report.stats["complete_readers"] == 1


def test_lost_write_is_detected():
    s = clean()
    since = s.clock
    s.poll("r3", [(1, 0, 0, "t1"), (2, 0, 1, "t1"), (3, 0, 3, "t2"), (4, 0, 4, "t2"),
                  (5, 0, 10, "t5")])  # 6 (committed in t5, offset 11) never read
    s.end("r3", since)
    report = check(s.history, output_topic=T)
    assert report.found() == {"lost"}
    assert report.lost == [{"value": 6, "txn": "t5", "reader": "r3"}]


def test_commit_after_the_reader_started_is_not_lost():
    s = clean()
    since = s.clock
    s.poll("r3", [(1, 0, 0, "t1"), (2, 0, 1, "t1"), (3, 0, 3, "t2"), (4, 0, 4, "t2"),
                  (5, 0, 10, "t5"), (6, 0, 11, "t5")])
    s.txn("w2", "t6", [(7, 0, 13)])  # committed after r3 began: r3 may or may not see it
    s.end("r3", since)
    assert check(s.history, output_topic=T).valid


def test_duplicate_read_is_detected():
    s = clean()
    s.poll("r9", [(6, 0, 11, "t5"), (6, 0, 12, "t5")])
    report = check(s.history, output_topic=T)
    assert report.found() == {"duplicates"}
    assert report.duplicates[0]["value"] == 6


def test_duplicate_across_readers_and_committed_sends_is_detected():
    s = clean()
    s.txn("w3", "t6", [(1, 1, 0)])  # value 1 committed a second time, on partition 1
    s.poll("r4", [(1, 1, 0, "t6")])
    report = check(s.history, output_topic=T)
    assert report.found() == {"duplicates"}
    kinds = {("read_at" in d, "sent_by_committed_txns" in d) for d in report.duplicates}
    assert kinds == {(True, False), (False, True)}


def test_inconsistent_offset_is_detected():
    s = clean()
    s.poll("r3", [(9, 0, 0, "t1")])  # offset 0 held 1 for the writer and r1, 9 for r3
    report = check(s.history, output_topic=T)
    assert "inconsistent_offsets" in report.found()
    assert report.inconsistent_offsets[0]["offset"] == 0
    assert set(report.inconsistent_offsets[0]["values"]) == {1, 9}


def test_aborted_read_is_detected():
    s = clean()
    s.poll("r9", [(5, 0, 6, "t3")])  # t3 aborted (5 also sits at offset 10: a duplicate too)
    report = check(s.history, output_topic=T)
    assert report.found() == {"aborted_reads", "duplicates"}
    assert report.aborted_reads[0]["txn"] == "t3"


def test_read_of_a_crashed_writers_transaction_is_an_aborted_read():
    s = clean()
    s.poll("r9", [(5, 0, 9, "t4")])  # t4's writer died before asking to commit
    report = check(s.history, output_topic=T)
    assert report.found() == {"aborted_reads", "duplicates"}
    assert report.aborted_reads[0]["txn"] == "t4"


def test_indeterminate_commit_is_not_an_aborted_read():
    s = clean()
    s.op("w4", "invoke", "txn-begin", txn="t9")
    s.op("w4", "ok", "send", [8], [[T, 1, 0]], txn="t9")
    s.op("w4", "invoke", "txn-commit", txn="t9")  # killed: outcome unknown
    s.poll("r4", [(8, 1, 0, "t9")])
    assert check(s.history, output_topic=T).valid


def test_poll_skip_is_detected():
    s = clean()
    s.poll("r3", [(1, 0, 0, "t1")])
    s.poll("r3", [(4, 0, 4, "t2")])  # jumped over offsets 1 and 3 that others saw
    report = check(s.history, output_topic=T)
    assert report.found() == {"poll_skips"}
    assert report.poll_skips[0]["skipped"] == [1, 3]


def test_gap_over_markers_and_aborted_records_is_not_a_skip():
    s = clean()
    s.poll("r3", [(4, 0, 4, "t2"), (5, 0, 10, "t5")])  # 5..9: marker, aborted, marker, crash
    assert check(s.history, output_topic=T).valid


def test_nonmonotonic_poll_is_detected():
    s = clean()
    s.poll("r1", [(1, 0, 0, "t1")])  # r1 already read offset 3
    report = check(s.history, output_topic=T)
    assert "nonmonotonic_polls" in report.found()
    assert report.nonmonotonic_polls[0] == {"process": "r1", "topic": T, "partition": 0,
                                            "previous": 3, "offset": 0}


def test_nonmonotonic_send_is_detected():
    s = clean()
    s.op("w2", "invoke", "txn-begin", txn="t7")
    s.op("w2", "ok", "send", [7], [[T, 0, 2]], txn="t7")  # w2 already sent at 11
    report = check(s.history, output_topic=T)
    assert "nonmonotonic_sends" in report.found()
    assert report.nonmonotonic_sends[0]["previous"] == 11


def test_unexpected_value_is_detected():
    s = clean()
    s.poll("r5", [(42, 2, 0, "t5")])
    assert check(s.history, output_topic=T).found() == {"unexpected"}


def test_other_topics_are_ignored_when_an_output_topic_is_given():
    s = clean()
    s.op("copier", "ok", "poll", [1, 1], [["in", 0, 5], ["in", 0, 2]])  # a rewind on the input
    assert check(s.history, output_topic=T).valid
    assert "nonmonotonic_polls" in check(s.history).found()


def test_history_file_round_trip_skips_a_torn_line(tmp_path):
    path = tmp_path / "h.jsonl"
    history = History(path)
    history.log("w", "invoke", "txn-begin", txn="t1")
    history.log("w", "ok", "send", [1], [[T, 0, 0]], txn="t1")
    history.close()
    with open(path, "a") as f:
        f.write('{"process": "w", "type": "ok", "f": "se')  # SIGKILL mid-write
    ops = load([path])
    assert ops == json.loads("[" + ",".join(path.read_text().splitlines()[:2]) + "]")
    assert [op["f"] for op in ops] == ["txn-begin", "send"]


def test_bad_op_is_refused():
    with pytest.raises(ValueError, match="op f must be"):
        History().log("w", "ok", "produce")
