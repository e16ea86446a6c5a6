"""Single-node cluster metadata: topics, their ids, partition counts and config overrides.

Why: clients address topics by name and (Fetch v13+) by topic id, and both must survive a restart;
the partition data itself lives in the log directories, this is only the catalogue.
Persisted atomically as `pystreams-metadata.json` in the data directory.
"""
from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

METADATA_FILE = "pystreams-metadata.json"
MAX_TOPIC_NAME = 249
_LEGAL = re.compile(r"^[a-zA-Z0-9._-]+$")
OFFSETS_TOPIC = "__consumer_offsets"
INTERNAL_TOPICS = frozenset({OFFSETS_TOPIC, "__transaction_state"})


def topic_name_error(name: str | None) -> str | None:
    """Why `name` is not a legal Kafka topic name, or None when it is."""
    if not name:
        return "topic name is empty"
    if name in (".", ".."):
        return "topic name cannot be '.' or '..'"
    if len(name) > MAX_TOPIC_NAME:
        return f"topic name is longer than {MAX_TOPIC_NAME} characters"
    if not _LEGAL.match(name):
        return f"topic name {name!r} has characters other than ASCII alphanumerics, '.', '_' and '-'"
    return None


@dataclass
class TopicInfo:
    """One topic: its stable id, partition count and per-topic config overrides."""

    name: str
    topic_id: uuid.UUID
    num_partitions: int
    configs: dict[str, str] = field(default_factory=dict)

    @property
    def internal(self) -> bool:
        """Kafka's internal topics are flagged so clients hide them by default."""
        return self.name in INTERNAL_TOPICS


class ClusterMetadata:
    """The topic catalogue; every mutation is written to disk before it returns."""

    def __init__(self, data_dir: Path) -> None:
        self._path = Path(data_dir) / METADATA_FILE
        self.topics: dict[str, TopicInfo] = {}
        self.by_id: dict[uuid.UUID, TopicInfo] = {}
        self.cluster_id = ""
        self._load()

    def _load(self) -> None:
        if not self._path.exists():
            # Kafka cluster ids are 16 random bytes in URL-safe base64 without padding.
            import base64
            self.cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
            self._save()
            return
        doc = json.loads(self._path.read_text())
        self.cluster_id = doc["cluster_id"]
        for t in doc["topics"]:
            info = TopicInfo(t["name"], uuid.UUID(t["topic_id"]), int(t["num_partitions"]),
                             dict(t.get("configs", {})))
            self.topics[info.name] = info
            self.by_id[info.topic_id] = info

    def _save(self) -> None:
        doc = {"cluster_id": self.cluster_id,
               "topics": [{"name": t.name, "topic_id": str(t.topic_id),
                           "num_partitions": t.num_partitions, "configs": t.configs}
                          for t in self.topics.values()]}
        tmp = self._path.with_suffix(".tmp")
        with open(tmp, "w") as fh:
            json.dump(doc, fh, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self._path)
        dir_fd = os.open(self._path.parent, os.O_RDONLY)  # the rename itself must reach the disk
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def get(self, name: str) -> TopicInfo | None:
        """The topic called `name`, or None."""
        return self.topics.get(name)

    def add_topic(self, name: str, num_partitions: int, configs: dict[str, str]) -> TopicInfo:
        """Record a new topic (the caller has validated it and created its partitions)."""
        info = TopicInfo(name, uuid.uuid4(), num_partitions, dict(configs))
        self.topics[name] = info
        self.by_id[info.topic_id] = info
        self._save()
        return info

    def remove_topic(self, name: str) -> None:
        """Forget a topic (its partitions are deleted by the caller)."""
        info = self.topics.pop(name)
        self.by_id.pop(info.topic_id, None)
        self._save()

    def set_partitions(self, name: str, count: int) -> None:
        """Grow a topic's partition count (CreatePartitions)."""
        self.topics[name].num_partitions = count
        self._save()

    def set_configs(self, name: str, configs: dict[str, str]) -> None:
        """Replace a topic's config overrides (AlterConfigs / IncrementalAlterConfigs)."""
        self.topics[name].configs = dict(configs)
        self._save()
