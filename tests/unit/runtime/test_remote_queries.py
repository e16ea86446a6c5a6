"""The pure parts of typed remote queries: the base64url codec, key serialization errors, the store's serdes on an
instance that holds no task of the store (builder + default serdes), and the raw endpoint's answers to bad
requests (no network: a fake client object)."""
from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from types import SimpleNamespace

import pytest

from pystreams import Serdes
from pystreams.runtime.queries import (
    KeySerializationError,
    UnknownStateStoreError,
    serialize_key,
)
from pystreams.runtime.remote_queries import b64, raw_answer, store_serdes, unb64

pytestmark = pytest.mark.unit


def _streams(builders: dict, configs: dict | None = None) -> SimpleNamespace:
    topology = SimpleNamespace(store_builders=lambda: dict(builders), global_store_builders=dict,
                               global_store_names=list,
                               changelog_topic=lambda store, app_id: f"{app_id}-{store}-changelog")
    return SimpleNamespace(topology=topology, threads=[], global_state=None, app_configs=configs or {},
                           config=SimpleNamespace(application_id="app", application_server=""))


def test_base64url_round_trips_any_bytes_with_or_without_padding():
    for raw in (b"", b"\x00", b"\xff\xfe\x00abc", bytes(range(256))):
        text = b64(raw)
        assert text is not None and "+" not in text and "/" not in text
        assert unb64(text) == raw and unb64(text.rstrip("=")) == raw
    assert b64(None) is None
    with pytest.raises(ValueError, match="base64url"):
        unb64("a")


def test_serialize_key_turns_serializer_failures_into_one_clear_error():
    assert serialize_key(Serdes.Long(), "t", 7) == (7).to_bytes(8, "big")
    assert serialize_key(lambda topic, key: key.encode(), "t", "k") == b"k"  # a (topic, key) callable
    with pytest.raises(KeySerializationError, match="cannot serialize the key"):
        serialize_key(Serdes.Long(), "t", "seven")
    with pytest.raises(KeySerializationError, match="cannot serialize the key"):
        serialize_key(Serdes.String(), "t", ("a", 1))  # TypeError inside the serde: still our error
    with pytest.raises(KeySerializationError, match="null"):
        serialize_key(lambda topic, key: None, "t", 1)
    with pytest.raises(KeySerializationError, match="Serde, a Serializer or a callable"):
        serialize_key(42, "t", 1)


def test_store_serdes_without_a_local_task_come_from_the_builder_and_the_defaults():
    class DecimalText:
        def serialize(self, topic, data, headers=None):
            return str(data).encode()

        def deserialize(self, topic, data, headers=None):
            return Decimal(data.decode())

    builder = SimpleNamespace(key_serde=None, value_serde=DecimalText())
    streams = _streams({"prices": builder}, {"default.key.serde": "org.apache.kafka.common.serialization."
                                                                 "Serdes$StringSerde"})
    ks, vs, topic = store_serdes(streams, "prices")
    assert ks.deserialize(topic, b"sku") == "sku"  # the default key serde filled in, as a task does
    assert vs.deserialize(topic, b"1.50") == Decimal("1.50") and topic == "app-prices-changelog"
    with pytest.raises(UnknownStateStoreError):
        store_serdes(streams, "nope")


def test_raw_endpoint_answers_bad_requests_with_codes():
    streams = _streams({"prices": SimpleNamespace(key_serde=None, value_serde=None)})
    status, body = raw_answer(streams, "prices", {"type": ["nonsense"], "key": ["eA"]})
    assert status == 400 and body["code"] == "BAD_REQUEST" and "type must be" in body["error"]
    status, body = raw_answer(streams, "prices", {"type": ["key_value"]})
    assert status == 400 and body["code"] == "BAD_REQUEST" and "base64url" in body["error"]
    status, body = raw_answer(streams, "prices", {"type": ["key_value"], "key": ["a"]})
    assert status == 400 and body["code"] == "BAD_REQUEST"
    status, body = raw_answer(streams, "other", {"type": ["key_value"], "key": ["eA"]})
    assert status == 404 and body["code"] == "UNKNOWN_STORE" and "other" in body["error"]


def test_the_plain_json_helpers_refuse_non_json_keys_clearly():
    from pystreams.runtime.queries import HostInfo, query_remote, query_remote_window

    host = HostInfo("127.0.0.1", 9)  # never contacted: the key is refused first
    with pytest.raises(KeySerializationError, match="JSON keys only"):
        query_remote(host, "s", b"raw")
    with pytest.raises(KeySerializationError, match="JSON keys only"):
        query_remote_window(host, "s", {1, 2}, 0, 1)


def test_the_plain_json_endpoint_shows_common_types_readably():
    import json
    from datetime import datetime

    from pystreams.runtime.server import json_default
    from pystreams.serdes.records import Record
    from pystreams.serdes.windowed import SessionWindow, Windowed
    from pystreams.state.api import ValueAndTimestamp

    class Payment(Record, serializer="json"):
        id: int
        amount: Decimal
        at: datetime

    value = {"record": Payment(id=1, amount=Decimal("1.50"), at=datetime(2026, 1, 1, tzinfo=UTC)),
             "raw": b"\x00\xff", "session": Windowed("k", SessionWindow(1, 2)),
             "stamped": ValueAndTimestamp(Decimal(2), 5)}
    assert json.loads(json.dumps(value, default=json_default)) == {
        "record": {"id": 1, "amount": "1.50", "at": "2026-01-01T00:00:00+00:00"}, "raw": "AP8=",
        "session": {"key": "k", "start": 1, "end": 2}, "stamped": {"value": "2", "timestamp": 5}}
