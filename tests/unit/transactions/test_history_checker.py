"""The Jepsen-style checker finds each anomaly it claims to find (and none in a clean history)."""
from __future__ import annotations

import pytest

from tests.system.eos.history import check

pytestmark = pytest.mark.unit


def _txn(attempt, ok=True):
    return [{"process": "w", "type": "invoke", "f": "txn", "value": attempt},
            {"process": "w", "type": "ok" if ok else "fail", "f": "txn", "value": attempt}]


def _poll(p, o, v, process="r", session=0):
    return {"process": process, "type": "ok", "f": "poll", "partition": p, "offset": o,
            "value": v, "session": session}


def test_clean_history_is_valid():
    final = [(0, 0, "1:a"), (0, 1, "2:a"), (0, 3, "3:b")]  # offset 2: a marker
    ops = _txn("a") + _txn("b") + [_poll(0, 0, "1:a"), _poll(0, 1, "2:a"), _poll(0, 3, "3:b")]
    assert check(ops, {1, 2, 3}, final).valid


def test_each_anomaly_is_reported():
    final = [(0, 0, "1:a"), (0, 1, "1:b"), (0, 2, "3:b"), (0, 4, "4:b")]
    ops = _txn("a") + _txn("b") + _txn("x", ok=False) + [
        _poll(0, 0, "1:a"), _poll(0, 2, "3:b"),          # skips committed offset 1
        _poll(0, 2, "9:x"),                              # inconsistent + aborted + backwards
        {"process": "w", "type": "ok", "f": "send", "partition": 0, "offset": 5},
        {"process": "w", "type": "ok", "f": "send", "partition": 0, "offset": 4}]
    r = check(ops, {1, 2, 3, 4}, final)
    assert r.lost == [2]
    assert r.duplicates == {1: 2}
    assert r.poll_skips and r.poll_skips[0][4] == [1]
    assert r.inconsistent_offsets == [(0, 2, "3:b", "9:x")]
    assert r.aborted_reads == [(0, 2, "9:x")]
    assert r.nonmonotonic_polls == [("r", 0, 2, 2)]
    assert r.nonmonotonic_sends == [("w", 0, 5, 4)]
    assert r.read_duplicates == []  # 9:x is the only read of input 9
    assert not r.valid


def test_a_reader_seeing_an_input_twice_is_reported():
    final = [(0, 0, "1:a"), (0, 1, "1:b")]
    ops = _txn("a") + _txn("b") + [_poll(0, 0, "1:a"), _poll(0, 1, "1:b")]
    assert check(ops, {1}, final).read_duplicates == [("r", 1, (0, 0), (0, 1))]
