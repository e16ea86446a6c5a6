"""Record / FixedKeyRecord behave like Kafka's: immutable, with_* copy, negative timestamps refused."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from pystreams.processor import FixedKeyRecord, Record, TaskId, interval_ms
from pystreams.processor.errors import StreamsException

pytestmark = pytest.mark.unit


def test_with_methods_copy_and_keep_other_fields() -> None:
    r = Record("k", 1, 10, [("h", b"v")])
    assert r.with_key("k2") == Record("k2", 1, 10, [("h", b"v")])
    assert r.with_value(2).value == 2 and r.value == 1
    assert r.with_timestamp(20).timestamp == 20 and r.timestamp == 10
    assert r.with_headers([("a", None)]).headers == (("a", None),)


def test_records_are_immutable() -> None:
    with pytest.raises(AttributeError):
        Record("k", 1).value = 3  # type: ignore[misc]


@pytest.mark.parametrize("make", [lambda: Record("k", 1, -5), lambda: Record("k", 1, 3).with_timestamp(-5),
                                  lambda: FixedKeyRecord("k", 1, -5), lambda: FixedKeyRecord("k", 1).with_timestamp(-5),
                                  lambda: Record(key="k", value=1, timestamp=-5, headers=[("h", b"v")])])
def test_negative_timestamp_refused_as_kafkas_record(make: Any) -> None:
    """Kafka's Record and FixedKeyRecord (constructor and withTimestamp): StreamsException("Malformed Record")
    caused by IllegalArgumentException("Timestamp may not be negative. Got: -5")."""
    with pytest.raises(StreamsException, match=r"^Malformed Record: Timestamp may not be negative\. Got: -5 ") as e:
        make()
    assert isinstance(e.value.__cause__, ValueError)
    assert Record("k", 1, 0).timestamp == 0 and Record("k", 1).with_timestamp(0).timestamp == 0


def test_fixed_key_record_has_no_with_key() -> None:
    assert not hasattr(FixedKeyRecord("k", 1), "with_key")
    assert FixedKeyRecord("k", 1, 3).with_value("x") == FixedKeyRecord("k", "x", 3)


def test_task_id_text_form() -> None:
    assert str(TaskId(1, 3)) == "1_3"
    assert TaskId.parse("2_0") == TaskId(2, 0)
    with pytest.raises(ValueError):
        TaskId.parse("x")


def test_interval_ms() -> None:
    assert interval_ms(timedelta(seconds=2)) == 2000
    assert interval_ms(15) == 15
    with pytest.raises(TypeError):
        interval_ms("10")  # type: ignore[arg-type]


def test_equality_is_per_type_and_records_pickle() -> None:
    import pickle

    assert Record("k", 1, 2) != FixedKeyRecord("k", 1, 2)
    assert Record("k", 1, 2) != ("k", 1, 2, ())
    assert hash(Record("k", 1, 2)) == hash(Record("k", 1, 2))
    assert pickle.loads(pickle.dumps(Record("k", 1, 2, (("h", b"x"),)))) == Record("k", 1, 2, (("h", b"x"),))
    assert repr(Record("k", 1)) == "Record(key='k', value=1, timestamp=0, headers=())"
    assert Record[str, int]("k", 1).key == "k"
    assert type(FixedKeyRecord("k", 1).with_value(2)) is FixedKeyRecord
