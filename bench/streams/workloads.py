"""The input records and what each workload must produce from them (stdlib only: every system's
process imports this, including Quix Streams' own venv).

Input: ~100-byte JSON records keyed by their `word`, with event times 10 ms apart ending now, so
a tumbling 60 s window count sees ~17 windows per 100k records, in order within each partition.
    stateless  decode JSON, keep amount >= 50, map to {"id", "user", "cents"}, produce keyed by user
    count      decode JSON, count per word (the key: no repartition) on RocksDB with a changelog
    window     decode JSON, count per word per tumbling 60 s event-time window, key "word@start_ms"
"""
from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass

WORKLOADS = ("stateless", "count", "window")
WINDOW_MS = 60_000
STEP_MS = 10
THRESHOLD = 50.0


@dataclass(frozen=True)
class InputRecord:
    """One preloaded record: its key (the word), JSON value and event time (CreateTime, ms)."""

    key: bytes
    value: bytes
    timestamp: int


def word(index: int) -> str:
    return f"w{index:04d}"


def make_value(rng: random.Random, rid: int, keys: int) -> tuple[str, bytes]:
    """A ~100-byte JSON record; returns (word, value bytes)."""
    w = word(rng.randrange(keys))
    amount = rng.randrange(0, 10_000) / 100
    doc = {"id": rid, "user": f"user-{rng.randrange(10_000):05d}", "word": w, "amount": amount,
           "country": rng.choice(("DE", "FR", "NL", "SE", "PL")), "note": "lorem ipsum dolor"}
    return w, json.dumps(doc, separators=(",", ":")).encode()


def generate(n: int, keys: int, end_ms: int, seed: int = 7, first_id: int = 0) -> list[InputRecord]:
    """n records with event times STEP_MS apart, the last one at end_ms."""
    rng = random.Random(seed)
    start = end_ms - (n - 1) * STEP_MS
    out = []
    for i in range(n):
        w, value = make_value(rng, first_id + i, keys)
        out.append(InputRecord(w.encode(), value, start + i * STEP_MS))
    return out


# -------------------------------------------------------------------- the work itself, in Python
def stateless(doc: dict) -> dict | None:
    """The stateless step on a decoded record: None when filtered out."""
    if doc["amount"] < THRESHOLD:
        return None
    return {"id": doc["id"], "user": doc["user"], "cents": int(doc["amount"] * 100)}


def window_start(timestamp_ms: int) -> int:
    return timestamp_ms - timestamp_ms % WINDOW_MS


def window_key(word_: str, timestamp_ms: int) -> str:
    return f"{word_}@{window_start(timestamp_ms)}"


# -------------------------------------------------------------------- expected outputs
class Expected:
    """What a workload's output topic must finally hold; extended when more input is produced.

    stateless: a number of output records; count/window: the latest value per output key.
    """

    def __init__(self, workload: str) -> None:
        if workload not in WORKLOADS:
            raise ValueError(f"unknown workload {workload!r}; one of {', '.join(WORKLOADS)}")
        self.workload = workload
        self.outputs = 0
        self.total = 0
        self.latest: Counter[str] = Counter()

    def add(self, records: list[InputRecord]) -> None:
        self.total += len(records)
        for r in records:
            if self.workload == "stateless":
                self.outputs += stateless(json.loads(r.value)) is not None
            elif self.workload == "count":
                self.latest[r.key.decode()] += 1
            else:
                self.latest[window_key(r.key.decode(), r.timestamp)] += 1


def decode_count(value: bytes) -> int:
    """An output count as each system writes it: Java's Long serde (8 bytes big-endian), or JSON
    text (an int, or {"n": int} where a system cannot set a bare value after re-keying)."""
    if len(value) == 8:
        return int.from_bytes(value, "big", signed=True)
    doc = json.loads(value)
    return int(doc["n"] if isinstance(doc, dict) else doc)
