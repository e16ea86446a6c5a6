"""LogManager: every partition log under one data dir (Kafka's log.dirs entry): loads and
recovers them on start, creates and deletes them, and keeps Kafka's checkpoint files."""
from __future__ import annotations

import logging
import re
import shutil
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

from .checkpoint import (CLEANER_OFFSET_CHECKPOINT, LOG_START_OFFSET_CHECKPOINT, RECOVERY_POINT_CHECKPOINT,
                         TopicPartition, read_checkpoint, take_clean_shutdown, write_checkpoint,
                         write_clean_shutdown)
from .config import LogConfig
from .errors import InvalidTopicError
from .partition_log import PartitionLog

log = logging.getLogger(__name__)

_PARTITION_DIR = re.compile(r"^(?P<topic>[a-zA-Z0-9._-]+)-(?P<partition>\d+)$")
_LEGAL_TOPIC = re.compile(r"^[a-zA-Z0-9._-]{1,249}$")


def check_topic_name(topic: str) -> None:
    """Refuse names Kafka refuses (INVALID_TOPIC_EXCEPTION)."""
    if not _LEGAL_TOPIC.match(topic) or topic in (".", ".."):
        raise InvalidTopicError(f"topic name {topic!r} is illegal: use 1-249 characters from "
                                f"[a-zA-Z0-9._-], not '.' or '..'")


