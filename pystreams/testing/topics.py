"""TestInputTopic / TestOutputTopic: typed access to the driver's topics (Kafka's test-utils classes)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, Iterable, TypeVar

from pystreams.state.api import KeyValue
from pystreams.testing.records import NoSuchElementError, TestRecord, duration_millis, normalize_headers, to_millis

if TYPE_CHECKING:
    from pystreams.testing.driver import TopologyTestDriver

K = TypeVar("K")
V = TypeVar("V")


class TestInputTopic(Generic[K, V]):
    """Pipes records into one topic; records without a timestamp get the topic's current time, which then
    advances by the auto-advance step after every record (Kafka's TestInputTopic)."""

    __test__ = False

    def __init__(self, driver: TopologyTestDriver, topic: str, key_serializer: Any, value_serializer: Any,
                 start_timestamp_ms: int, auto_advance_ms: int) -> None:
        if auto_advance_ms < 0:
            raise ValueError("auto advance must not be negative")
        self._driver = driver
        self.topic = topic
        self._ks = key_serializer
        self._vs = value_serializer
        self._current = start_timestamp_ms
        self._advance = auto_advance_ms

    @property
    def current_time_ms(self) -> int:
        return self._current

    def advance_time(self, advance: Any) -> None:
        """Move the topic's current time forward (ms or timedelta)."""
        ms = duration_millis(advance)
        if ms < 0:
            raise ValueError("advance must not be negative")
        self._current += ms

    def pipe_input(self, *args: Any, timestamp: Any = None, headers: Any = ()) -> None:
        """pipe_input(value) / (key, value) / (key, value, timestamp) / (TestRecord); timestamp in ms or datetime,
        headers as (key, value) pairs or a dict."""
        if len(args) == 1 and isinstance(args[0], TestRecord):
            record = args[0]
            if timestamp is not None or headers:
                raise TypeError("pipe_input(TestRecord) takes no timestamp/headers: set them on the TestRecord")
            self._pipe(record.key, record.value, record.timestamp, record.headers)
            return
        if len(args) == 1:
            key, value = None, args[0]
        elif len(args) == 2:
            key, value = args
        elif len(args) == 3:
            if timestamp is not None:
                raise TypeError("timestamp given twice")
            key, value, timestamp = args
        else:
            raise TypeError("pipe_input(value) | pipe_input(key, value[, timestamp]) | pipe_input(TestRecord)")
        self._pipe(key, value, None if timestamp is None else to_millis(timestamp), normalize_headers(headers))

    def _pipe(self, key: Any, value: Any, timestamp: int | None, headers: Any) -> None:
        ts = self._current if timestamp is None else timestamp
        if ts < 0:  # Kafka's TestRecord refuses these; real topics may hold them (see default.timestamp.extractor)
            raise ValueError(f"Invalid timestamp: {ts}. Timestamp should always be non-negative or null.")
        topic = self.topic
        self._driver._pipe_raw(topic, self._ks.serialize(topic, key, headers),
                               self._vs.serialize(topic, value, headers), ts, headers)
        self._current += self._advance

    def pipe_record_list(self, records: Iterable[TestRecord[K, V]]) -> None:
        """Pipe TestRecords in order."""
        for record in records:
            self.pipe_input(record)

    def pipe_value_list(self, values: Iterable[V], start_timestamp: Any = None, advance: Any = None) -> None:
        """Pipe values with None keys; with start_timestamp/advance, record i gets start + i * advance."""
        self.pipe_key_value_list(((None, v) for v in values), start_timestamp, advance)

    def pipe_key_value_list(self, key_values: Iterable[Any], start_timestamp: Any = None,
                            advance: Any = None) -> None:
        """Pipe (key, value) pairs (tuples or KeyValue); timestamps as in pipe_value_list."""
        if (start_timestamp is None) != (advance is None):
            raise TypeError("give both start_timestamp and advance, or neither")
        ts = None if start_timestamp is None else to_millis(start_timestamp)
        step = 0 if advance is None else duration_millis(advance)
        for key, value in key_values:
            self._pipe(key, value, ts, ())
            if ts is not None:
                ts += step

    def __repr__(self) -> str:
        return f"TestInputTopic[topic='{self.topic}']"


class TestOutputTopic(Generic[K, V]):
    """Reads what the topology wrote to one topic, oldest first; every read consumes."""

    __test__ = False

    def __init__(self, driver: TopologyTestDriver, topic: str, key_deserializer: Any, value_deserializer: Any) -> None:
        self._driver = driver
        self.topic = topic
        self._kd = key_deserializer
        self._vd = value_deserializer

    def read_record(self) -> TestRecord[K, V]:
        """The next record; NoSuchElementError when none is left."""
        raw = self._driver._read_raw(self.topic)
        if raw is None:
            raise NoSuchElementError(f"Empty topic: {self.topic}")
        topic, headers = self.topic, raw.headers
        return TestRecord(self._kd.deserialize(topic, raw.key, headers), self._vd.deserialize(topic, raw.value, headers),
                          raw.timestamp, tuple(headers or ()))

    def read_value(self) -> V | None:
        return self.read_record().value

    def read_key_value(self) -> KeyValue:
        r = self.read_record()
        return KeyValue(r.key, r.value)

    def read_records_to_list(self) -> list[TestRecord[K, V]]:
        out = []
        while not self.is_empty():
            out.append(self.read_record())
        return out

    def read_values_to_list(self) -> list[V | None]:
        return [r.value for r in self.read_records_to_list()]

    def read_key_values_to_list(self) -> list[KeyValue]:
        return [KeyValue(r.key, r.value) for r in self.read_records_to_list()]

    def read_key_values_to_map(self) -> dict[K, V | None]:
        """Latest value per key (a tombstone maps the key to None, as in Kafka); None keys are refused."""
        out: dict[Any, Any] = {}
        for r in self.read_records_to_list():
            if r.key is None:
                raise ValueError(f"Null keys not allowed with read_key_values_to_map (topic {self.topic})")
            out[r.key] = r.value
        return out

    def get_queue_size(self) -> int:
        return self._driver._queue_size(self.topic)

    def is_empty(self) -> bool:
        return self.get_queue_size() == 0

    def __repr__(self) -> str:
        return f"TestOutputTopic[topic='{self.topic}', size={self.get_queue_size()}]"
