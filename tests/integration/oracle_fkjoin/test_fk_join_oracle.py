"""Foreign-key table joins (inner, left, named + materialized): describe() equal to Kafka Streams 4.1.1's and the
same output records on seeded inputs with foreign-key changes, None foreign keys and tombstones on both sides."""
from __future__ import annotations

from typing import Any

import pytest

from pystreams.serdes import Serdes
from tests.integration.oracle_fkjoin.topology import (CHAINED_OUTPUTS, OUTPUTS, fk_joins_chained_dsl, fk_joins_dsl,
                                                    fk_records)
from tests.integration.oracle_windows.harness import assert_same, drive_java, drive_python

pytestmark = [pytest.mark.integration, pytest.mark.reference]


@pytest.mark.parametrize("optimization", ["none", "all"])
def test_describe_equals_java(java_streams: Any, optimization: str) -> None:
    config = {"topology.optimization": optimization}
    assert str(fk_joins_dsl().build(config).describe()) == java_streams.describe("fkjoins", config)


@pytest.mark.parametrize("store_type,caching", [("in_memory", True), ("rocksDB", False)])
def test_fk_joins_equal_java(java_streams: Any, tmp_path: Any, store_type: str, caching: bool) -> None:
    records = fk_records(53, 1000)
    config: dict[str, Any] = {"default.dsl.store": store_type}
    if not caching:
        config["statestore.cache.max.bytes"] = 0
    java = drive_java(java_streams, "fkjoins", records, config)
    for topic in OUTPUTS:
        assert any(r["topic"] == topic for r in java)
        assert any(r["topic"] == topic and r["value"] is None for r in java)
    s, lng = Serdes.String(), Serdes.Long()
    ours = drive_python(fk_joins_dsl().build(config), records, {t: (s, lng) for t in ("fk-left", "fk-right")},
                        [(t, s, s) for t in OUTPUTS], {**config, "state.dir": str(tmp_path)})
    assert_same(ours, java)


@pytest.mark.parametrize("optimization", ["none", "all"])
def test_chained_describe_equals_java(java_streams: Any, optimization: str) -> None:
    config = {"topology.optimization": optimization}
    assert str(fk_joins_chained_dsl().build(config).describe()) == java_streams.describe("fkjoinschained", config)


@pytest.mark.parametrize("caching", [True, False])
def test_chained_fk_joins_equal_java(java_streams: Any, tmp_path: Any, caching: bool) -> None:
    records = fk_records(71, 1000)
    config: dict[str, Any] = {"default.dsl.store": "in_memory"}
    if not caching:
        config["statestore.cache.max.bytes"] = 0
    java = drive_java(java_streams, "fkjoinschained", records, config)
    for topic in CHAINED_OUTPUTS:
        assert any(r["topic"] == topic for r in java)
    s, lng = Serdes.String(), Serdes.Long()
    ours = drive_python(fk_joins_chained_dsl().build(config), records,
                        {t: (s, lng) for t in ("fk-left", "fk-right")}, [(t, s, s) for t in CHAINED_OUTPUTS],
                        {**config, "state.dir": str(tmp_path)})
    assert_same(ours, java)
