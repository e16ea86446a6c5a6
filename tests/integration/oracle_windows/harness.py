"""Shared by the windows/joins oracle tests: seeded inputs, driving our TopologyTestDriver the way the Java
oracle's Driver does (after every input, read each output topic in declaration order), JSON-like outputs."""
from __future__ import annotations

import random
from typing import Any

from pystreams.serdes.windowed import Windowed
from pystreams.testing import TopologyTestDriver

APP = "oracle-issue5"


def random_records(seed: int, n: int, topics: tuple[str, ...], keys: str = "abcd", key_range: int = 3,
                   jitter: int = 150, step: int = 12, null_key: float = 0.04,
                   null_value: float = 0.08, leap: float = 0.0, leap_ms: int = 0) -> list[dict[str, Any]]:
    """Timestamps advance by up to `step` per record and jump back by up to `jitter` (out of order, some
    beyond grace); a few None keys and None values (tombstones for tables). With `leap`, that share of records
    first jumps ahead by leap_ms/2 to leap_ms (stream time leaps past whole windows and retention)."""
    rnd = random.Random(seed)
    ts = 0
    out: list[dict[str, Any]] = []
    for i in range(n):
        ts += rnd.randrange(0, step)
        if leap and rnd.random() < leap:  # no draw without leaps: other tests' seeded records stay as they were
            ts += rnd.randrange(leap_ms // 2, leap_ms)
        late = rnd.randrange(0, jitter) if rnd.random() < 0.3 else 0
        key = None if rnd.random() < null_key else f"{rnd.choice(keys)}{rnd.randrange(key_range)}"
        value = None if rnd.random() < null_value else rnd.randrange(-20, 100)
        out.append({"topic": rnd.choice(topics), "key": key, "value": value, "timestamp": max(0, ts - late),
                    "headers": {"seq": str(i)} if rnd.random() < 0.3 else {}})
    return out


def _json(value: Any) -> Any:
    if isinstance(value, Windowed):
        return {"key": value.key, "start": value.window.start, "end": value.window.end}
    return value


def drive_python(topology: Any, records: list[dict[str, Any]], inputs: dict[str, tuple[Any, Any]],
                 outputs: list[tuple[str, Any, Any]], config: dict[str, Any] | None = None
                 ) -> list[dict[str, Any]]:
    config = {"application.id": APP, **(config or {})}
    out: list[dict[str, Any]] = []
    with TopologyTestDriver(topology, config) as driver:
        sources = {t: driver.create_input_topic(t, k, v) for t, (k, v) in inputs.items()}
        readers = [(t, driver.create_output_topic(t, k, v)) for t, k, v in outputs]
        for record in records:
            if "advance_wall_clock_ms" in record:
                driver.advance_wall_clock_time(record["advance_wall_clock_ms"])
            else:
                headers = [(k, v.encode()) for k, v in record.get("headers", {}).items()]
                sources[record["topic"]].pipe_input(record["key"], record["value"], record["timestamp"],
                                                    headers=headers)
            for topic, reader in readers:
                out.extend({"topic": topic, "key": _json(r.key), "value": r.value, "timestamp": r.timestamp,
                            "headers": {k: None if v is None else v.decode() for k, v in r.headers}}
                           for r in reader.read_records_to_list())
    return out


def drive_java(java_streams: Any, name: str, records: list[dict[str, Any]],
               config: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    got = java_streams.drive(name, records, {"application.id": APP, **(config or {})})
    return [{k: r[k] for k in ("topic", "key", "value", "timestamp", "headers")} for r in got]


def assert_same(ours: list[dict[str, Any]], java: list[dict[str, Any]]) -> None:
    for i, (a, b) in enumerate(zip(ours, java)):
        assert a == b, f"record {i} differs: ours {a} java {b}\n(previous: {ours[max(0, i - 3):i]})"
    assert len(ours) == len(java), f"ours {len(ours)} records, java {len(java)}"
