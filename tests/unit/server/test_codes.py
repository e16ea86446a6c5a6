"""The handlers' error-code table agrees with Kafka's numbers as the codec knows them."""
from __future__ import annotations

import pytest

from pystreams.broker.protocol.error_codes import ErrorCode
from pystreams.broker.server import codes

pytestmark = pytest.mark.unit

NAMES = [name for name in vars(codes) if name.isupper()]


def test_table_is_not_empty() -> None:
    assert "UNKNOWN_TOPIC_OR_PARTITION" in NAMES and "OPERATION_NOT_ATTEMPTED" in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_code_matches_kafka(name: str) -> None:
    assert getattr(codes, name) == ErrorCode[name].value
