"""statestore.cache.max.bytes is a total for the client, split over its threads as Kafka Streams does."""
from __future__ import annotations

import pytest

from pystreams.runtime.config import StreamsConfig, thread_cache_bytes

pytestmark = pytest.mark.unit


def _config(**extra: object) -> StreamsConfig:
    return StreamsConfig({"application.id": "cache-split", **{k.replace("_", "."): v for k, v in extra.items()}})


def test_the_default_10_mib_goes_whole_to_a_single_thread():
    assert thread_cache_bytes(_config(), has_global=False) == 10 * 1024 * 1024


def test_the_total_is_split_over_the_stream_threads_and_the_global_thread():
    config = _config(statestore_cache_max_bytes=12_000, num_stream_threads=3)
    assert thread_cache_bytes(config, has_global=False) == 4_000
    assert thread_cache_bytes(config, has_global=True) == 3_000


def test_the_deprecated_key_is_honoured_when_the_new_one_is_not_set():
    assert thread_cache_bytes(_config(cache_max_bytes_buffering=5_000), has_global=False) == 5_000
    assert thread_cache_bytes(_config(cache_max_bytes_buffering=5_000, statestore_cache_max_bytes=0),
                              has_global=False) == 0
