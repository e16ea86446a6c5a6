"""A cached timestamped key-value store hands the DSL's TimestampedCacheFlushListener the parts of each flushed
entry (forward_plain) instead of a Record of a Change of ValueAndTimestamps: downstream sees exactly the same
records (keys, new and old values, timestamps, headers, order), with and without old values (a count table
re-grouped into a reduce needs them), deletes (tombstones) and late records."""
from __future__ import annotations

import random
import tempfile
from typing import Any

import pytest

from pystreams import StreamsBuilder
from pystreams.compiler.processors.stateful.forwarding import TimestampedCacheFlushListener
from pystreams.dsl.options import Consumed, Grouped, Materialized, Produced
from pystreams.serdes import Serdes

pytestmark = pytest.mark.unit


def _topology(how: str) -> Any:
    s, lng = Serdes.String(), Serdes.Long()
    b = StreamsBuilder()
    grouped = b.stream("in", Consumed.with_(s, lng)).group_by_key(Grouped.with_(s, lng))
    if how == "count":
        table = grouped.count(Materialized.as_("agg").with_key_serde(s).with_value_serde(lng))
    else:  # a sum that deletes its key on a 0, re-grouped by the key's first letter (old values needed)
        sums = grouped.aggregate(lambda: 0, lambda k, v, agg: None if v == 0 else agg + v,
                                 Materialized.as_("agg").with_key_serde(s).with_value_serde(lng))
        table = (sums.group_by(lambda k, v: (k[:2], v), Grouped.with_(s, lng))
                 .reduce(lambda a, v: a + v, lambda a, v: a - v,
                         Materialized.as_("by-prefix").with_key_serde(s).with_value_serde(lng)))
    table.to_stream().to("out", Produced.with_(s, lng))
    return b.build()


class _Collector:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send(self, topic: str, key: Any, value: Any, headers: Any, timestamp: int, partition: Any) -> None:
        self.sent.append((topic, key, value, headers, timestamp))

    def flush(self) -> None:
        pass

    def partitions_for(self, topic: str) -> int | None:
        return None


def _run(how: str, plain: bool, monkeypatch: Any) -> list[Any]:
    from pystreams.processor.internals.task import StreamTask
    from pystreams.processor.task_id import TaskId

    if not plain:  # the listener without forward_plain: the store hands it Records of Changes of ValueAndTimestamps
        monkeypatch.delattr(TimestampedCacheFlushListener, "forward_plain")
    s, lng = Serdes.String(), Serdes.Long()
    rng = random.Random(23)
    raw, t = [], 0
    for i in range(3000):
        t += rng.randrange(0, 9)
        ts = max(0, t - rng.randrange(0, 200)) if rng.random() < 0.2 else t
        headers = (("h", b"%d" % (i % 3)),) if i % 5 == 0 else ()
        raw.append((i, ts, s.serialize("in", f"k{rng.randrange(30)}"), lng.serialize("in", rng.randrange(0, 5)),
                    headers))
    collector = _Collector()
    topology = _topology(how)
    with tempfile.TemporaryDirectory() as state_dir:
        task = StreamTask(topology, TaskId(0, 0), {"application.id": "plain"}, collector, state_dir=state_dir)
        task.initialize()
        for i in range(0, len(raw), 100):
            task.add_records("in", 0, raw[i:i + 100])
            task.process_batch(1_000_000)
            if i % 500 == 400:
                task.commit()
        task.commit()
        task.close()
    monkeypatch.undo()
    return collector.sent


@pytest.mark.parametrize("how", ["count", "regrouped"])
def test_forward_plain_forwards_what_the_listener_forwards(how: str, monkeypatch: Any) -> None:
    plain = _run(how, True, monkeypatch)
    assert plain == _run(how, False, monkeypatch)
    # what the flushes forwarded: the output topic (count), the re-grouping's repartition topic (regrouped; in a
    # single task nothing reads it back)
    forwarded = [rec for rec in plain if rec[0] == "out" or rec[0].endswith("repartition")]
    assert len(forwarded) > 100 and any(rec[3] for rec in forwarded)  # some with their entry's headers
    if how == "regrouped":  # each update of a sum sends its old value to subtract, then its new one to add
        assert len([rec for rec in forwarded if rec[2] is not None]) > len(
            [rec for rec in plain if rec[0].endswith("agg-changelog") and rec[2] is not None])
        assert any(rec[2] is None for rec in plain if rec[0].endswith("agg-changelog"))  # deletes


def test_flushed_updates_are_forwarded_under_their_writes_record_context(monkeypatch: Any) -> None:
    """Each forwarded update runs under the record context of the input record that last updated its key
    (topic, partition, offset, its timestamp, its headers), and the changelog carries the count with the
    aggregate's timestamp."""
    from pystreams.processor import Processor, Record
    from pystreams.processor.internals.task import StreamTask
    from pystreams.processor.task_id import TaskId

    seen: list[Any] = []

    class Spy(Processor[Any, Any, Any, Any]):
        def init(self, context: Any) -> None:
            self.context = context

        def process(self, record: Record[Any, Any]) -> None:
            md = self.context.record_metadata()
            seen.append((record.key, record.value, record.timestamp, record.headers, md.topic, md.partition,
                         md.offset))

    s, lng = Serdes.String(), Serdes.Long()
    b = StreamsBuilder()
    (b.stream("in", Consumed.with_(s, s)).group_by_key(Grouped.with_(s, s))
     .count(Materialized.as_("c").with_key_serde(s).with_value_serde(lng)).to_stream().process(Spy))
    rng = random.Random(5)
    inputs = [(i, 1000 + i, f"k{rng.randrange(7)}", (("n", b"%d" % i),) if i % 2 else ()) for i in range(400)]
    raw = [(off, ts, s.serialize("in", key), b"v", headers) for off, ts, key, headers in inputs]
    collector = _Collector()
    with tempfile.TemporaryDirectory() as state_dir:
        task = StreamTask(b.build(), TaskId(0, 3), {"application.id": "rc"}, collector, state_dir=state_dir)
        task.initialize()
        task.add_records("in", 3, raw)
        task.process_batch(1_000_000)
        task.commit()
        task.close()
    last = {key: (off, ts, headers) for off, ts, key, headers in inputs}
    counts = {key: sum(1 for _o, _t, k, _h in inputs if k == key) for key in last}
    assert sorted(seen) == sorted((key, counts[key], ts, headers, "in", 3, off)
                                  for key, (off, ts, headers) in last.items())
    assert [off for *_rest, off in seen] == sorted(off for off, _ts, _h in last.values())  # order of last update
    changelog = sorted((key, value, ts) for topic, key, value, _h, ts in collector.sent if topic.endswith("changelog"))
    assert changelog == sorted((s.serialize("c", key), lng.serialize("c", counts[key]), ts)
                               for key, (_off, ts, _h) in last.items())
