"""Remote interactive queries keep types: two instances, each key asked on both (so once locally and once over
HTTP from the other one), and the answers must be the very same Python objects (==, same type) as the local
store holds: Record values with Decimal and datetime fields, Decimal, datetime and bytes values, windowed and
session aggregates; int, tuple (JSON), bytes and Record keys. Errors (unknown store, wrong store type, a key the
serializer cannot take) are PystreamsError subclasses whether the owner is local or remote."""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from confluent_kafka import Producer

from pystreams import (
    Consumed,
    Materialized,
    Serdes,
    SessionWindows,
    StreamsBuilder,
    TimeWindows,
)
from pystreams.runtime import KafkaStreams, State
from pystreams.runtime.queries import (
    HostInfo,
    InvalidStateStoreError,
    KeySerializationError,
    StoreTypeMismatchError,
    UnknownStateStoreError,
)
from pystreams.runtime.remote_queries import (
    RemoteQueryError,
    fetch_raw,
    query_key,
    query_sessions_key,
    query_window_key,
)
from pystreams.serdes import Serde
from pystreams.serdes.records import Record
from pystreams.serdes.windowed import SessionWindow, Windowed
from pystreams.state.queryable import QueryableStoreTypes
from tests.integration.runtime.helpers import create_topics, free_port, served_instances, unique

pytestmark = pytest.mark.integration

# Event times of the last hours, a whole hour (so window starts are multiples of the window size): a window
# store's changelog is compact,delete with retention.ms = store retention + 1 day, as Kafka creates it, so a
# broker's retention check deletes changelog records with timestamps from long ago (a fixed 2023 BASE lost
# windows on Apache Kafka whenever its 5-minute retention check ran during the test).
BASE = (int(time.time()) // 3600 - 2) * 3_600_000
SIZE = 10_000
GAP = 5_000


class Order(Record, serializer="json"):
    id: int
    amount: Decimal
    at: datetime


class Region(Record, serializer="json"):
    name: str
    zone: int


class DecimalSerde(Serde[Decimal]):
    """Decimal as its exact text: a serde of the application's own, as users write them."""

    def serialize(self, topic: str, data: Decimal | None, headers: Any = None) -> bytes | None:
        return None if data is None else str(data).encode()

    def deserialize(self, topic: str, data: bytes | None, headers: Any = None) -> Decimal | None:
        return None if data is None else Decimal(data.decode())


class DatetimeSerde(Serde[datetime]):
    def serialize(self, topic: str, data: datetime | None, headers: Any = None) -> bytes | None:
        return None if data is None else data.isoformat().encode()

    def deserialize(self, topic: str, data: bytes | None, headers: Any = None) -> datetime | None:
        return None if data is None else datetime.fromisoformat(data.decode())


ORDER, REGION, DEC, TS = Serdes.from_record(Order), Serdes.from_record(Region), DecimalSerde(), DatetimeSerde()
LONG, JSON, RAW = Serdes.Long(), Serdes.JSON(), Serdes.ByteArray()


def _topology(orders: str, prices: str, seen: str, regions: str) -> Any:
    builder = StreamsBuilder()
    builder.table(orders, Consumed(key_serde=LONG, value_serde=ORDER), Materialized(name="orders"))
    builder.table(seen, Consumed(key_serde=RAW, value_serde=TS), Materialized(name="seen"))
    builder.table(regions, Consumed(key_serde=REGION, value_serde=RAW), Materialized(name="regions"))
    stream = builder.stream(prices, Consumed(key_serde=JSON, value_serde=DEC))
    stream.to_table(Materialized(name="prices", key_serde=JSON, value_serde=DEC))
    grouped = stream.group_by_key()
    (grouped.windowed_by(TimeWindows.of_size_and_grace(timedelta(milliseconds=SIZE), timedelta(minutes=1)))
     .reduce(lambda a, b: a + b, Materialized(name="price-windows", key_serde=JSON, value_serde=DEC)))
    (grouped.windowed_by(SessionWindows.of_inactivity_gap_and_grace(timedelta(milliseconds=GAP),
                                                                    timedelta(minutes=1)))
     .reduce(lambda a, b: a + b, Materialized(name="price-sessions", key_serde=JSON, value_serde=DEC)))
    return builder.build()


def _produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes, int]]) -> None:
    # Java's partitioner (murmur2), which query_metadata_for_key assumes; librdkafka's default is CRC32
    producer = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random", "linger.ms": 5})
    for key, value, ts in records:
        producer.produce(topic, key=key, value=value, timestamp=ts)
    assert producer.flush(30) == 0


