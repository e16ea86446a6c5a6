"""Records and serdes inside a topology, through the TopologyTestDriver (DESIGN.md's example):
Serdes.from_record on a source, and the deserialization handler skipping a bad record."""
from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from pystreams import Consumed, Produced, Record, Serdes, StreamsBuilder
from pystreams.testing import TopologyTestDriver

pytestmark = pytest.mark.unit


class Payment(Record, serializer="json"):
    id: str
    amount: Decimal


def _topology():  # type: ignore[no-untyped-def]
    builder = StreamsBuilder()
    (builder.stream("payments", Consumed(key_serde=Serdes.String(),
                                         value_serde=Serdes.from_record(Payment)))
     .filter(lambda key, payment: payment.amount > 10)
     .map_values(lambda payment: payment.derive(amount=payment.amount * 2))
     .to("large", Produced(key_serde=Serdes.String(), value_serde=Serdes.from_record(Payment))))
    return builder.build()


def test_record_values_flow_through_a_topology() -> None:
    with TopologyTestDriver(_topology(), {"application.id": "s4-records"}) as driver:
        source = driver.create_input_topic("payments", Serdes.String(), Serdes.from_record(Payment))
        sink = driver.create_output_topic("large", Serdes.String(), Serdes.from_record(Payment))
        source.pipe_input("a", Payment("a", Decimal("12.50")))
        source.pipe_input("b", Payment("b", Decimal("3")))
        assert sink.read_key_values_to_map() == {"a": Payment("a", Decimal("25.00"))}


def test_bad_record_is_skipped_with_log_and_continue(caplog: pytest.LogCaptureFixture) -> None:
    config = {"application.id": "s4-records",
              "deserialization.exception.handler":
                  "org.apache.kafka.streams.errors.LogAndContinueExceptionHandler"}
    with TopologyTestDriver(_topology(), config) as driver:
        good = driver.create_input_topic("payments", Serdes.String(), Serdes.from_record(Payment))
        raw = driver.create_input_topic("payments", Serdes.String(), Serdes.String())
        sink = driver.create_output_topic("large", Serdes.String(), Serdes.from_record(Payment))
        with caplog.at_level(logging.WARNING):
            raw.pipe_input("x", '{"id": "x", "amount": "not a number"}')
            good.pipe_input("a", Payment("a", Decimal("11")))
        assert sink.read_key_values_to_map() == {"a": Payment("a", Decimal("22"))}
        # LogAndContinueExceptionHandler's own line (Kafka's wording, with the cause), once for the one bad record
        skipped = [r for r in caplog.records if "Exception caught during Deserialization" in r.getMessage()]
        assert len(skipped) == 1 and "topic: payments" in skipped[0].getMessage(), caplog.text
        assert "not a decimal number" in caplog.text


def test_bad_record_stops_processing_by_default() -> None:
    from pystreams.errors import PystreamsError

    with TopologyTestDriver(_topology(), {"application.id": "s4-records"}) as driver:
        raw = driver.create_input_topic("payments", Serdes.String(), Serdes.String())
        with pytest.raises(PystreamsError, match="set to fail upon a deserialization error"):
            raw.pipe_input("x", "{broken")
