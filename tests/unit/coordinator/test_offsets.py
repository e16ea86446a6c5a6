"""Offset commits, fetches and deletes, group deletion, and the record formats they write."""
from __future__ import annotations

import struct

import pytest

from pystreams.broker.coordinator import records as rec
from pystreams.broker.coordinator.machine import GroupCoordinator
from pystreams.broker.coordinator.service import java_string_hash, partition_for

from tests.unit.coordinator._helpers import Harness

pytestmark = pytest.mark.unit


def _commit(h: Harness, group="g", generation=-1, member="", topics=(("t", [(0, 42, 3, "m")]),)):
    w = h.token()
    h.apply(h.machine.commit_offsets(w, h.now, group, generation, member, None, list(topics)))
    return h.replies.pop(w)


def test_simple_commit_fetch_and_replay():
    h = Harness()
    reply = _commit(h, topics=[("t", [(0, 42, 3, "meta"), (1, 7, -1, None)])])
    assert [p["error_code"] for p in reply["topics"][0]["partitions"]] == [0, 0]
    fetched = h.machine.fetch_offsets("g", [("t", [0, 1, 2])])
    assert [(p["committed_offset"], p["committed_leader_epoch"], p["metadata"])
            for p in fetched[0]["partitions"]] == [(42, 3, "meta"), (7, -1, ""), (-1, -1, "")]
    fresh = GroupCoordinator()
    for _, key, value in h.records:
        fresh.replay(key, value, h.now)
    assert fresh.fetch_offsets("g", None) == h.machine.fetch_offsets("g", None)


def test_member_commit_validation():
    h = Harness()
    j, m = h.join_new()
    h.tick(3000)
    gen = h.replies.pop(j)["generation_id"]
    assert _commit(h, generation=gen, member=m)["topics"][0]["partitions"][0]["error_code"] == 27
    h.sync(m, gen, [(m, b"")])
    assert _commit(h, generation=gen, member=m)["topics"][0]["partitions"][0]["error_code"] == 0
    assert _commit(h, generation=gen + 1, member=m)["topics"][0]["partitions"][0]["error_code"] == 22
    assert _commit(h, generation=gen, member="x")["topics"][0]["partitions"][0]["error_code"] == 25
    assert _commit(h)["topics"][0]["partitions"][0]["error_code"] == 25  # not empty: no admin commit
    too_big = [("t", [(0, 1, -1, "x" * 5000)])]
    assert _commit(h, generation=gen, member=m, topics=too_big)["topics"][0]["partitions"][0][
        "error_code"] == 12


def test_delete_groups_and_offsets():
    h = Harness()
    _commit(h, group="a")
    j, m = h.join_new(group="busy")
    out, results = h.machine.delete_groups(h.now, ["a", "busy", "ghost"])
    h.apply(out)
    assert [r["error_code"] for r in results] == [0, 68, 69]
    assert "a" not in h.machine.groups and h.machine.fetch_offsets("a", None) == []
    _commit(h, group="b", topics=[("t", [(0, 1, -1, None)]), ("u", [(0, 2, -1, None)])])
    w = h.token()
    h.apply(h.machine.delete_offsets(w, h.now, "b", [("t", [0])]))
    assert h.replies.pop(w)["error_code"] == 0
    assert [t["name"] for t in h.machine.fetch_offsets("b", None)] == ["u"]


def test_record_formats_are_kafkas():
    key = rec.encode_offset_key(rec.OffsetKey("g", "t", 5))
    assert key == struct.pack(">hh", 1, 1) + b"g" + struct.pack(">h", 1) + b"t" + struct.pack(">i", 5)
    value = rec.encode_offset_value(rec.OffsetValue(42, 3, "md", 1000))
    assert value == struct.pack(">hqi", 3, 42, 3) + struct.pack(">h", 2) + b"md" + struct.pack(">q", 1000)
    assert rec.decode_offset_value(value) == rec.OffsetValue(42, 3, "md", 1000)
    # a v1 value (with expire timestamp) as older brokers wrote it still reads
    v1 = struct.pack(">hq", 1, 9) + struct.pack(">h", 0) + struct.pack(">qq", 5, 6)
    assert rec.decode_offset_value(v1) == rec.OffsetValue(9, -1, "", 5, 6)
    assert rec.encode_group_key(rec.GroupKey("g")) == struct.pack(">hh", 2, 1) + b"g"


def test_group_partition_uses_javas_string_hash():
    assert java_string_hash("hello") == 99162322
    assert java_string_hash("polygenelubricants") == -(2**31)  # Java's famous MIN_VALUE hash
    assert partition_for("hello", 50) == 99162322 % 50
    assert partition_for("polygenelubricants", 50) == 0


def test_offsets_of_empty_groups_expire_after_retention():
    h = Harness()
    committed_at = h.now
    _commit(h, group="simple")
    j, m = h.join_new(group="live")
    h.tick(3000)
    gen = h.replies.pop(j)["generation_id"]
    h.sync(m, gen, [(m, b"")], group="live")
    _commit(h, group="live", generation=gen, member=m)
    h.apply(h.machine.expire_offsets(committed_at + 59_000, retention_ms=60_000))
    assert h.machine.fetch_offsets("simple", None) != []  # not yet
    h.now = committed_at + 61_000
    h.apply(h.machine.expire_offsets(h.now, retention_ms=60_000))
    assert h.machine.fetch_offsets("simple", None) == [] and "simple" not in h.machine.groups
    assert h.machine.fetch_offsets("live", None) != []  # a group with members keeps its offsets
