"""Kafka's Type.CLASS keys (handlers, default serdes, timestamp extractor) are resolved when StreamsConfig is built
(audit s7 H6): a class that cannot be loaded is a ConfigError with Kafka's ConfigDef text, before anything starts,
not a traceback from the first task."""
from __future__ import annotations

import pytest

from pystreams.errors import ConfigError
from pystreams.processor.handlers import LogAndContinueProcessingExceptionHandler
from pystreams.processor.timestamps import WallclockTimestampExtractor
from pystreams.runtime.config import StreamsConfig
from pystreams.serdes.handlers import LogAndContinueExceptionHandler

pytestmark = pytest.mark.unit

BASE = {"application.id": "app"}
CLASS_KEYS = ["default.deserialization.exception.handler", "deserialization.exception.handler",
              "production.exception.handler", "default.production.exception.handler",
              "processing.exception.handler", "default.key.serde", "default.value.serde",
              "default.timestamp.extractor"]


class CountingHandler:
    """An app's own production handler: configured once per resolution."""

    configured = 0

    def handle(self, context, record, exception):
        raise AssertionError("not called here")

    def configure(self, configs):
        type(self).configured += 1


@pytest.mark.parametrize("key", CLASS_KEYS)
@pytest.mark.parametrize("value", ["no.such.Handler", "pystreams.no_such_module:Thing", "pystreams.errors:NoSuch"])
def test_a_class_that_cannot_be_loaded_is_kafkas_config_error(key, value):
    with pytest.raises(ConfigError) as info:
        StreamsConfig({**BASE, key: value})
    assert str(info.value).startswith(
        f"Invalid value {value} for configuration {key}: Class {value} could not be found.")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("key, value, kind", [
    ("default.deserialization.exception.handler",
     "org.apache.kafka.streams.errors.LogAndContinueExceptionHandler", LogAndContinueExceptionHandler),
    ("processing.exception.handler", "LogAndContinueProcessingExceptionHandler",
     LogAndContinueProcessingExceptionHandler),
    ("default.timestamp.extractor", "org.apache.kafka.streams.processor.WallclockTimestampExtractor",
     WallclockTimestampExtractor),
])
def test_a_known_class_resolves_once_at_config_time(key, value, kind):
    assert isinstance(StreamsConfig({**BASE, key: value}).resolved_classes[key], kind)


def test_default_serdes_resolve_by_kafka_name():
    cfg = StreamsConfig({**BASE, "default.key.serde": "org.apache.kafka.common.serialization.Serdes$StringSerde",
                         "default.value.serde": "long"})
    key, value = cfg.resolved_classes["default.key.serde"], cfg.resolved_classes["default.value.serde"]
    assert key.deserialize("t", key.serialize("t", "k")) == "k"
    assert value.deserialize("t", value.serialize("t", 7)) == 7


def test_an_importable_handler_of_the_app_is_accepted_and_configured():
    before = CountingHandler.configured
    cfg = StreamsConfig({**BASE, "production.exception.handler": f"{__name__}:CountingHandler"})
    assert isinstance(cfg.resolved_classes["production.exception.handler"], CountingHandler)
    assert CountingHandler.configured == before + 1


def test_an_object_that_is_not_a_handler_is_refused_naming_the_key():
    with pytest.raises(ConfigError, match=r"^Invalid value .* for configuration processing\.exception\.handler: "
                                          r"Not a usable class\. .*handle\(context, record, exception\)"):
        StreamsConfig({**BASE, "processing.exception.handler": object()})


def test_unset_class_keys_resolve_nothing():
    assert StreamsConfig(BASE).resolved_classes == {}
