"""A Jepsen-style history of client operations and a checker for it.

Every client operation is logged as one JSON line: {"process", "type": invoke|ok|fail|info,
"f": send|poll|txn, "value": ..., ...}. Writers (the copier) log each transaction: invoke with
its attempt id, the sends with the offsets their delivery reports gave, then ok (committed) or
fail/info (aborted or unknown). Readers log each polled record: partition, offset, value.

check() reports, as Jepsen's Kafka workload does: lost writes (inputs whose result is missing
from the final committed log), duplicates (an input's result more than once), inconsistent
offsets (one partition offset observed with two values), read duplicates (one reader
seeing an input's result at two offsets), aborted reads (G1a: a read of a value
written only by a transaction that did not commit), poll skips (a reader jumping over a
committed offset it then never read) and non-monotonic polls/sends (offsets going backwards
within one process's session on one partition)."""
from __future__ import annotations

import json
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable


class HistoryLog:
    """Append-only JSON-lines log shared by the threads of one process."""

    def __init__(self, path: Path | str, process: str) -> None:
        self.path, self.process = Path(path), process
        self._lock = threading.Lock()
        self._f = open(self.path, "a", buffering=1)

    def log(self, type_: str, f: str, **fields: Any) -> None:
        line = json.dumps({"process": self.process, "type": type_, "f": f, **fields})
        with self._lock:
            self._f.write(line + "\n")

    def close(self) -> None:
        self._f.close()


def read_history(paths: Iterable[Path]) -> list[dict]:
    """All ops of the given files (a torn last line of a killed process is skipped)."""
    ops = []
    for path in paths:
        for line in Path(path).read_text().splitlines():
            try:
                ops.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return ops


@dataclass
class Report:
    lost: list = field(default_factory=list)
    duplicates: dict = field(default_factory=dict)
    read_duplicates: list = field(default_factory=list)  # one reader saw an input twice
    inconsistent_offsets: list = field(default_factory=list)
    aborted_reads: list = field(default_factory=list)
    poll_skips: list = field(default_factory=list)
    nonmonotonic_polls: list = field(default_factory=list)
    nonmonotonic_sends: list = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not any(vars(self).values())


def _input_of(value: str) -> int:
    return int(value.split(":", 1)[0])


def _attempt_of(value: str) -> str:
    return value.rsplit(":", 1)[1]


def check(ops: list[dict], inputs: set[int],
          final: list[tuple[int, int, str]]) -> Report:
    """`final`: (partition, offset, value) of the whole committed output, read at the end."""
    r = Report()
    counts = Counter(_input_of(v) for _, _, v in final)
    r.lost = sorted(inputs - set(counts))
    r.duplicates = {n: c for n, c in counts.items() if c > 1}
    committed_attempts = {op["value"] for op in ops if op["f"] == "txn" and op["type"] == "ok"}
    ended = {op["value"] for op in ops if op["f"] == "txn" and op["type"] in ("ok", "fail")}
    seen: dict[tuple[int, int], str] = {}
    for p, o, v in final:
        seen[(p, o)] = v
    final_offsets: dict[int, list[int]] = defaultdict(list)
    for p, o, _ in final:
        final_offsets[p].append(o)
    for offs in final_offsets.values():
        offs.sort()
    last_poll: dict[tuple[str, int, int], int] = {}
    read_at: dict[tuple[str, int], tuple[int, int]] = {}  # (process, input) -> (p, offset)
    last_send: dict[tuple[str, int], int] = {}
    for op in ops:
        if op["f"] == "poll" and op["type"] == "ok":
            p, o, v = op["partition"], op["offset"], op["value"]
            if seen.setdefault((p, o), v) != v:
                r.inconsistent_offsets.append((p, o, seen[(p, o)], v))
            first = read_at.setdefault((op["process"], _input_of(v)), (p, o))
            if first != (p, o):
                r.read_duplicates.append((op["process"], _input_of(v), first, (p, o)))
            attempt = _attempt_of(v)
            if attempt in ended and attempt not in committed_attempts:
                r.aborted_reads.append((p, o, v))
            key = (op["process"], op.get("session", 0), p)
            prev = last_poll.get(key)
            if prev is not None:
                if o <= prev:
                    r.nonmonotonic_polls.append((op["process"], p, prev, o))
                else:
                    offs = final_offsets.get(p, [])
                    skipped = [x for x in offs if prev < x < o]
                    if skipped:
                        r.poll_skips.append((op["process"], p, prev, o, skipped[:5]))
            last_poll[key] = o
        elif op["f"] == "send" and op["type"] == "ok":
            key = (op["process"], op["partition"])
            prev = last_send.get(key)
            if prev is not None and op["offset"] <= prev:
                r.nonmonotonic_sends.append((op["process"], op["partition"], prev, op["offset"]))
            last_send[key] = op["offset"]
    return r
