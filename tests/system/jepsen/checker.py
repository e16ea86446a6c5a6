"""The checker: what a history (history.py) of transactional writers and read_committed readers
may not contain. Modelled on Jepsen's Kafka workload (jepsen.tests.kafka), reduced to a single
output topic of unique integers written by consume-transform-produce transactions.

Anomalies reported (each a list of small dicts that say where):
- lost: a value of a committed transaction (txn-commit ok) that a reader which read to the end
  (a poll op with end=True, reading from `since`) never read, although the commit was
  acknowledged before that reader started its read to the end.
- duplicates: a value read at two different offsets (by one reader, or across readers), or
  sent by two committed transactions.
- inconsistent_offsets: one (topic, partition, offset) holding different values across the
  history (sends and polls of any process).
- aborted_reads (G1a): a value read whose writing transaction certainly aborted (txn-abort ok,
  txn-commit fail, or never reached txn-commit because its process died first).
- poll_skips: a reader's consecutive polled offsets on a partition jump over an offset that
  some process saw on that partition (read, unless from an aborted transaction, or sent by a
  committed transaction).
- nonmonotonic_polls / nonmonotonic_sends: offsets not increasing within one process on one
  partition (a reader that seeks back must log under a new process name, as Jepsen does).
- unexpected: a value read that no process ever tried to send.
"""
from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

from tests.system.jepsen.history import Op

Where = dict[str, Any]
ANOMALIES = ("lost", "duplicates", "inconsistent_offsets", "aborted_reads", "poll_skips",
             "nonmonotonic_polls", "nonmonotonic_sends", "unexpected")


@dataclass
class Report:
    """Every anomaly found, by kind; `valid` when there is none."""

    lost: list[Where] = field(default_factory=list)
    duplicates: list[Where] = field(default_factory=list)
    inconsistent_offsets: list[Where] = field(default_factory=list)
    aborted_reads: list[Where] = field(default_factory=list)
    poll_skips: list[Where] = field(default_factory=list)
    nonmonotonic_polls: list[Where] = field(default_factory=list)
    nonmonotonic_sends: list[Where] = field(default_factory=list)
    unexpected: list[Where] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not any(getattr(self, kind) for kind in ANOMALIES)

    def found(self) -> set[str]:
        """The kinds of anomaly present."""
        return {kind for kind in ANOMALIES if getattr(self, kind)}

    def summary(self, examples: int = 3) -> dict[str, Any]:
        """Counts and a few examples per anomaly kind (for assertion messages)."""
        return {kind: (len(getattr(self, kind)), getattr(self, kind)[:examples])
                for kind in ANOMALIES if getattr(self, kind)}


def _reads(op: Op) -> Iterable[tuple[Any, tuple[str, int], int, Any]]:
    """(value, (topic, partition), offset, txn) of each record a poll op read."""
    txns = op.get("txns") or [None] * len(op["values"])
    for value, (topic, partition, offset), txn in zip(op["values"], op["offsets"], txns):
        yield value, (topic, int(partition)), int(offset), txn


def _txn_outcomes(ops: list[Op]) -> tuple[set[str], set[str]]:
    """(committed, aborted) transaction ids; a txn with neither is indeterminate."""
    committed: set[str] = set()
    aborted: set[str] = set()
    began: set[str] = set()
    commit_invoked: set[str] = set()
    for op in ops:
        txn = op.get("txn")
        if txn is None:
            continue
        if op["f"] == "txn-begin":
            began.add(txn)
        elif op["f"] == "txn-commit":
            if op["type"] == "invoke":
                commit_invoked.add(txn)
            elif op["type"] == "ok":
                committed.add(txn)
            elif op["type"] == "fail":
                aborted.add(txn)
        elif op["f"] == "txn-abort" and op["type"] == "ok":
            aborted.add(txn)
    # a transaction whose writer never asked to commit cannot have committed
    aborted |= began - commit_invoked
    return committed, aborted - committed


