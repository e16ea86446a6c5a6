"""User data from a pystreams older than the Kafka-format assignor (int32 1, int32 1, b"pyst", ...) is refused with
the upgrade advice, on the leader (a subscription) and on a member (an assignment), instead of a decoding error that
called it "not a pystreams member"."""
from __future__ import annotations

import struct

import pytest

from pystreams.runtime.assignment import AssignmentInfo, SubscriptionInfo
from pystreams.runtime.assignment.info import LegacyUserDataError

pytestmark = pytest.mark.unit

# the start of a subscription as a89264c encoded it: version 1, latest 1, the magic, then its own fields
OLD = struct.pack(">ii", 1, 1) + b"pyst" + struct.pack(">h", 2) + b"p1" + b"\x00" * 16


@pytest.mark.parametrize("decode", [SubscriptionInfo.decode, AssignmentInfo.decode])
def test_old_pystreams_data_is_refused_with_the_upgrade_advice(decode) -> None:
    with pytest.raises(LegacyUserDataError) as raised:
        decode(OLD)
    assert "stop every instance of the application, then start them on the new version" in str(raised.value)


def test_current_data_is_not_taken_for_old_data() -> None:
    info = SubscriptionInfo("p1", "127.0.0.1:8080", {}, frozenset())
    assert SubscriptionInfo.decode(info.encode()).process_id == "p1"