def test_remote_queries_return_the_same_objects_as_local_ones(kafka_broker, tmp_path):
    bootstrap = kafka_broker.bootstrap_servers
    app_id = unique("tiq")
    orders_t, prices_t, seen_t, regions_t = (unique(n) for n in ("orders", "prices", "seen", "regions"))
    create_topics(bootstrap, 2, orders_t, prices_t, seen_t, regions_t)
    utc = UTC
    orders = {i: Order(id=i, amount=Decimal(f"{i}.{i:02d}"), at=datetime(2026, 1, 1 + i, 12, i, tzinfo=utc))
              for i in range(1, 9)}
    seen = {bytes([i, 0, 255 - i]): datetime(2025, 5, i + 1, 8, 0, i, 123000, tzinfo=utc) for i in range(8)}
    regions = {Region(name=f"r{i}", zone=i): bytes(range(i, i + 5)) + b"\x00\xff" for i in range(8)}
    price_keys = [("sku", i) for i in range(8)]
    prices: list[tuple[tuple[str, int], Decimal, int]] = []
    for i, key in enumerate(price_keys):  # per key: two prices in window 1 / session 1, one ~60 s later
        prices += [(key, Decimal("1.10") * (i + 1), BASE + i), (key, Decimal("0.05"), BASE + 1000 + i),
                   (key, Decimal("2.5"), BASE + 6 * SIZE + i)]
    _produce(bootstrap, orders_t, [(LONG.serialize(orders_t, k), ORDER.serialize(orders_t, v), BASE)
                                   for k, v in orders.items()])
    _produce(bootstrap, seen_t, [(k, TS.serialize(seen_t, v), BASE) for k, v in seen.items()])
    _produce(bootstrap, regions_t, [(REGION.serialize(regions_t, k), v, BASE) for k, v in regions.items()])
    _produce(bootstrap, prices_t, [(JSON.serialize(prices_t, list(k)), DEC.serialize(prices_t, v), ts)
                                   for k, v, ts in prices])
    hosts, apps = served_instances(lambda: _topology(orders_t, prices_t, seen_t, regions_t), 2, app_id, bootstrap,
                                   tmp_path, **{"statestore.cache.max.bytes": 0})
    try:
        for app in apps:
            app.start()
        _wait_until_loaded(apps, len(price_keys))
        holders = set()
        # key-value stores: Record value (Decimal, datetime inside) by int key, datetime by bytes key,
        # bytes by Record key; asked on both instances: one local, one remote answer, both the same objects
        for store, expected, key_serde in (("orders", orders, LONG), ("seen", seen, RAW),
                                           ("regions", regions, REGION)):
            for key, value in expected.items():
                holders.add(apps[0].query_metadata_for_key(store, key, key_serde).active_host)
                for app in apps:
                    got = query_key(app, store, key, key_serde)
                    assert got == value and type(got) is type(value), (store, key, got)
                    via_client = app.query(store, key, key_serde)  # KafkaStreams.query() is the same path
                    assert via_client == value and type(via_client) is type(value)
        for i, key in enumerate(price_keys):
            holders.add(apps[0].query_metadata_for_key("prices", key, JSON).active_host)
            totals = [Decimal("1.10") * (i + 1) + Decimal("0.05"), Decimal("2.5")]
            for app in apps:
                assert query_key(app, "prices", key, JSON) == Decimal("2.5")  # tuple key (a JSON list on the wire)
                windows = query_window_key(app, "price-windows", key, BASE, BASE + 10 * SIZE, JSON)
                assert windows == [(BASE, totals[0]), (BASE + 6 * SIZE, totals[1])]
                assert all(type(v) is Decimal for _, v in windows)
                assert app.query_window("price-windows", key, BASE, BASE + 10 * SIZE, JSON) == windows
                sessions = query_sessions_key(app, "price-sessions", key, JSON)
                stored = list(key)  # the JSON serde gives a tuple key back as a list, locally as remotely
                assert sessions == [(Windowed(stored, SessionWindow(BASE + i, BASE + 1000 + i)), totals[0]),
                                    (Windowed(stored, SessionWindow(BASE + 6 * SIZE + i, BASE + 6 * SIZE + i)),
                                     totals[1])], sessions
                assert all(type(kv.value) is Decimal and type(kv.key.key) is list for kv in sessions)
                owner = apps[hosts.index(apps[0].query_metadata_for_key("price-sessions", key, JSON).active_host)]
                local = list(owner.store("price-sessions", QueryableStoreTypes.session_store()).fetch(key))
                assert sessions == local == app.query_sessions("price-sessions", key, JSON)
                # find_sessions(key, earliest end, latest start): only the later session ends after BASE + 2000
                later = query_sessions_key(app, "price-sessions", key, JSON, BASE + 2000, BASE + 10 * SIZE)
                assert later == sessions[1:]
                assert query_sessions_key(app, "price-sessions", key, JSON, 0, BASE - 1) == []
                assert app.query_sessions("price-sessions", key, JSON, BASE + 2000, BASE + 10 * SIZE) == later
        assert holders == set(hosts)  # each instance owns some keys: the remote path ran for both directions
        for app in apps:
            assert query_key(app, "orders", 999, LONG) is None  # no such key: None, as a local get
            with pytest.raises(UnknownStateStoreError):
                query_key(app, "no-such-store", 1, LONG)
            with pytest.raises(KeySerializationError):
                query_key(app, "orders", "not-a-long", LONG)
            for key in (1, 2, 3, 4, 5, 6):  # owners local and remote: the same error class either way
                with pytest.raises(StoreTypeMismatchError):
                    query_window_key(app, "orders", key, 0, 1, LONG)
                with pytest.raises(StoreTypeMismatchError):
                    query_sessions_key(app, "orders", key, LONG)
            for key in price_keys:  # a session store is no key-value or window store, wherever the key lives
                with pytest.raises(StoreTypeMismatchError, match="session_store"):
                    query_key(app, "price-sessions", key, JSON)
                with pytest.raises(StoreTypeMismatchError, match="session_store"):
                    query_window_key(app, "price-sessions", key, 0, 1, JSON)
            with pytest.raises(StoreTypeMismatchError):
                app.store("price-sessions")  # the default type is key_value_store()
        with pytest.raises(UnknownStateStoreError):
            fetch_raw(hosts[0], "no-such-store", "key_value", b"x")
        with pytest.raises(StoreTypeMismatchError):
            fetch_raw(hosts[1], "price-windows", "session", JSON.serialize("", ["sku", 1]))
        with pytest.raises(RemoteQueryError, match="BAD_REQUEST|type must be"):
            fetch_raw(hosts[1], "orders", "nonsense", b"x")
        with pytest.raises(RemoteQueryError):  # the bytes are not a Long key of store orders
            fetch_raw(hosts[0], "orders", "key_value", b"abc")
    finally:
        for app in apps:
            app.close(60)