def check(ops: Iterable[Op], output_topic: str | None = None) -> Report:
    """Check a whole history (all processes' ops, any order of processes; each process's ops
    in its own order). Only reads/sends of `output_topic` are checked when it is given."""
    ops = list(ops)
    report = Report()
    committed, aborted = _txn_outcomes(ops)
    mine = (lambda t: True) if output_topic is None else (lambda t: t == output_topic)

    sent_values: set[Any] = set()
    committed_sends: dict[Any, list[tuple[str, Where]]] = defaultdict(list)
    commit_time: dict[str, float] = {}
    at_offset: dict[tuple[str, int, int], tuple[Any, str]] = {}
    seen_offsets: dict[tuple[str, int], set[int]] = defaultdict(set)
    txn_values: dict[str, list[Any]] = defaultdict(list)

    def place(tp: tuple[str, int], offset: int, value: Any, who: str) -> None:
        key = (tp[0], tp[1], offset)
        first = at_offset.setdefault(key, (value, who))
        if first[0] != value:
            report.inconsistent_offsets.append(
                {"topic": tp[0], "partition": tp[1], "offset": offset,
                 "values": [first[0], value], "processes": [first[1], who]})

    # pass 1: sends, commits, all offsets anyone saw
    last_send: dict[tuple[str, str, int], int] = {}
    for op in ops:
        if op["f"] == "send":
            sent_values.update(op["values"])
            if op["type"] != "ok":
                continue
            for value, (topic, partition, offset) in zip(op["values"], op["offsets"]):
                if not mine(topic):
                    continue
                tp, offset = (topic, int(partition)), int(offset)
                place(tp, offset, value, op["process"])
                key = (op["process"], topic, tp[1])
                prev = last_send.get(key)
                if prev is not None and offset <= prev:
                    report.nonmonotonic_sends.append(
                        {"process": op["process"], "topic": topic, "partition": tp[1],
                         "previous": prev, "offset": offset})
                last_send[key] = offset
                if op.get("txn") in committed:
                    seen_offsets[tp].add(offset)
                    txn_values[op["txn"]].append(value)
                    committed_sends[value].append(
                        (op["txn"], {"topic": topic, "partition": tp[1], "offset": offset}))
        elif op["f"] == "txn-commit" and op["type"] == "ok":
            commit_time[op["txn"]] = op["time"]
        elif op["f"] == "poll" and op["type"] == "ok":
            for value, tp, offset, txn in _reads(op):
                if mine(tp[0]) and txn not in aborted:  # a G1a read is no one else's skip
                    seen_offsets[tp].add(offset)
    sorted_seen = {tp: sorted(offsets) for tp, offsets in seen_offsets.items()}

    for value, sends in committed_sends.items():
        if len({txn for txn, _ in sends}) > 1:
            report.duplicates.append({"value": value, "sent_by_committed_txns":
                                      [dict(w, txn=txn) for txn, w in sends]})

    # pass 2: reads, process by process
    read_at: dict[Any, tuple[str, int, int]] = {}
    duplicate_values: set[Any] = set()
    last_poll: dict[tuple[str, str, int], int] = {}
    read_by: dict[str, set[Any]] = defaultdict(set)
    for op in ops:
        if op["f"] != "poll" or op["type"] != "ok":
            continue
        process = op["process"]
        for value, tp, offset, txn in _reads(op):
            if not mine(tp[0]):
                continue
            read_by[process].add(value)
            place(tp, offset, value, process)
            where = (tp[0], tp[1], offset)
            first = read_at.setdefault(value, where)
            if first != where and value not in duplicate_values:
                duplicate_values.add(value)
                report.duplicates.append({"value": value, "read_at": [first, where],
                                          "process": process})
            if txn is not None and txn in aborted:
                report.aborted_reads.append({"value": value, "txn": txn, "process": process,
                                             "topic": tp[0], "partition": tp[1],
                                             "offset": offset})
            if value not in sent_values:
                report.unexpected.append({"value": value, "process": process,
                                          "partition": tp[1], "offset": offset})
            key = (process, tp[0], tp[1])
            prev = last_poll.get(key)
            if prev is not None and offset <= prev:
                report.nonmonotonic_polls.append({"process": process, "topic": tp[0],
                                                  "partition": tp[1], "previous": prev,
                                                  "offset": offset})
            elif prev is not None and offset > prev + 1:
                seen = sorted_seen.get(tp, [])
                i = bisect.bisect_right(seen, prev)
                if i < len(seen) and seen[i] < offset:
                    skipped = seen[i:bisect.bisect_left(seen, offset)]
                    report.poll_skips.append({"process": process, "topic": tp[0],
                                              "partition": tp[1], "from": prev, "to": offset,
                                              "skipped": skipped[:5]})
            last_poll[key] = offset

    # lost writes: committed before a complete reader began its read to the end, never read
    for op in ops:
        if op["f"] == "poll" and op["type"] == "ok" and op.get("end"):
            since = float(op.get("since") or op["time"])
            reader = op["process"]
            for txn, at in commit_time.items():
                if at >= since:
                    continue
                for value in txn_values.get(txn, ()):
                    if value not in read_by[reader]:
                        report.lost.append({"value": value, "txn": txn, "reader": reader})
    report.stats = {"ops": len(ops), "committed_txns": len(committed),
                    "aborted_txns": len(aborted), "values_read": len(read_at),
                    "complete_readers": sum(1 for op in ops if op["f"] == "poll" and
                                            op["type"] == "ok" and op.get("end"))}
    return report
