"""A Jepsen-style history: every client operation as one op, in memory and as JSON lines.

An op is {"process", "type": invoke|ok|fail|info, "f": send|poll|txn-begin|txn-commit|
txn-abort|send-offsets, "values", "offsets", "time", ...extra}. `values` are the logical
elements (the integers being copied); `offsets` are [topic, partition, offset] triples aligned
with `values` (for a send: where the broker put it; for a poll: where it was read; for
send-offsets: the consumer positions sent). Extra keys the checker understands: "txn" (the
transaction a send/txn op belongs to), "txns" (per polled value, the transaction that wrote it,
taken from the record key), "end"/"since" (a poll op saying the reader read to the end of every
partition, starting at `since`), "error".

`invoke` is logged before the call and ok/fail/info after it, as in Jepsen: fail means it
certainly did not happen, info means it may or may not have (a crash, a timeout).

Child processes append to their own file (a SIGKILL may tear the last line; load() skips it);
the test process may keep its history in memory only. Times are time.time() floats (all
processes run on one machine, so the clocks agree)."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, Iterable, Iterator

Op = dict[str, Any]
TYPES = ("invoke", "ok", "fail", "info")
FUNCTIONS = ("send", "poll", "txn-begin", "txn-commit", "txn-abort", "send-offsets")


class History:
    """Thread-safe recorder of one or more processes' ops; optionally mirrored to a file."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.ops: list[Op] = []
        self._lock = threading.Lock()
        self._file = open(path, "a", buffering=1, encoding="utf-8") if path else None

    def log(self, process: str, type_: str, f: str, values: Iterable[Any] = (),
            offsets: Iterable[Iterable[Any]] = (), **extra: Any) -> Op:
        """Record one op now; returns it (tests may build histories the same way)."""
        if type_ not in TYPES:
            raise ValueError(f"op type must be one of {TYPES}, got {type_!r}")
        if f not in FUNCTIONS:
            raise ValueError(f"op f must be one of {FUNCTIONS}, got {f!r}")
        op: Op = {"process": process, "type": type_, "f": f, "values": list(values),
                  "offsets": [list(o) for o in offsets], "time": time.time(), **extra}
        with self._lock:
            self.ops.append(op)
            if self._file is not None:
                self._file.write(json.dumps(op, separators=(",", ":")) + "\n")
        return op

    def close(self) -> None:
        """Close the mirror file (the in-memory ops stay)."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def __iter__(self) -> Iterator[Op]:
        with self._lock:
            return iter(list(self.ops))


def load(paths: Iterable[Path | str]) -> list[Op]:
    """The ops of JSON-lines files, in file order; a torn line (a SIGKILLed writer) is skipped."""
    ops: list[Op] = []
    for path in paths:
        path = Path(path)
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                op = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(op, dict) and "process" in op and "f" in op:
                ops.append(op)
    return ops


def merge(*histories: Iterable[Op]) -> list[Op]:
    """All ops of several histories ordered by time (stable: a process's own order is kept)."""
    ops = [op for history in histories for op in history]
    return sorted(ops, key=lambda op: op["time"])