class LogManager:
    """Owns the PartitionLogs of one data dir; single-threaded like PartitionLog."""

    def __init__(self, data_dir: Path, default_config: LogConfig, *,
                 clock: Callable[[], float] = time.time,
                 topic_overrides: Mapping[str, Mapping[str, str]] | None = None) -> None:
        """Load every `<topic>-<partition>` dir; after a crash (no clean-shutdown marker) each
        is recovered from its checkpointed recovery point. `topic_overrides` gives the topic
        configs the cluster metadata holds (Kafka keeps them outside the log dir)."""
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.default_config = default_config
        self.clock = clock
        self._overrides: dict[str, dict[str, str]] = {
            t: dict(o) for t, o in (topic_overrides or {}).items()}
        self._logs: dict[TopicPartition, PartitionLog] = {}
        self.had_clean_shutdown = take_clean_shutdown(self.data_dir)
        recovery_points = read_checkpoint(self.data_dir / RECOVERY_POINT_CHECKPOINT)
        cleaner_offsets = read_checkpoint(self.data_dir / CLEANER_OFFSET_CHECKPOINT)
        start_offsets = read_checkpoint(self.data_dir / LOG_START_OFFSET_CHECKPOINT)
        for path in sorted(self.data_dir.iterdir()):
            if not path.is_dir():
                continue
            if path.name.endswith("-delete"):  # a DeleteTopics interrupted by a crash
                shutil.rmtree(path, ignore_errors=True)
                continue
            m = _PARTITION_DIR.match(path.name)
            if not m:
                continue
            tp = (m["topic"], int(m["partition"]))
            plog = PartitionLog.open(path, self.config_for(tp[0]), clock=clock,
                                     recovery_point=recovery_points.get(tp),
                                     log_start_offset=start_offsets.get(tp),
                                     had_clean_shutdown=self.had_clean_shutdown)
            plog.first_dirty_offset = max(cleaner_offsets.get(tp, 0), plog.log_start_offset)
            self._register(tp, plog)
        # from now on a crash must be detected: checkpoint what recovery established
        self.checkpoint()

    def _register(self, tp: TopicPartition, plog: PartitionLog) -> None:
        plog.on_log_start_offset_change = lambda _offset: self._write_log_start_offsets()
        self._logs[tp] = plog

    def config_for(self, topic: str) -> LogConfig:
        """The default config with the topic's overrides applied."""
        overrides = self._overrides.get(topic)
        return self.default_config.with_overrides(overrides) if overrides else self.default_config

    def create_partition(self, topic: str, partition: int,
                         overrides: Mapping[str, str] | None = None) -> PartitionLog:
        """Create (or return the existing) log for topic-partition; `overrides` are topic-level
        config keys (CreateTopics configs) and replace the topic's previous overrides."""
        check_topic_name(topic)
        if partition < 0:
            raise InvalidTopicError(f"partition {partition} of {topic} must be >= 0")
        if overrides is not None:
            self.alter_topic_config(topic, overrides)
        tp = (topic, partition)
        if tp not in self._logs:
            plog = PartitionLog.open(self.data_dir / f"{topic}-{partition}",
                                     self.config_for(topic), clock=self.clock,
                                     had_clean_shutdown=True)
            self._register(tp, plog)
        return self._logs[tp]

    def alter_topic_config(self, topic: str, overrides: Mapping[str, str]) -> LogConfig:
        """Set the topic's overrides (AlterConfigs) and apply them to its open logs."""
        config = self.default_config.with_overrides(overrides)  # validates before storing
        self._overrides[topic] = dict(overrides)
        for (t, _), plog in self._logs.items():
            if t == topic:
                plog.update_config(config)
        return config

    def get(self, topic: str, partition: int) -> PartitionLog | None:
        return self._logs.get((topic, partition))

    def partitions(self) -> dict[TopicPartition, PartitionLog]:
        """Every open log by (topic, partition) (a copy: safe to iterate while deleting)."""
        return dict(self._logs)

    def topics(self) -> set[str]:
        return {t for t, _ in self._logs}

    def delete_topic(self, topic: str) -> int:
        """Remove every partition of `topic`: rename the dir to `...-delete` (atomic, so a crash
        cannot resurrect it), then remove it. Returns partitions deleted."""
        doomed = [tp for tp in self._logs if tp[0] == topic]
        for tp in doomed:
            plog = self._logs.pop(tp)
            plog.close()
            trash = plog.dir.with_name(f"{plog.dir.name}.{uuid.uuid4().hex}-delete")
            plog.dir.rename(trash)
            shutil.rmtree(trash, ignore_errors=True)
        self._overrides.pop(topic, None)
        if doomed:
            self.checkpoint()
        return len(doomed)

    # ---- periodic work (the server's timers call these) ---------------------------------

    def enforce_retention(self, now_ms: int) -> int:
        """log.retention.check.interval.ms work: delete expired segments everywhere."""
        return sum(plog.enforce_retention(now_ms) for plog in self._logs.values())

    def clean(self, now_ms: int, *, force: bool = False) -> int:
        """log.cleaner work: one compaction pass over every compacted log whose dirty ratio
        is due (or all with `force`); writes cleaner-offset-checkpoint. Returns segments
        rewritten."""
        cleaned = 0
        for plog in self._logs.values():
            if plog.config.compact:
                cleaned += plog.compact(now_ms, force=force).segments_cleaned
        self.write_cleaner_checkpoint()
        return cleaned

    def write_cleaner_checkpoint(self) -> None:
        """cleaner-offset-checkpoint: where each compacted log's next pass starts."""
        write_checkpoint(self.data_dir / CLEANER_OFFSET_CHECKPOINT,
                         {tp: plog.first_dirty_offset for tp, plog in self._logs.items()
                          if plog.config.compact})

    def flush_due(self, now_ms: int) -> int:
        """flush.ms work: flush every log whose interval has passed; returns logs flushed."""
        return sum(plog.maybe_flush(now_ms) for plog in self._logs.values())

    def checkpoint(self) -> None:
        """Write recovery points and log start offsets (log.flush.offset.checkpoint work)."""
        write_checkpoint(self.data_dir / RECOVERY_POINT_CHECKPOINT,
                         {tp: plog.recovery_point for tp, plog in self._logs.items()})
        self._write_log_start_offsets()

    def _write_log_start_offsets(self) -> None:
        write_checkpoint(self.data_dir / LOG_START_OFFSET_CHECKPOINT,
                         {tp: plog.log_start_offset for tp, plog in self._logs.items()
                          if plog.log_start_offset > plog.segments[0].base_offset})

    def close(self) -> None:
        """Flush and close every log, write the checkpoints and the clean-shutdown marker."""
        for plog in self._logs.values():
            plog.close()
        self.checkpoint()
        write_clean_shutdown(self.data_dir)
        self._logs.clear()
