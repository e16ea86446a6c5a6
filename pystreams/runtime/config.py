"""StreamsConfig: Kafka Streams' configuration, validated and parsed once. Its key tables are config_keys.py's and
its client configs client_config.py's (ClientConfigs); the public names of both are re-exported here."""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from pystreams.errors import ConfigError
from pystreams.runtime.client_config import (
    CLIENT_LOGGER,
    ClientConfigs,
    RateLimitedClientLogs,
    admin_client_id,
    int_or_none,
)
from pystreams.runtime.config_keys import (
    ADMIN_PREFIX,
    ASSIGNORS,
    AT_LEAST_ONCE,
    CACHE_FLUSH_WHEN_IDLE_CONFIG,
    CLIENT_KEYS,
    CONSUMER_KEYS,
    CONSUMER_PREFIX,
    DEFAULT_MAX_BLOCK_MS,
    DEFAULTS,
    EXACTLY_ONCE_V2,
    FETCH_QUEUE_BACKOFF_MS,
    GLOBAL_CONSUMER_PREFIX,
    GROUP_PROTOCOLS,
    GUARANTEES,
    JAVA_ONLY_KEYS,
    MAIN_CONSUMER_PREFIX,
    NOT_IMPLEMENTED_KEY_WARNING,
    NOT_IMPLEMENTED_KEYS,
    NOT_IMPLEMENTED_PREFIXES,
    PRODUCER_KEYS,
    PRODUCER_PREFIX,
    READ_KEYS,
    READ_PREFIXES,
    RECONNECT_BACKOFF_MS,
    RENAMED_CLIENT_KEYS,
    RESTORE_CONSUMER_PREFIX,
    TOPIC_PREFIX,
    UNKNOWN_KEY_CLOSE_HINT,
    UNKNOWN_KEY_PREFIX_HINT,
    UNKNOWN_KEY_WARNING,
)
from pystreams.runtime.gc_policy import GC_TUNING_CONFIG

log = logging.getLogger("pystreams.runtime.config")

_warned_keys: set[str] = set()  # unknown keys are reported once per process (pystreams run builds configs twice)


def _known_keys() -> frozenset[str]:
    """Every unprefixed key pystreams reads or passes to its clients."""
    return frozenset(DEFAULTS.keys() | READ_KEYS | CLIENT_KEYS | CONSUMER_KEYS | PRODUCER_KEYS
                     | RENAMED_CLIENT_KEYS.keys() | {"max.block.ms", "default.api.timeout.ms"})


def key_status(key: str) -> str:
    """How pystreams treats an unprefixed config key: "supported" (read by the runtime or passed to the clients),
    "not implemented" (a Kafka Streams key accepted with a warning) or "unknown" (Kafka's "isn't a known config")."""
    if key in _known_keys() or key.startswith(READ_PREFIXES):
        return "supported"
    if key in NOT_IMPLEMENTED_KEYS or key.startswith(NOT_IMPLEMENTED_PREFIXES):
        return "not implemented"
    return "unknown"


def warn_unknown_keys(originals: Mapping[str, Any]) -> list[str]:
    """Kafka's "The configuration 'x' was supplied but isn't a known config" once per key, with the closest known
    key when there is one (a typo like num.stream.thread silently ran one thread). Returns the keys reported now.
    Processors may read keys of their own through context.app_configs(): those are reported too, as Kafka does."""
    known = _known_keys()
    reported = []
    for key in originals:
        if key.startswith(READ_PREFIXES):  # client.tag.<key>: read (KafkaStreams' client tags)
            continue
        if key in known or key in _warned_keys or key.startswith((CONSUMER_PREFIX, PRODUCER_PREFIX, ADMIN_PREFIX,
                                                                   TOPIC_PREFIX, MAIN_CONSUMER_PREFIX,
                                                                   RESTORE_CONSUMER_PREFIX, GLOBAL_CONSUMER_PREFIX)):
            continue
        _warned_keys.add(key)
        reported.append(key)
        if key in NOT_IMPLEMENTED_KEYS or key.startswith(NOT_IMPLEMENTED_PREFIXES):
            log.warning(NOT_IMPLEMENTED_KEY_WARNING, key)
            continue
        import difflib  # only when there is something to report

        close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.85)
        hint = UNKNOWN_KEY_CLOSE_HINT.format(close[0]) if close else UNKNOWN_KEY_PREFIX_HINT
        log.warning(UNKNOWN_KEY_WARNING, key, hint)
    return reported


