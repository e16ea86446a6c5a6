"""The plain JSON endpoint's answers without sockets (plain_answer on a fake client): 404 unknown store, 400 wrong
store type / bad key / bad request, 503 with Retry-After when not running, rebalancing or the key's partition is
not held here; 200 null only when this instance holds the key's partition. Base64 keys of /v1/raw are validated.
The application.server endpoint's switch (pystreams.iq.http.enabled) and bind host (pystreams.iq.http.host)."""
from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

import pytest

from pystreams import Serdes
from pystreams.errors import ConfigError
from pystreams.runtime import queries, remote_queries, server
from pystreams.runtime.queries import (
    InvalidStateStoreError,
    KeyQueryMetadata,
    StoreTypeMismatchError,
    UnknownStateStoreError,
    serialize_key,
)
from pystreams.runtime.server import (
    QueryServer,
    iq_http_bind,
    iq_http_enabled,
    plain_answer,
    start_http_server,
)

pytestmark = pytest.mark.unit

HELD = {0, 1}  # the partitions of "counts" this fake instance holds


class View:
    def __init__(self, data: dict[str, int]) -> None:
        self.data = data

    def get(self, key: Any) -> Any:
        return self.data.get(key)

    def fetch(self, key: Any, time_from: int, time_to: int) -> list[tuple[int, int]]:
        raise AssertionError("not a window store")


class Client:
    """store(params) as KafkaStreams' local_store answers for a running client with a key-value store "counts"."""

    def __init__(self, state: str = "RUNNING") -> None:
        self.state = state
        self.topology = SimpleNamespace(global_store_names=list)
        self.config = SimpleNamespace(application_server="127.0.0.1:7070")
        self.asked: list[Any] = []

    def store(self, params: Any) -> Any:
        self.asked.append(params)
        if self.state != "RUNNING":
            raise InvalidStateStoreError(f"KafkaStreams is not running (state {self.state}): cannot query")
        if params.store_name != "counts":
            raise UnknownStateStoreError(f"no store named {params.store_name} in the topology")
        if params.query_type is not None and params.query_type.name == "window_store":
            raise StoreTypeMismatchError("store counts is a key-value store, not a window_store")
        return View({"kafka": 3})


@pytest.fixture(autouse=True)
def _routing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The key's partition: "kafka" and "absent-here" -> 0 (held), "moved" -> 2 (not held); keys go through
    the store's key serde (String)."""
    def key_metadata(streams, store, key, serializer, partitioner=None):
        serialize_key(serializer, store, key)
        return KeyQueryMetadata(queries.UNAVAILABLE, 2 if key == "moved" else 0)

    monkeypatch.setattr(queries, "key_metadata", key_metadata)
    monkeypatch.setattr(queries, "live_stores",
                        lambda streams, store, stale=False, partition=None: ["s"] if partition in HELD else [])
    monkeypatch.setattr(remote_queries, "store_serdes", lambda streams, store: (Serdes.String(), Serdes.Long(), "t"))


def _ask(query: dict[str, str], store: str = "counts", client: Client | None = None) -> tuple[int, dict]:
    return plain_answer(client or Client(), store, {k: [v] for k, v in query.items()})


def test_a_held_key_is_200_with_its_value_and_an_absent_key_of_a_held_partition_is_200_null():
    assert _ask({"key": '"kafka"'}) == (200, {"store": "counts", "key": "kafka", "value": 3,
                                              "host": "127.0.0.1:7070"})
    status, body = _ask({"key": '"absent-here"'})
    assert (status, body["value"]) == (200, None)


def test_a_key_whose_partition_is_not_held_here_is_503_not_a_wrong_null():
    status, body = _ask({"key": '"moved"'})
    assert status == 503 and body["code"] == "UNAVAILABLE" and "partition 2" in body["error"]


def test_an_explicit_partition_pins_the_read():
    client = Client()
    assert plain_answer(client, "counts", {"key": ['"absent-here"'], "partition": ["2"]})[0] == 503
    assert client.asked[-1].partition == 2
    assert plain_answer(client, "counts", {"key": ['"absent-here"'], "partition": ["-1"]})[0] == 400


