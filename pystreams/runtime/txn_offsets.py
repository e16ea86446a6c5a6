"""send_offsets_to_transaction with Kafka Streams' offset metadata byte for byte (exactly_once_v2).

confluent-kafka-python hands librdkafka each TopicPartition's metadata with metadata_size = strlen + 1
(py_to_c_parts, every release up to 2.16.1), so the TxnOffsetCommit stores the metadata with its C NUL terminator.
Java's TopicPartitionMetadata.decode runs it through Base64.getDecoder(), which rejects a NUL anywhere (after the
padding too: "incorrect ending byte"), so a Java Kafka Streams app taking over a pystreams EOS group logged
"Unsupported offset metadata found" and started its partition times as unknown. No base64 variant survives it.

Here the same librdkafka call (rd_kafka_send_offsets_to_transaction, on the producer's own rd_kafka_t and its open
transaction) is made through ctypes with metadata_size = the metadata's length: exactly-once is unchanged (one
AddOffsetsToTxn + TxnOffsetCommit inside the transaction), only the stored bytes differ. The producer's rd_kafka_t
pointer is the first field after the Python object header of confluent-kafka's Handle; that layout is checked
without dereferencing anything (the next field is the error_cb object the producer was configured with) and then
by librdkafka itself (rd_kafka_opaque is the Handle). When a check fails the binding's own call is used, with a
warning that Java apps will not read the partition times."""
from __future__ import annotations

import ctypes
import logging
from collections.abc import Sequence
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer, TopicPartition, libversion

log = logging.getLogger("pystreams.runtime")

_PTR = ctypes.c_void_p


class _TopicPartitionC(ctypes.Structure):
    """librdkafka's rd_kafka_topic_partition_t (public ABI, rdkafka.h)."""
    _fields_ = [("topic", ctypes.c_char_p), ("partition", ctypes.c_int32), ("offset", ctypes.c_int64),
                ("metadata", _PTR), ("metadata_size", ctypes.c_size_t), ("opaque", _PTR), ("err", ctypes.c_int),
                ("_private", _PTR)]


_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "rd_kafka_version": (ctypes.c_int, []),
    "rd_kafka_opaque": (_PTR, [_PTR]),
    "rd_kafka_topic_partition_list_new": (_PTR, [ctypes.c_int]),
    "rd_kafka_topic_partition_list_add": (ctypes.POINTER(_TopicPartitionC), [_PTR, ctypes.c_char_p, ctypes.c_int32]),
    "rd_kafka_topic_partition_list_destroy": (None, [_PTR]),
    "rd_kafka_consumer_group_metadata_read": (_PTR, [ctypes.POINTER(_PTR), ctypes.c_char_p, ctypes.c_size_t]),
    "rd_kafka_consumer_group_metadata_destroy": (None, [_PTR]),
    "rd_kafka_send_offsets_to_transaction": (_PTR, [_PTR, _PTR, _PTR, ctypes.c_int]),
    "rd_kafka_error_code": (ctypes.c_int, [_PTR]),
    "rd_kafka_error_string": (ctypes.c_char_p, [_PTR]),
    "rd_kafka_error_is_fatal": (ctypes.c_int, [_PTR]),
    "rd_kafka_error_is_retriable": (ctypes.c_int, [_PTR]),
    "rd_kafka_error_txn_requires_abort": (ctypes.c_int, [_PTR]),
    "rd_kafka_error_destroy": (None, [_PTR]),
}

_lib: Any = None
_lib_error: str | None = None
_warned = False


def _librdkafka() -> Any:
    """The librdkafka confluent-kafka runs on (found through its extension module, so the same copy), with the
    functions above typed; None (and _lib_error says why) when it cannot be used."""
    global _lib, _lib_error
    if _lib is not None or _lib_error is not None:
        return _lib
    try:
        from confluent_kafka import cimpl

        lib = ctypes.CDLL(cimpl.__file__)  # dlsym on it searches its dependencies: the bundled librdkafka
        for name, (restype, argtypes) in _SIGNATURES.items():
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = restype, argtypes
        if lib.rd_kafka_version() != libversion()[1]:
            raise OSError(f"librdkafka {lib.rd_kafka_version():#x} is not confluent-kafka's {libversion()[1]:#x}")
        _lib = lib
    except (OSError, AttributeError, ImportError) as e:
        _lib_error = f"librdkafka is not callable through ctypes ({e})"
    return _lib


