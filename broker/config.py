"""Broker configuration in Kafka's `server.properties` format and key names.

Why: operators bring their Kafka config files and `--set key=value` flags; we read the same keys.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from pystreams.errors import ConfigError

#: Kafka's defaults for the keys the single-node broker reads itself (the log reads its own).
DEFAULTS: dict[str, str] = {
    "node.id": "1",
    "listeners": "PLAINTEXT://127.0.0.1:9092",
    "log.dirs": "/tmp/pystreams-logs",
    "num.partitions": "1",
    "auto.create.topics.enable": "true",
    "default.replication.factor": "1",
    "offsets.topic.num.partitions": "50",
    "offsets.topic.replication.factor": "1",
    "offsets.topic.segment.bytes": "104857600",
    "offsets.retention.minutes": "10080",
    "offsets.retention.check.interval.ms": "600000",
    "offset.metadata.max.bytes": "4096",
    "socket.request.max.bytes": "104857600",
    "group.initial.rebalance.delay.ms": "3000",
    "group.min.session.timeout.ms": "6000",
    "group.max.session.timeout.ms": "1800000",
    "group.max.size": "2147483647",
    "delete.topic.enable": "true",
    "replica.fetch.max.bytes": "1048576",
    "fetch.max.bytes": "57671680",
    "max.incremental.fetch.session.cache.slots": "1000",
    "message.max.bytes": "1048588",
    "log.flush.offset.checkpoint.interval.ms": "60000",
    "log.cleaner.backoff.ms": "15000",
    "log.cleaner.enable": "true",
}


def parse_properties(text: str) -> dict[str, str]:
    """Parse Java `.properties` text (comments, `=`/`:` separators, backslash continuations)."""
    props: dict[str, str] = {}
    logical = ""
    for raw in text.splitlines():
        line = raw.strip() if not logical else raw.lstrip()
        if not logical and (not line or line[0] in "#!"):
            continue
        if line.endswith("\\") and not line.endswith("\\\\"):
            logical += line[:-1]
            continue
        logical += line
        key, value = _split_property(logical)
        props[key] = value
        logical = ""
    if logical:
        key, value = _split_property(logical)
        props[key] = value
    return props


def _split_property(line: str) -> tuple[str, str]:
    for i, ch in enumerate(line):
        if ch in "=:" or ch.isspace():
            key = line[:i].strip()
            rest = line[i:].lstrip()
            if rest[:1] in ("=", ":"):
                rest = rest[1:].lstrip()
            return key, rest
    return line.strip(), ""


def parse_set_flags(pairs: list[str]) -> dict[str, str]:
    """Turn `--set key=value` flags into a dict; a flag without `=` is a ConfigError."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value (Kafka key names), got {pair!r}")
        out[key.strip()] = value.strip()
    return out


@dataclass
class BrokerConfig:
    """Kafka-named broker settings: explicit props over Kafka's defaults."""

    props: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path | None = None, overrides: Mapping[str, object] | None = None
             ) -> "BrokerConfig":
        """Read a server.properties file (optional), then apply overrides (flags win)."""
        props: dict[str, str] = {}
        if path is not None:
            try:
                props.update(parse_properties(Path(path).read_text()))
            except OSError as exc:
                raise ConfigError(f"cannot read broker config {path}: {exc.strerror}") from exc
        for key, value in (overrides or {}).items():
            props[key] = _to_str(value)
        return cls(props)

    def get(self, key: str, default: str | None = None) -> str | None:
        """The value of a Kafka key: explicit, else Kafka's default, else `default`."""
        if key in self.props:
            return self.props[key]
        return DEFAULTS.get(key, default)

    def get_int(self, key: str) -> int:
        """An integer-valued key; a malformed value is a ConfigError naming the key."""
        value = self.get(key)
        try:
            return int(str(value).strip())
        except (TypeError, ValueError):
            raise ConfigError(f"{key} must be an integer, got {value!r}") from None

    def get_bool(self, key: str) -> bool:
        """A boolean-valued key (`true`/`false`, case-insensitive, as Kafka reads it)."""
        value = str(self.get(key, "false")).strip().lower()
        if value not in ("true", "false"):
            raise ConfigError(f"{key} must be true or false, got {value!r}")
        return value == "true"

    @property
    def node_id(self) -> int:
        """This broker's id (`node.id`, or the legacy `broker.id`)."""
        if "node.id" not in self.props and "broker.id" in self.props:
            return int(self.props["broker.id"])
        return self.get_int("node.id")

    @property
    def data_dir(self) -> Path:
        """The first of `log.dirs` (or `log.dir`): single-node brokers use one directory."""
        raw = self.props.get("log.dirs") or self.props.get("log.dir") or DEFAULTS["log.dirs"]
        return Path(raw.split(",")[0].strip())

    def listener(self) -> tuple[str, int]:
        """(host, port) of the first PLAINTEXT listener; host '' means all interfaces."""
        raw = str(self.get("listeners")).split(",")[0].strip()
        _, sep, hostport = raw.partition("://")
        if not sep:
            hostport = raw
        host, _, port = hostport.rpartition(":")
        host = host.strip("[]")
        try:
            return host, int(port)
        except ValueError:
            raise ConfigError(f"listeners must look like PLAINTEXT://host:port, got {raw!r}") from None

    def advertised(self, bound_port: int) -> tuple[str, int]:
        """(host, port) clients are told to use: `advertised.listeners`, else the bound listener."""
        raw = self.props.get("advertised.listeners")
        if raw:
            _, _, hostport = raw.split(",")[0].strip().partition("://")
            host, _, port = hostport.rpartition(":")
            return host, int(port) if int(port) else bound_port
        host, _ = self.listener()
        if host in ("", "0.0.0.0", "::"):  # a wildcard bind is not an address clients can use
            host = "127.0.0.1"
        return host, bound_port


def _to_str(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