def test_unknown_store_is_404():
    status, body = _ask({"key": '"kafka"'}, store="nope")
    assert (status, body["code"]) == (404, "UNKNOWN_STORE")


@pytest.mark.parametrize("query, code", [
    ({"key": '["a", 1]'}, "BAD_REQUEST"),      # a list for a String store
    ({"key": '{"a": 1}'}, "BAD_REQUEST"),      # a dict
    ({"key": "null"}, "BAD_REQUEST"),          # null has no partition
    ({"key": "not json"}, "BAD_REQUEST"),
    ({}, "BAD_REQUEST"),                       # no key
    ({"key": '"kafka"', "from": "x"}, "BAD_REQUEST"),
    ({"key": '"kafka"', "from": "0"}, "WRONG_STORE_TYPE"),  # a key-value store read as a window store
])
def test_bad_requests_and_wrong_store_types_are_400(query, code):
    status, body = _ask(query)
    assert (status, body["code"]) == (400, code), body


@pytest.mark.parametrize("state", ["REBALANCING_NOT_READY", "PENDING_SHUTDOWN", "CREATED"])
def test_a_client_that_is_not_running_is_503(state):
    status, body = _ask({"key": '"kafka"'}, client=Client(state))
    assert (status, body["code"]) == (503, "UNAVAILABLE")


class Request:
    def __init__(self) -> None:
        self.headers: list[tuple[str, str]] = []
        self.status = 0
        self.wfile = io.BytesIO()

    def send_response(self, status: int) -> None:
        self.status = status

    def send_header(self, name: str, value: str) -> None:
        self.headers.append((name, value))

    def end_headers(self) -> None:
        pass


def test_503_answers_carry_retry_after_and_others_do_not():
    unavailable, ok = Request(), Request()
    QueryServer._reply(unavailable, 503, b"{}", "application/json")  # type: ignore[arg-type]
    QueryServer._reply(ok, 200, b"{}", "application/json")  # type: ignore[arg-type]
    assert ("Retry-After", "1") in unavailable.headers
    assert all(name != "Retry-After" for name, _ in ok.headers)


def test_raw_keys_must_be_valid_base64url():
    assert remote_queries.unb64("a2Fma2E") == b"kafka"
    for bad in ("%%%", "a2F!a2E", "a2Fm a2E"):
        with pytest.raises(ValueError, match="base64url"):
            remote_queries.unb64(bad)


def _config(**keys: Any) -> Any:
    return SimpleNamespace(get=lambda key, default=None: keys.get(key, default),
                           application_server=keys.get("application.server"))


def test_the_endpoint_switch_is_true_by_default_and_takes_booleans_only():
    assert iq_http_enabled(_config()) is True
    for value, expected in ((True, True), ("true", True), (" TRUE ", True), (False, False), ("false", False)):
        assert iq_http_enabled(_config(**{"pystreams.iq.http.enabled": value})) is expected
    with pytest.raises(ConfigError, match="pystreams.iq.http.enabled must be true or false"):
        iq_http_enabled(_config(**{"pystreams.iq.http.enabled": "no"}))


def test_the_endpoint_binds_to_the_advertised_host_unless_told_otherwise():
    assert iq_http_bind(_config(), "10.1.2.3") == "10.1.2.3"
    assert iq_http_bind(_config(**{"pystreams.iq.http.host": "0.0.0.0"}), "10.1.2.3") == "0.0.0.0"
    assert iq_http_bind(_config(**{"pystreams.iq.http.host": " "}), "10.1.2.3") == "10.1.2.3"


def test_switched_off_application_server_is_advertised_only_and_serves_nothing():
    streams = SimpleNamespace(config=_config(**{"application.server": "127.0.0.1:1", "pystreams.iq.http.enabled":
                                                "false"}), client_id="c")
    assert start_http_server(streams) is None  # port 1 would fail to bind: nothing was bound
    assert server.IQ_HTTP_ENABLED == "pystreams.iq.http.enabled"