class StreamsConfig(ClientConfigs):
    """Validated Kafka Streams configuration; `.get(key)` falls back to Kafka's defaults."""

    def __init__(self, props: Mapping[str, Any]) -> None:
        self.originals = {str(k): v for k, v in dict(props).items()}
        app_id = self.originals.get("application.id")
        if not app_id or not isinstance(app_id, str):
            raise ConfigError("application.id is required: it names the consumer group, the internal topics "
                              "(<application.id>-...) and the state directory")
        guarantee = str(self.get("processing.guarantee"))
        if guarantee not in GUARANTEES:
            hint = (" (exactly_once and exactly_once_beta were removed in Kafka 4.0: use exactly_once_v2)"
                    if guarantee.strip().lower() in ("exactly_once", "exactly_once_beta") else "")
            raise ConfigError(f"processing.guarantee must be one of at_least_once, exactly_once_v2, as Kafka "
                              f"Streams says: Invalid value {guarantee} for configuration processing.guarantee: "
                              f"String must be one of: at_least_once, exactly_once_v2{hint}")
        self.processing_guarantee = guarantee
        self._check_group_protocol()
        self.application_id = app_id
        self.bootstrap_servers = str(self.originals.get("bootstrap.servers") or "")
        self.num_stream_threads = self._int("num.stream.threads", minimum=1)
        default_commit = 100 if self.eos else 30_000
        self.commit_interval_ms = self._int("commit.interval.ms", default=default_commit, minimum=0)
        self.poll_ms = self._int("poll.ms", minimum=0)
        self.max_poll_records = self._int("max.poll.records", minimum=1)
        self.state_dir = str(self.get("state.dir"))
        self.num_standby_replicas = self._int("num.standby.replicas", minimum=0)
        self.replication_factor = self._int("replication.factor")
        self.application_server = str(self.get("application.server") or "")
        self.repartition_purge_interval_ms = self._int("repartition.purge.interval.ms", minimum=0)
        self.task_timeout_ms = self._int("task.timeout.ms", minimum=0)
        # Kafka's producer max.block.ms (producer.max.block.ms over max.block.ms), parsed once: it bounds every
        # exactly_once_v2 commit's producer calls (librdkafka has no such setting; streams_producer.max_block_s)
        block_key = next((k for k in (PRODUCER_PREFIX + "max.block.ms", "max.block.ms")
                          if self.originals.get(k) is not None), None)
        self.max_block_ms = self._int(block_key, minimum=0) if block_key else DEFAULT_MAX_BLOCK_MS
        self.cache_flush_when_idle = self._bool(CACHE_FLUSH_WHEN_IDLE_CONFIG)
        self.gc_tuning = self._bool(GC_TUNING_CONFIG)
        self.state_cleanup_delay_ms = self._int("state.cleanup.delay.ms", minimum=0)
        self.windowstore_changelog_additional_retention_ms = self._int(
            "windowstore.changelog.additional.retention.ms", minimum=0)
        self.assignor = str(self.get("pystreams.assignor")).lower()
        if self.assignor == "librdkafka":
            raise ConfigError("pystreams.assignor=librdkafka was removed: pystreams runs the consumer group itself "
                              "with Kafka Streams' assignor (docs/adr/0004-streams-assignor.md); drop the key or "
                              "set it to 'streams'")
        if self.assignor not in ASSIGNORS:
            raise ConfigError(f"pystreams.assignor must be 'streams' (pystreams runs the consumer group itself); "
                              f"got {self.get('pystreams.assignor')!r}")
        for key, instead in JAVA_ONLY_KEYS.items():
            for prefix in ("", CONSUMER_PREFIX, MAIN_CONSUMER_PREFIX, RESTORE_CONSUMER_PREFIX,
                           GLOBAL_CONSUMER_PREFIX, PRODUCER_PREFIX, ADMIN_PREFIX):
                if self.originals.get(prefix + key) not in (None, ""):
                    raise ConfigError(f"{prefix + key} is a Java client key that librdkafka (pystreams' clients) "
                                      f"does not read: set {instead}")
        # what the group client cannot speak fails here, at construction, not in a stream thread later
        self.security = self.group_security()
        self._warned: set[tuple[str, str]] = set()  # the ignored-override messages, logged once per key and client kind
        warn_unknown_keys(self.originals)
        if self.eos:
            for key in ("max.in.flight.requests.per.connection", "max.in.flight"):
                raw = {**self.originals, **self._prefixed(PRODUCER_PREFIX)}.get(key)
                if raw is not None and int_or_none(raw) is not None and int(raw) > 5:
                    raise ConfigError(f"{key} can't exceed 5 when exactly-once processing is enabled (Kafka's "
                                      f"limit for idempotent producers); got {raw}")
        self.resolved_classes = self._resolve_class_keys()
        self.validate_clients()

    def _resolve_class_keys(self) -> dict[str, Any]:
        """Kafka's Type.CLASS keys resolved once, with the resolvers the tasks use, so a class that cannot be
        loaded is Kafka's ConfigException text now ("Invalid value x for configuration k: Class x could not be
        found."), not a traceback from the first task after start() (audit s7 H6). Returns key -> the resolved
        serde / handler / extractor (the tasks still resolve their own instances)."""
        from pystreams.processor.handlers import (
            resolve_processing_handler,
            resolve_production_handler,
        )
        from pystreams.processor.timestamps import resolve_timestamp_extractor
        from pystreams.serdes.handlers import resolve_deserialization_handler
        from pystreams.serdes.resolve import resolve_serde

        def alone(key: str, *others: str) -> dict[str, Any]:  # the key as the only one of its aliases
            return {k: v for k, v in self.originals.items() if k not in others}

        resolvers: dict[str, Callable[[], Any]] = {
            "default.key.serde": lambda: resolve_serde(self.originals["default.key.serde"]),
            "default.value.serde": lambda: resolve_serde(self.originals["default.value.serde"]),
            "deserialization.exception.handler": lambda: resolve_deserialization_handler(
                alone("deserialization.exception.handler", "default.deserialization.exception.handler")),
            "default.deserialization.exception.handler": lambda: resolve_deserialization_handler(
                alone("default.deserialization.exception.handler", "deserialization.exception.handler")),
            "processing.exception.handler": lambda: resolve_processing_handler(self.originals),
            "production.exception.handler": lambda: resolve_production_handler(
                alone("production.exception.handler", "default.production.exception.handler")),
            "default.production.exception.handler": lambda: resolve_production_handler(
                alone("default.production.exception.handler", "production.exception.handler")),
            "default.timestamp.extractor": lambda: resolve_timestamp_extractor(
                self.originals["default.timestamp.extractor"]),
        }
        resolved: dict[str, Any] = {}
        for key, resolve in resolvers.items():
            value = self.originals.get(key)
            if value is None:
                continue
            try:
                resolved[key] = resolve()
            except ConfigError as exc:
                raise ConfigError(_class_error(key, value, exc)) from exc
        return resolved

    def _check_group_protocol(self) -> None:
        """group.protocol (Kafka 4.1): classic is what pystreams runs; streams (KIP-1071's broker-side assignment)
        is refused rather than silently run as classic. ensure.explicit.internal.resource.naming is checked to be
        true/false here; the topology check itself (KIP-1111) is pystreams/compiler/naming.py's, at build(props) and
        when KafkaStreams is made from a topology."""
        protocol = str(self.get("group.protocol", "classic")).strip().lower()
        if protocol == "streams":
            raise ConfigError("group.protocol=streams (KIP-1071, the streams rebalance protocol) is not supported: "
                              "pystreams runs the classic group protocol with Kafka Streams' assignor "
                              "(docs/adr/0004-streams-assignor.md); set group.protocol=classic or drop the key")
        if protocol not in GROUP_PROTOCOLS:
            raise ConfigError(f"Invalid value {self.get('group.protocol')} for configuration group.protocol: String "
                              f"must be one of (case insensitive): classic, streams")
        naming = str(self.get("ensure.explicit.internal.resource.naming", "false")).strip().lower()
        if naming not in ("true", "false"):
            raise ConfigError(f"Invalid value {self.get('ensure.explicit.internal.resource.naming')} for "
                              f"configuration ensure.explicit.internal.resource.naming: Expected value to be either "
                              f"true or false")

    def require_bootstrap(self) -> None:
        """Checked at start(): a KafkaStreams may be defined without servers (`pystreams run` adds them)."""
        if not self.bootstrap_servers:
            raise ConfigError("bootstrap.servers is required to start (e.g. '127.0.0.1:9092'); `pystreams run` "
                              "starts an embedded broker when none is configured")
        self.check_credentials()

    def check_credentials(self, timeout_s: float = 5.0) -> None:
        """On a secured cluster (security.protocol other than PLAINTEXT): log in once at the first bootstrap server
        that accepts a connection, so wrong credentials or TLS settings fail start() at once with the broker's
        reason (AuthenticationError, or ConfigError for unreadable ssl.* files). librdkafka's clients would
        instead retry until their timeout and report a transport failure. A broker that cannot be reached is
        left to the clients (they wait for it, as before)."""
        if self.security.protocol == "PLAINTEXT":
            return
        from pystreams.runtime.group.client import parse_servers
        from pystreams.runtime.group.connection import BrokerConnection
        from pystreams.runtime.group.errors import BrokerConnectionError

        for host, port in parse_servers(self.bootstrap_servers):
            try:
                BrokerConnection(host, port, f"{self.application_id}-credentials-check", timeout_s,
                                 self.security).close()
                return
            except BrokerConnectionError:
                continue

    @property
    def eos(self) -> bool:
        return self.processing_guarantee == EXACTLY_ONCE_V2

    def get(self, key: str, default: Any = None) -> Any:
        if key in self.originals:
            return self.originals[key]
        return DEFAULTS.get(key, default)

    def _int(self, key: str, default: Any = None, minimum: int | None = None) -> int:
        raw = self.originals.get(key, default if default is not None else DEFAULTS.get(key))
        try:
            value = int(raw)  # type: ignore[arg-type]  # None raises TypeError: reported below
        except (TypeError, ValueError):
            raise ConfigError(f"{key} must be an integer, got {raw!r}") from None
        if minimum is not None and value < minimum:
            raise ConfigError(f"{key} must be >= {minimum}, got {value}")
        return value

    def _bool(self, key: str) -> bool:
        """A boolean key: True/False or the strings true/false (any case, as Kafka's ConfigDef reads them)."""
        raw = self.originals.get(key, DEFAULTS.get(key))
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower() if isinstance(raw, str) else None
        if text not in ("true", "false"):
            raise ConfigError(f"Invalid value {raw!r} for configuration {key}: Expected value to be either true or "
                              f"false")
        return text == "true"

    def app_configs(self) -> dict[str, Any]:
        """What processors see through context.app_configs(): the user's keys plus resolved values."""
        cfg = dict(self.originals)
        cfg.setdefault("state.dir", self.state_dir)
        cfg.setdefault("processing.guarantee", self.processing_guarantee)
        cfg.setdefault("commit.interval.ms", self.commit_interval_ms)
        return cfg

    def topic_configs(self) -> dict[str, str]:
        """The `topic.`-prefixed keys without the prefix: configs for every internal topic the application
        creates (Kafka's StreamsConfig.TOPIC_PREFIX; a store's own log config still wins)."""
        return {k: str(v) for k, v in self._prefixed(TOPIC_PREFIX).items()}

