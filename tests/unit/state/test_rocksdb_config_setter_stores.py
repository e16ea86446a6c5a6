"""rocksdb.config.setter reaches every RocksDB store through the app's configs (TopologyTestDriver, no broker): a
key-value store (RocksDBStore) and a windowed store (one physical RocksDB of logical segments) each get their own
setter instance, called once with the store's name before the DB opens; RocksDB opens with its settings (read
back from the OPTIONS file RocksDB writes); close(store_name, options) runs when the store closes; a bad value
fails with a ConfigError naming rocksdb.config.setter."""
from __future__ import annotations

import glob
import os
from datetime import timedelta
from typing import Any

import pytest
from rocksdict import Options

from pystreams import Consumed, Materialized, Serdes, StreamsBuilder, TimeWindows
from pystreams.errors import ConfigError
from pystreams.state.internals.rocksdb_options import RocksDBConfigSetter
from pystreams.testing import TopologyTestDriver

pytestmark = pytest.mark.unit

CALLS: list[tuple[Any, ...]] = []


class Tuned(RocksDBConfigSetter):
    def set_config(self, store_name: str, options: Options, configs: dict[str, Any]) -> None:
        CALLS.append(("set", self, store_name))
        options.set_max_open_files(123)
        options.set_write_buffer_size(2 * 1024 * 1024)

    def close(self, store_name: str, options: Options) -> None:
        CALLS.append(("close", self, store_name))


def _topology() -> Any:
    builder = StreamsBuilder()
    words = builder.stream("words", Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
    grouped = words.group_by_key()
    grouped.count(Materialized(name="counts"))
    grouped.windowed_by(TimeWindows.of_size_with_no_grace(timedelta(minutes=1))).count(
        Materialized(name="window-counts"))
    return builder.build()


def _options_file(root: str, name: str) -> dict[str, str]:
    found = [p for p in glob.glob(os.path.join(root, "**", "OPTIONS-*"), recursive=True)
             if f"{os.sep}{name}" in p]
    assert found, (name, root)
    newest = max(found, key=lambda p: int(p.rsplit("-", 1)[1]))
    pairs: dict[str, str] = {}
    with open(newest, encoding="utf-8") as f:
        for line in f:  # the first section of a key: DBOptions, then the default column family's
            key, sep, value = line.strip().partition("=")
            if sep:
                pairs.setdefault(key, value)
    return pairs


def test_every_rocksdb_store_gets_its_setter_and_closes_it(tmp_path):
    CALLS.clear()
    config = {"application.id": "tuned", "state.dir": str(tmp_path), "rocksdb.config.setter": Tuned}
    with TopologyTestDriver(_topology(), config) as driver:
        topic = driver.create_input_topic("words", Serdes.String(), Serdes.String())
        topic.pipe_input("a", "x", 1_000)
        assert driver.get_key_value_store("counts").get("a") == 1
        assert sorted((c[0], c[2]) for c in CALLS) == [("set", "counts"), ("set", "window-counts")]
        for name in ("counts", "window-counts"):
            written = _options_file(str(tmp_path), name)
            assert written["max_open_files"] == "123" and written["write_buffer_size"] == str(2 * 1024 * 1024)
    assert sorted((c[0], c[2]) for c in CALLS) == [("close", "counts"), ("close", "window-counts"),
                                                   ("set", "counts"), ("set", "window-counts")]
    by_store = {}
    for kind, setter, name in CALLS:
        by_store.setdefault(name, set()).add(id(setter))
    assert all(len(ids) == 1 for ids in by_store.values())  # set and close on the same instance per store
    assert by_store["counts"] != by_store["window-counts"]  # one instance per store, as Kafka


def test_a_bad_setter_fails_with_the_key_named(tmp_path):
    config = {"application.id": "tuned", "state.dir": str(tmp_path), "rocksdb.config.setter": "no_such_mod:X"}
    with pytest.raises(ConfigError, match=r"rocksdb.config.setter='no_such_mod:X': cannot import module"), \
            TopologyTestDriver(_topology(), config) as driver:
        driver.create_input_topic("words", Serdes.String(), Serdes.String()).pipe_input("a", "x", 1_000)
