"""Changelog records of window, session and join window stores equal Java's byte for byte (keys: key + start +
seqnum / key + end + start; values; timestamps), read from the drivers as topics."""
from __future__ import annotations

import base64
from typing import Any

import pytest

from pystreams import JoinWindows, SessionWindows, StreamJoined, StreamsBuilder, TimeWindows
from pystreams.dsl.options import Consumed, Grouped, Materialized, Produced
from pystreams.serdes import Serdes
from tests.integration.oracle_windows.harness import assert_same, drive_java, drive_python, random_records

pytestmark = [pytest.mark.integration, pytest.mark.reference]

APP = "windowchangelogs"
CHANGELOGS = [f"{APP}-wstore-changelog", f"{APP}-sstore-changelog", f"{APP}-jstore-this-join-store-changelog",
              f"{APP}-jstore-outer-other-join-store-changelog"]


def _dsl() -> Any:
    s, lng = Serdes.String(), Serdes.Long()
    b = StreamsBuilder()
    left = b.stream("cl-in", Consumed.with_(s, lng))
    right = b.stream("cl-in2", Consumed.with_(s, lng))
    grouped = left.group_by_key(Grouped.with_(s, lng))
    grouped.windowed_by(TimeWindows.of_size_and_grace(100, 10)) \
        .count(Materialized.as_("wstore").with_key_serde(s).with_value_serde(lng))
    grouped.windowed_by(SessionWindows.of_inactivity_gap_with_no_grace(30)) \
        .count(Materialized.as_("sstore").with_key_serde(s).with_value_serde(lng))
    left.left_join(right, lambda a, c: f"{a}|{'null' if c is None else c}",
                   JoinWindows.of_time_difference_with_no_grace(20),
                   StreamJoined.with_(s, lng, lng).with_store_name("jstore")).to("cl-out", Produced.with_(s, s))
    return b


def _b64(record: dict[str, Any]) -> dict[str, Any]:
    out = dict(record)
    for field in ("key", "value"):
        if isinstance(out[field], (bytes, bytearray)):
            out[field] = base64.b64encode(out[field]).decode()
    return out


def test_changelog_bytes_equal_java(java_streams: Any, tmp_path: Any) -> None:
    records = random_records(81, 600, ("cl-in", "cl-in2"), keys="ab")
    config = {"__emit.interval.ms.kstreams.outer.join.spurious.results.fix__": 0}
    java = drive_java(java_streams, "windowchangelogs", records, {**config, "application.id": APP})
    for topic in CHANGELOGS:
        assert any(r["topic"] == topic for r in java), topic
    s, lng, raw = Serdes.String(), Serdes.Long(), Serdes.ByteArray()
    ours = drive_python(_dsl().build(), records, {"cl-in": (s, lng), "cl-in2": (s, lng)},
                        [(t, raw, raw) for t in CHANGELOGS] + [("cl-out", s, s)],
                        {**config, "application.id": APP, "default.dsl.store": "in_memory",
                         "state.dir": str(tmp_path)})
    assert_same([_b64(r) for r in ours], java)