def _class_error(key: str, value: Any, exc: ConfigError) -> str:
    """Kafka's ConfigDef text for a Type.CLASS value that cannot be loaded ("Class x could not be found."), or for
    one that is not what the key needs, followed by the resolver's own explanation."""
    cause: BaseException | None = exc
    missing = False
    while cause is not None:
        if isinstance(cause, (ImportError, AttributeError)):
            missing = True
        cause = cause.__cause__
    text = str(exc)
    missing = missing or (isinstance(value, str) and any(
        word in text for word in ("is unknown", "not a known", "no pystreams equivalent", "not an importable")))
    shown = value if isinstance(value, str) else getattr(value, "__name__", repr(value))
    reason = f"Class {shown} could not be found." if missing else "Not a usable class."
    return f"Invalid value {shown} for configuration {key}: {reason} ({text})"



def thread_cache_bytes(config: Any, has_global: bool) -> int:
    """One stream thread's share of statestore.cache.max.bytes (or the deprecated cache.max.bytes.buffering):
    as Kafka's KafkaStreams.getCacheSizePerThread, the total split over the stream threads plus one for the
    global thread when the topology has global stores."""
    from pystreams.processor.internals.task import cache_max_bytes

    threads = int(config.get("num.stream.threads"))
    return cache_max_bytes(config.originals) // (threads + (1 if has_global else 0))

#: the public names callers import from here (the key tables live in config_keys.py and are re-exported)
__all__ = [
    "ADMIN_PREFIX", "ASSIGNORS", "AT_LEAST_ONCE", "CACHE_FLUSH_WHEN_IDLE_CONFIG", "CLIENT_KEYS", "CLIENT_LOGGER",
    "CONSUMER_KEYS", "CONSUMER_PREFIX", "DEFAULTS", "DEFAULT_MAX_BLOCK_MS", "EXACTLY_ONCE_V2",
    "FETCH_QUEUE_BACKOFF_MS", "GC_TUNING_CONFIG", "GLOBAL_CONSUMER_PREFIX", "PRODUCER_KEYS", "PRODUCER_PREFIX",
    "RECONNECT_BACKOFF_MS", "TOPIC_PREFIX", "RateLimitedClientLogs", "StreamsConfig", "admin_client_id",
    "key_status", "thread_cache_bytes", "warn_unknown_keys",
]
