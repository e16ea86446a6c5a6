"""The GC policy (docs/adr/0007-*): raised thresholds only from Python's defaults, only when asked, logged once."""
from __future__ import annotations

import gc
import logging
from collections.abc import Iterator

import pytest

from pystreams.errors import ConfigError
from pystreams.runtime.config import StreamsConfig
from pystreams.runtime.gc_policy import (
    GC_TUNING_CONFIG,
    PYTHON_DEFAULT_THRESHOLDS,
    STREAMS_THRESHOLDS,
    apply_gc_policy,
)

pytestmark = pytest.mark.unit
BASE = {"application.id": "gc-app", "bootstrap.servers": "127.0.0.1:1"}


@pytest.fixture(autouse=True)
def python_defaults() -> Iterator[None]:
    """Each test starts from Python's defaults and leaves the process' thresholds as it found them."""
    saved = gc.get_threshold()
    gc.set_threshold(*PYTHON_DEFAULT_THRESHOLDS)
    yield
    gc.set_threshold(*saved)


def test_raises_pythons_defaults_once_and_logs_it(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pystreams.runtime")
    assert apply_gc_policy(True) is True
    assert gc.get_threshold() == STREAMS_THRESHOLDS
    assert apply_gc_policy(True) is False  # a second KafkaStreams finds them set
    lines = [r.getMessage() for r in caplog.records if "garbage collector" in r.getMessage()]
    assert len(lines) == 1 and GC_TUNING_CONFIG in lines[0] and str(STREAMS_THRESHOLDS) in lines[0]


def test_leaves_thresholds_someone_tuned() -> None:
    gc.set_threshold(10_000, 5, 5)
    assert apply_gc_policy(True) is False
    assert gc.get_threshold() == (10_000, 5, 5)


def test_false_keeps_pythons_defaults() -> None:
    config = StreamsConfig({**BASE, GC_TUNING_CONFIG: "false"})
    assert config.gc_tuning is False
    assert apply_gc_policy(config.gc_tuning) is False
    assert gc.get_threshold() == PYTHON_DEFAULT_THRESHOLDS


def test_default_is_on_and_a_bad_value_names_the_key() -> None:
    assert StreamsConfig(BASE).gc_tuning is True
    with pytest.raises(ConfigError, match=f"Invalid value 'sometimes' for configuration {GC_TUNING_CONFIG}"):
        StreamsConfig({**BASE, GC_TUNING_CONFIG: "sometimes"})


def test_the_key_is_known_to_the_config(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="pystreams.runtime.config")
    StreamsConfig({**BASE, GC_TUNING_CONFIG: True})
    assert "isn't a known config" not in caplog.text
