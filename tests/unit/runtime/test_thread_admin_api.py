"""The runtime's public names and the interactive-query keywords of KafkaStreams: allow_stale reaches the remote
query helpers (default False), CloseOptions / StoreQueryParameters are exported like Kafka's public classes."""
from __future__ import annotations

from typing import Any

import pytest

from pystreams import Consumed, Serdes, StreamsBuilder
from pystreams.runtime import remote_queries
from pystreams.runtime.kafka_streams import KafkaStreams

pytestmark = pytest.mark.unit


@pytest.fixture
def streams(tmp_path: Any) -> Any:
    builder = StreamsBuilder()
    builder.stream("in", Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())).to("out")
    client = KafkaStreams(builder.build(), {"application.id": "api", "bootstrap.servers": "127.0.0.1:1",
                                            "state.dir": str(tmp_path)})
    yield client
    client.close(5)


@pytest.mark.parametrize("allow_stale", [False, True])
def test_allow_stale_reaches_the_query_helpers(streams: Any, monkeypatch: Any, allow_stale: bool) -> None:
    seen: dict[str, tuple] = {}

    def record(name: str) -> Any:
        def helper(*args: Any, **kwargs: Any) -> str:
            seen[name] = (args[1:], kwargs)
            return name
        return helper

    for name in ("query_key", "query_window_key", "query_sessions_key"):
        monkeypatch.setattr(remote_queries, name, record(name))
    ser = object()
    assert streams.query("s", "k", ser, allow_stale=allow_stale) == "query_key"
    assert streams.query_window("w", "k", 1, 2, ser, allow_stale=allow_stale) == "query_window_key"
    assert streams.query_sessions("ss", "k", ser, 3, 4, allow_stale=allow_stale) == "query_sessions_key"
    # the helpers also get the key's partitioner (None: murmur2, Kafka's default), as query_metadata_for_key does,
    # and the call's time budget (None: pystreams.iq.remote.timeout.ms)
    expected = {"allow_stale": allow_stale, "partitioner": None, "timeout": None}
    assert seen["query_key"] == (("s", "k", ser), expected)
    assert seen["query_window_key"] == (("w", "k", 1, 2, ser), expected)
    assert seen["query_sessions_key"] == (("ss", "k", ser, 3, 4), expected)


def test_allow_stale_defaults_to_false_and_is_keyword_only(streams: Any, monkeypatch: Any) -> None:
    seen: list[Any] = []
    monkeypatch.setattr(remote_queries, "query_key", lambda *a, **kw: seen.append(kw))
    streams.query("s", "k", object())
    assert seen == [{"allow_stale": False, "partitioner": None, "timeout": None}]
    with pytest.raises(TypeError):
        streams.query("s", "k", object(), True)  # type: ignore[misc]


def test_public_names() -> None:
    import pystreams
    from pystreams import runtime
    from pystreams.runtime.queries import StoreQueryParameters
    from pystreams.runtime.thread_admin import CloseOptions

    assert runtime.CloseOptions is CloseOptions is pystreams.CloseOptions is KafkaStreams.CloseOptions
    assert runtime.StoreQueryParameters is StoreQueryParameters is pystreams.StoreQueryParameters
    assert {"CloseOptions", "StoreQueryParameters"} <= set(runtime.__all__) & set(pystreams.__all__)
