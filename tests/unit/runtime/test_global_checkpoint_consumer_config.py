"""The global consumer's config as Kafka's StreamsConfig.getGlobalConsumerConfigs builds it: `global.consumer.`
over `consumer.` over unprefixed keys; `restore.consumer.` keys do not reach it (and `global.consumer.` keys do not
reach the restore consumer); auto.offset.reset=error (Kafka's "none"); the keys are known (no warning)."""
from __future__ import annotations

import logging

import pytest

from pystreams.runtime import StreamsConfig, global_state
from pystreams.runtime.restore import global_consumer_config, restore_consumer_config
from tests.unit.runtime.global_support import ScriptedConsumer, global_streams

pytestmark = pytest.mark.unit

BASE = {"application.id": "gc", "bootstrap.servers": "127.0.0.1:1"}


def test_global_consumer_prefix_wins_over_consumer_and_unprefixed_keys():
    cfg = StreamsConfig({**BASE, "fetch.min.bytes": 10, "consumer.fetch.min.bytes": 20,
                         "global.consumer.fetch.min.bytes": 30, "consumer.fetch.max.bytes": 1000,
                         "restore.consumer.fetch.max.bytes": 2000, "restore.consumer.check.crcs": True,
                         "global.consumer.auto.offset.reset": "earliest"})
    glob = global_consumer_config(cfg, "c-global-consumer")
    assert glob["fetch.min.bytes"] == 30
    assert glob["fetch.max.bytes"] == 1000  # consumer., not restore.consumer.
    assert "check.crcs" not in glob
    assert glob["auto.offset.reset"] == "error"  # forced, as Kafka forces "none"
    assert glob["client.id"] == "c-global-consumer"
    restore = restore_consumer_config(cfg, "c-restore-consumer")
    assert restore["fetch.min.bytes"] == 20  # global.consumer. is the global consumer's only
    assert restore["fetch.max.bytes"] == 2000 and restore["check.crcs"] is True


def test_unprefixed_key_reaches_the_global_consumer_when_nothing_overrides_it():
    cfg = StreamsConfig({**BASE, "fetch.min.bytes": 10})
    assert global_consumer_config(cfg, "x")["fetch.min.bytes"] == 10


def test_global_consumer_keys_are_known(caplog):
    with caplog.at_level(logging.WARNING, logger="pystreams.runtime.config"):
        StreamsConfig({**BASE, "global.consumer.max.partition.fetch.bytes": 1048576})
    assert not [r for r in caplog.records if "global.consumer" in r.getMessage()]


def test_global_state_manager_opens_its_consumer_with_the_global_consumer_keys(tmp_path, monkeypatch):
    seen: list[dict] = []

    class Recording(ScriptedConsumer):
        def __call__(self, config):
            seen.append(config)
            return super().__call__(config)

    monkeypatch.setattr(global_state, "Consumer", Recording([[]]))
    monkeypatch.setattr(global_state, "watermarks", lambda c, tp, **kw: (0, 0))
    streams = global_streams(tmp_path)
    streams.reconfigure({**streams.config.originals, "global.consumer.fetch.min.bytes": 7,
                         "restore.consumer.fetch.min.bytes": 9})
    manager = global_state.GlobalStateManager(streams)
    monkeypatch.setattr(manager, "_run", lambda: None)
    try:
        manager.start(timeout=10)
    finally:
        manager.close()
    assert [c["fetch.min.bytes"] for c in seen] == [7]
    assert seen[0]["client.id"].endswith("-global-consumer")
