"""IQv2 (KafkaStreams.query(StateQueryRequest)) on a running app of two instances, on both brokers: each query
kind returns the right values per partition and over all partitions, a partition the instance does not hold is
NOT_PRESENT, a wrong query kind for a store is UNKNOWN_QUERY_TYPE, positions follow the committed input offsets
(bound reached / NOT_UP_TO_BOUND), and skip_cache reads only what the last commit flushed.

Instance 0 commits every 100 ms; instance 1 practically never (commit.interval.ms 10 min, and no flush when its
input runs dry: pystreams.cache.flush.when.idle false), so its stores' record caches hold new counts unflushed:
its cached and skip_cache reads differ, and its positions come from processing alone."""
from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
from confluent_kafka import Producer

from pystreams import Consumed, Materialized, Serdes, StreamsBuilder, TimeWindows
from pystreams.query import (
    FailureReason,
    KeyQuery,
    Position,
    PositionBound,
    RangeQuery,
    StateQueryRequest,
    TimestampedKeyQuery,
    TimestampedRangeQuery,
    WindowKeyQuery,
    WindowRangeQuery,
)
from pystreams.runtime import KafkaStreams, State
from pystreams.state.api import ValueAndTimestamp
from tests.integration.runtime.helpers import create_topics, unique

pytestmark = pytest.mark.integration

PARTITIONS = 4
BASE = (int(time.time()) // 3600 - 2) * 3_600_000  # recent: window changelogs are not deleted by retention
SIZE = 10_000


def _topology(source: str):
    builder = StreamsBuilder()
    stream = builder.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())).group_by_key()
    stream.count(Materialized(name="counts"))
    stream.windowed_by(TimeWindows.of_size_and_grace(timedelta(milliseconds=SIZE), timedelta(minutes=1))) \
        .count(Materialized(name="wins"))
    return builder.build()


def _kv(store: str, query):
    return StateQueryRequest.in_store(store).with_query(query)


def _owned(app) -> set[int]:
    return {at.id.partition for t in app.threads for at in list(t.tasks.values())}


def _events() -> list[tuple[int, str, int]]:
    """(partition, key, timestamp): keys p<p>-k<j> only in partition p, 2 windows each."""
    return [(p, f"p{p}-k{j}", BASE + (i % 2) * SIZE + i) for p in range(PARTITIONS) for j in range(3)
            for i in range(p + j + 1)]


