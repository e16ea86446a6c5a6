"""pystreams.broker.log: Kafka's segmented partition log (segments, sparse indexes, retention,
compaction, recovery, producer/transaction state, checkpoints), in Kafka's file formats.
Imports only pystreams.broker.protocol (record_batch, error_codes) and pystreams.errors."""
from .config import LogConfig
from .errors import (CorruptRecordError, InvalidConfigError, InvalidProducerEpochError,
                     InvalidRecordError, InvalidTimestampError, InvalidTopicError,
                     KafkaStorageError, KafkaStorageIOError, OffsetOutOfRangeError,
                     OutOfOrderSequenceError, RecordListTooLargeError, RecordTooLargeError,
                     UnsupportedForMessageFormatError)
from .manager import LogManager
from .partition_log import PartitionLog
from .types import AppendInfo, FetchSlice

__all__ = ["AppendInfo", "CorruptRecordError", "FetchSlice", "InvalidConfigError",
           "InvalidProducerEpochError", "InvalidRecordError", "OutOfOrderSequenceError", "InvalidTimestampError", "InvalidTopicError",
           "KafkaStorageError", "KafkaStorageIOError", "LogConfig", "LogManager",
           "OffsetOutOfRangeError", "PartitionLog", "RecordListTooLargeError",
           "RecordTooLargeError", "UnsupportedForMessageFormatError"]