def producer_handle(producer: Any, error_cb: Any) -> int | None:
    """The producer's rd_kafka_t pointer, or None when confluent-kafka's Handle layout is not the expected one
    (PyObject header, rd_kafka_t *rk, PyObject *error_cb, ...): `error_cb` is the object the producer was
    configured with, so the word after rk must be its address; then librdkafka's opaque must be the Handle."""
    lib = _librdkafka()
    if lib is None:
        return None
    base = id(producer) + object.__basicsize__
    if type(producer).__basicsize__ < object.__basicsize__ + 2 * ctypes.sizeof(_PTR):
        return None
    rk = _PTR.from_address(base).value
    if not rk or _PTR.from_address(base + ctypes.sizeof(_PTR)).value != id(error_cb):
        return None
    if lib.rd_kafka_opaque(rk) != id(producer):
        return None
    return int(rk)


def send_offsets_to_transaction(rk: int, offsets: Sequence[TopicPartition], group_metadata: bytes,
                                timeout_s: float) -> None:
    """librdkafka's rd_kafka_send_offsets_to_transaction on `rk` with each offset's metadata stored exactly (its
    UTF-8 bytes, no terminator). Raises KafkaException like confluent-kafka's Producer.send_offsets_to_transaction
    (the KafkaError's fatal / retriable / txn_requires_abort set from librdkafka's error)."""
    lib = _lib
    c_list = lib.rd_kafka_topic_partition_list_new(max(1, len(offsets)))  # no realloc: `parts` stay valid
    keep: list[Any] = []  # the metadata buffers, alive until librdkafka copied the list
    parts: list[Any] = []
    cgmd = _PTR()
    try:
        for tp in offsets:
            part = lib.rd_kafka_topic_partition_list_add(c_list, tp.topic.encode(), tp.partition).contents
            part.offset = tp.offset
            if tp.metadata:
                raw = tp.metadata.encode()
                buf = ctypes.create_string_buffer(raw, len(raw))
                keep.append(buf)
                part.metadata, part.metadata_size = ctypes.addressof(buf), len(raw)
                parts.append(part)
        error = lib.rd_kafka_consumer_group_metadata_read(ctypes.byref(cgmd), group_metadata, len(group_metadata))
        if not error:
            timeout_ms = -1 if timeout_s < 0 else int(timeout_s * 1000)
            error = lib.rd_kafka_send_offsets_to_transaction(rk, c_list, cgmd, timeout_ms)
        if error:
            raise _exception(lib, error)
    finally:
        for part in parts:  # ours, not librdkafka's to free
            part.metadata, part.metadata_size = None, 0
        lib.rd_kafka_topic_partition_list_destroy(c_list)
        if cgmd:
            lib.rd_kafka_consumer_group_metadata_destroy(cgmd)


def _exception(lib: Any, error: int) -> KafkaException:
    try:
        reason = (lib.rd_kafka_error_string(error) or b"").decode("utf-8", "replace")
        return KafkaException(KafkaError(lib.rd_kafka_error_code(error), reason,
                                         fatal=bool(lib.rd_kafka_error_is_fatal(error)),
                                         retriable=bool(lib.rd_kafka_error_is_retriable(error)),
                                         txn_requires_abort=bool(lib.rd_kafka_error_txn_requires_abort(error))))
    finally:
        lib.rd_kafka_error_destroy(error)


class StreamsProducer(Producer):
    """confluent-kafka's Producer whose send_offsets_to_transaction stores the offsets' metadata exactly (see the
    module docstring); everything else is the binding's."""

    def __init__(self, config: dict[str, Any]) -> None:
        config = dict(config)
        #: the object the Handle's error_cb field must point to (producer_handle's layout check)
        self._error_cb = config.setdefault("error_cb", _ignore_client_error)
        super().__init__(config)

    def send_offsets_to_transaction(self, positions: Any, group_metadata: Any, timeout: float = -1) -> None:
        if not any(getattr(tp, "metadata", None) for tp in positions) or not isinstance(group_metadata, bytes):
            return super().send_offsets_to_transaction(positions, group_metadata, timeout)
        rk = producer_handle(self, self._error_cb)  # read at each call: 0 once the producer is closed
        if rk is None:
            _warn_binding_fallback(_lib_error or "confluent-kafka's producer layout is not the expected one, or "
                                   "the producer is closed")
            return super().send_offsets_to_transaction(positions, group_metadata, timeout)
        send_offsets_to_transaction(rk, positions, group_metadata, timeout)
        return None


def _ignore_client_error(err: KafkaError) -> None:
    log.debug("producer: %s", err)


def _warn_binding_fallback(why: str) -> None:
    """Once per process: the offsets go through the binding, whose metadata carries a NUL."""
    global _warned
    if not _warned:
        _warned = True
        log.warning("exactly_once_v2 commits offsets through confluent-kafka's send_offsets_to_transaction (%s): "
                    "its metadata ends with a NUL byte, so a Java Kafka Streams app taking over this group cannot "
                    "read the committed partition times", why)


def lib_error() -> str:
    """Why librdkafka cannot be called directly ('' when it can)."""
    _librdkafka()
    return _lib_error or ""