def _wait_until_loaded(apps: list[KafkaStreams], n_price_keys: int) -> None:
    """Both RUNNING and every store fully loaded across the two (local views only; bounded)."""
    deadline = time.monotonic() + 90
    want = {"orders": 8, "seen": 8, "regions": 8, "prices": n_price_keys, "price-windows": 2 * n_price_keys}
    while True:
        counts: dict[str, int] = {}
        if all(a.state is State.RUNNING for a in apps):
            for a in apps:
                for store in want:
                    kind = QueryableStoreTypes.window_store() if store == "price-windows" else None
                    try:
                        counts[store] = counts.get(store, 0) + sum(1 for _ in a.store(store, kind).all())
                    except InvalidStateStoreError:  # no task of that store here (or a rebalance began)
                        counts.setdefault(store, 0)
        if counts == want and all(sum(len(t.tasks) for t in a.threads) for a in apps):
            return
        assert time.monotonic() < deadline, (counts, [a.state for a in apps])
        time.sleep(0.2)


def test_a_global_store_is_queried_locally_on_every_instance(kafka_broker, tmp_path):
    """Kafka: a global store is on every instance, so its key metadata is this host (partition -1) and a query
    never leaves the instance, with or without application.server."""
    bootstrap = kafka_broker.bootstrap_servers
    app_id, rates_t, other_t = unique("giq"), unique("rates"), unique("other")
    create_topics(bootstrap, 2, rates_t, other_t)
    rates = {f"cur-{i}": Decimal(f"1.{i}5") for i in range(6)}
    _produce(bootstrap, rates_t, [(k.encode(), DEC.serialize(rates_t, v), BASE) for k, v in rates.items()])
    builder = StreamsBuilder()
    builder.global_table(rates_t, Consumed(key_serde=Serdes.String(), value_serde=DEC), Materialized(name="rates"))
    builder.stream(other_t, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())).to(unique("sink"))
    host = HostInfo("127.0.0.1", free_port())
    apps = [KafkaStreams(builder.build(), {"application.id": app_id, "bootstrap.servers": bootstrap,
                                           "state.dir": str(tmp_path / f"s{i}"), **extra})
            for i, extra in enumerate(({"application.server": str(host)}, {}))]
    try:
        for app in apps:
            app.start()
        deadline = time.monotonic() + 60
        while not all(a.state is State.RUNNING for a in apps):
            assert time.monotonic() < deadline, [a.state for a in apps]
            time.sleep(0.1)
        meta = apps[0].query_metadata_for_key("rates", "cur-1", Serdes.String())
        assert meta.active_host == host and meta.partition == -1
        for app in apps:
            for key, value in rates.items():
                got = app.query("rates", key, Serdes.String())
                assert got == value and type(got) is Decimal
            assert app.query("rates", "cur-99", Serdes.String()) is None
            with pytest.raises(KeySerializationError):
                app.query("rates", 5, Serdes.String())
    finally:
        for app in apps:
            app.close(60)