def test_iqv2_queries_on_two_instances(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source = unique("iqv2"), unique("clicks")
    create_topics(bootstrap, PARTITIONS, source)
    apps = [KafkaStreams(_topology(source), {
        "application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path / f"s{i}"),
        "commit.interval.ms": 100 if i == 0 else 600_000, "statestore.cache.max.bytes": 10 << 20,
        "consumer.session.timeout.ms": 10000,
        "pystreams.cache.flush.when.idle": i == 0}) for i in range(2)]
    try:
        for app in apps:
            app.start()
        deadline = time.monotonic() + 60
        while not (all(a.state is State.RUNNING for a in apps) and all(_owned(a) for a in apps)
                   and sorted(p for a in apps for p in _owned(a)) == list(range(PARTITIONS))):
            assert time.monotonic() < deadline, [(a.state, _owned(a)) for a in apps]
            time.sleep(0.1)
        events = _events()
        producer = Producer({"bootstrap.servers": bootstrap})
        for p, key, ts in events:
            producer.produce(source, key=key.encode(), value=b"x", timestamp=ts, partition=p)
        producer.flush(30)
        counts = Counter(key for _, key, _ in events)
        last_ts = {key: max(ts for _, k, ts in events if k == key) for key in counts}
        windows = Counter((key, BASE + (ts - BASE) // SIZE * SIZE) for _, key, ts in events)
        partition_of = {key: p for p, key, _ in events}
        end = Counter(p for p, _, _ in events)  # records per partition: its last offset is end[p] - 1

        def everything() -> dict[str, int]:
            out: dict[str, int] = {}
            for app in apps:
                for result in app.query(_kv("counts", RangeQuery.with_no_bounds())).get_partition_results().values():
                    out.update(result.get_result())
            return out

        while everything() != counts:  # cached reads see every count once processed, on both instances
            assert time.monotonic() < deadline + 30, everything()
            time.sleep(0.1)
        owners = [_owned(a) for a in apps]
        assert owners[0].isdisjoint(owners[1])

        for i, app in enumerate(apps):
            every = app.query(_kv("counts", RangeQuery.with_no_bounds())).get_partition_results()
            assert set(every) == owners[i] and all(r.is_success() for r in every.values())
            for key, count in counts.items():
                p = partition_of[key]
                mine = p in owners[i]
                one = app.query(_kv("counts", KeyQuery.with_key(key)).with_partitions({p}))
                result = one.get_partition_results()[p]
                if mine:
                    assert result.get_result() == count
                    only = app.query(_kv("counts", KeyQuery.with_key(key))).get_only_partition_result()
                    assert only.get_result() == count
                    stamped = app.query(_kv("counts", TimestampedKeyQuery.with_key(key)).with_partitions({p}))
                    assert stamped.get_partition_results()[p].get_result() == ValueAndTimestamp(count, last_ts[key])
                    active = app.query(_kv("counts", KeyQuery.with_key(key)).with_partitions({p}).require_active())
                    assert active.get_partition_results()[p].get_result() == count
                else:
                    assert result.get_failure_reason() is FailureReason.NOT_PRESENT
                    assert app.query(_kv("counts", KeyQuery.with_key(key))).get_only_partition_result() is None
            p = min(owners[i])
            keys = sorted(k for k in counts if partition_of[k] == p)
            ranged = app.query(_kv("counts", RangeQuery.with_range(keys[0], keys[1]).with_descending_keys())
                               .with_partitions({p})).get_partition_results()[p].get_result()
            assert list(ranged) == [(keys[1], counts[keys[1]]), (keys[0], counts[keys[0]])]
            stamped_range = app.query(_kv("counts", TimestampedRangeQuery.with_lower_bound(keys[2]))
                                      .with_partitions({p})).get_partition_results()[p].get_result()
            assert list(stamped_range) == [(keys[2], ValueAndTimestamp(counts[keys[2]], last_ts[keys[2]]))]
            key = keys[0]
            fetched = app.query(_kv("wins", WindowKeyQuery.with_key_and_window_start_range(key, BASE, BASE + SIZE))
                                .with_partitions({p})).get_partition_results()[p].get_result()
            assert list(fetched) == [(s, windows[(key, s)]) for s in (BASE, BASE + SIZE) if (key, s) in windows]
            in_range = app.query(_kv("wins", WindowRangeQuery.with_window_start_range(BASE, BASE)))
            got = {(w.key, w.window.start): c for r in in_range.get_partition_results().values()
                   for w, c in r.get_result()}
            assert got == {kw: c for kw, c in windows.items() if kw[1] == BASE and partition_of[kw[0]] in owners[i]}
            for store, wrong in (("counts", WindowKeyQuery.with_key_and_window_start_range(key, BASE, BASE)),
                                 ("wins", KeyQuery.with_key(key)), ("wins", WindowRangeQuery.with_key(key))):
                answer = app.query(_kv(store, wrong).with_partitions({p})).get_partition_results()[p]
                assert answer.get_failure_reason() is FailureReason.UNKNOWN_QUERY_TYPE, (store, wrong)

        # positions: instance 0's follow its commits up to the last offsets; instance 1 never committed
        reached = Position.from_map({source: {p: end[p] - 1 for p in owners[0]}})
        while apps[0].query(_kv("counts", RangeQuery.with_no_bounds())).get_position() != reached:
            assert time.monotonic() < deadline + 60, apps[0].query(_kv("counts", RangeQuery.with_no_bounds()))
            time.sleep(0.1)
        bound = PositionBound.at(reached)
        assert all(r.is_success() for r in apps[0].query(_kv("counts", RangeQuery.with_no_bounds())
                                                         .with_position_bound(bound)).get_partition_results().values())
        p0 = min(owners[0])
        ahead = PositionBound.at(Position.from_map({source: {p0: end[p0]}}))
        behind = apps[0].query(_kv("counts", RangeQuery.with_no_bounds()).with_position_bound(ahead))
        assert behind.get_partition_results()[p0].get_failure_reason() is FailureReason.NOT_UP_TO_BOUND
        assert all(r.is_success() for q, r in behind.get_partition_results().items() if q != p0)

        # skip_cache: instance 0 flushed everything at its commits, so both reads agree there; instance 1 does not
        # commit (a rebalance's commit may have flushed its first counts): one more record per key of its
        # partitions is then only in its record cache, seen by a cached read and not by a skip_cache one
        for key, count in counts.items():
            p = partition_of[key]
            if p in owners[0]:
                for query in (KeyQuery.with_key(key), KeyQuery.with_key(key).skip_cache()):
                    answer = apps[0].query(_kv("counts", query).with_partitions({p})).get_partition_results()[p]
                    assert answer.get_result() == count, (key, query)
        theirs = sorted(k for k in counts if partition_of[k] in owners[1])
        for key in theirs:
            producer.produce(source, key=key.encode(), value=b"x", timestamp=last_ts[key], partition=partition_of[key])
        producer.flush(30)

        def read(key: str, skip: bool):
            query = KeyQuery.with_key(key).skip_cache() if skip else KeyQuery.with_key(key)
            p = partition_of[key]
            return apps[1].query(_kv("counts", query).with_partitions({p})).get_partition_results()[p].get_result()

        while any(read(k, False) != counts[k] + 1 for k in theirs):
            assert time.monotonic() < deadline + 90, {k: read(k, False) for k in theirs}
            time.sleep(0.1)
        skipped = {k: read(k, True) for k in theirs}
        assert all(v is None or v <= counts[k] for k, v in skipped.items()), skipped  # the last flush's counts
        # instance 1 never committed: its positions come from processing alone, which surely passed every record
        # but the last (the stream thread advances a partition's offset before it processes the record)
        p1 = min(owners[1])
        newest = end[p1] + sum(1 for k in theirs if partition_of[k] == p1) - 1
        probe = _kv("counts", KeyQuery.with_key(f"p{p1}-k0")).with_partitions({p1})
        answer = apps[1].query(probe).get_partition_results()[p1]
        assert answer.get_position() == Position.from_map({source: {p1: newest - 1}})
        assert apps[1].query(probe.with_position_bound(PositionBound.at(answer.get_position()))) \
            .get_partition_results()[p1].is_success()
        unflushed = apps[1].query(probe.with_position_bound(PositionBound.at(Position.from_map({source: {p1: newest}}))))
        assert unflushed.get_partition_results()[p1].get_failure_reason() is FailureReason.NOT_UP_TO_BOUND
        skip = apps[1].query(_kv("counts", KeyQuery.with_key(f"p{p1}-k0").skip_cache()).with_partitions({p1}))
        flushed = skip.get_partition_results()[p1].get_position().get_partition_positions(source)
        assert flushed.get(p1, -1) <= end[p1] - 1  # a skip_cache read's position: commits only, none since
    finally:
        for app in apps:
            app.close(60)
