"""records_without_key (the compacted-topic key check without decoding the records) answers what read_records
would, for every batch shape, and refuses malformed records as read_records does."""
from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pystreams.broker.protocol.record_batch import (GZIP, NO_COMPRESSION, RECORDS_OFFSET, BatchError,
                                                    build_batch, read_records, records_without_key)

pytestmark = pytest.mark.unit

_field = st.one_of(st.none(), st.binary(max_size=300))  # > 63 bytes: two-byte length varints
_headers = st.lists(st.tuples(st.text(max_size=8), st.one_of(st.none(), st.binary(max_size=20))), max_size=3)
_record = st.tuples(_field, _field, _headers)


@settings(max_examples=200, deadline=None)
@given(records=st.lists(_record, min_size=1, max_size=40), gzip=st.booleans(),
       timestamps=st.lists(st.integers(0, 2**40), min_size=40, max_size=40))
def test_answers_what_read_records_would(records, gzip, timestamps) -> None:
    batch = build_batch(records, compression=GZIP if gzip else NO_COMPRESSION, timestamps=timestamps[:len(records)],
                        base_offset=1_000)
    assert records_without_key(batch) == any(r.key is None for r in read_records(batch))


def test_an_empty_key_is_a_key() -> None:
    assert not records_without_key(build_batch([(b"", b"v"), (b"k", None)]))
    assert records_without_key(build_batch([(b"k", b"v"), (None, b"v")]))


def _with_first_length(batch: bytes, length: int) -> bytes:
    """The batch with its first record's length varint (one byte here) replaced; the CRC is not checked here."""
    zigzag = (length << 1) ^ (length >> 63)
    assert zigzag < 0x80
    return batch[:RECORDS_OFFSET] + struct.pack(">B", zigzag) + batch[RECORDS_OFFSET + 1:]


@pytest.mark.parametrize("length", [0, 3, 5, 60])
def test_a_record_length_that_does_not_fit_its_fields_is_invalid(length: int) -> None:
    batch = build_batch([(b"key", b"value")])
    with pytest.raises(BatchError) as raised:
        records_without_key(_with_first_length(batch, length))
    assert raised.value.kind == "invalid"


def test_a_batch_cut_short_is_invalid() -> None:
    batch = build_batch([(b"key", b"value"), (b"k2", b"v2")])
    cut = batch[:-3]
    cut = cut[:8] + struct.pack(">i", len(cut) - 12) + cut[12:]  # batchLength follows the cut
    with pytest.raises(BatchError) as raised:
        records_without_key(cut)
    assert raised.value.kind == "invalid"
