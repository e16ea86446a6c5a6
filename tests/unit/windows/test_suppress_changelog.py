"""The suppression buffer's changelog value (Kafka's v3 buffer format) round-trips, byte layout as Java's."""
from __future__ import annotations

import struct

import pytest

from pystreams.compiler.processors.windowed.suppress_changelog import CHANGELOG_HEADERS, Decoded, encode
from pystreams.errors import StateStoreError

pytestmark = pytest.mark.unit


def test_layout_and_round_trip():
    data = encode(1_000, 7, "t", 2, [("h", b"v"), ("n", None)], b"p", b"p", b"new", 10_000)
    expected = (struct.pack(">qqi", 1_000, 7, 1) + b"t" + struct.pack(">ii", 2, 2)
                + struct.pack(">i", 1) + b"h" + struct.pack(">i", 1) + b"v"
                + struct.pack(">i", 1) + b"n" + struct.pack(">i", -1)
                + struct.pack(">i", 1) + b"p" + struct.pack(">i", -2)  # old == prior: the duplicate sentinel
                + struct.pack(">i", 3) + b"new" + struct.pack(">q", 10_000))
    assert data == expected
    d = Decoded(data)
    assert (d.timestamp, d.offset, d.topic, d.partition) == (1_000, 7, "t", 2)
    assert d.headers == (("h", b"v"), ("n", None))
    assert (d.prior, d.old, d.new, d.buffer_time) == (b"p", b"p", b"new", 10_000)
    assert CHANGELOG_HEADERS == (("v", b"\x03"),)


def test_nulls_and_a_bad_value():
    d = Decoded(encode(5, -1, None, -1, (), None, None, b"n", 9))
    assert (d.prior, d.old, d.new, d.buffer_time, d.topic) == (None, None, b"n", 9, "")
    with pytest.raises(StateStoreError, match="v3 format"):
        Decoded(encode(5, -1, None, -1, (), None, None, b"n", 9)[:-3])
