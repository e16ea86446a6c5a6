"""StreamsConfig: Kafka Streams' config keys, their defaults, and the client configs derived from them."""
from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from pystreams.errors import ConfigError
from pystreams.runtime.config_keys import (
    ADMIN_PREFIX,
    ASSIGNORS,
    AT_LEAST_ONCE,
    CACHE_FLUSH_WHEN_IDLE_CONFIG,
    CLIENT_KEYS,
    CLIENT_PREFIXES,
    CONSUMER_EOS_FIXED,
    CONSUMER_FIXED,
    CONSUMER_KEYS,
    CONSUMER_PREFIX,
    DEFAULTS,
    DROPPED_CLIENT_KEYS,
    EXACTLY_ONCE_V2,
    FETCH_QUEUE_BACKOFF_MS,
    GLOBAL_CONSUMER_PREFIX,
    GROUP_PROTOCOLS,
    GUARANTEES,
    JAVA_ONLY_KEYS,
    LIBRDKAFKA_ALIASES,
    MAIN_CONSUMER_PREFIX,
    NOT_IMPLEMENTED_KEYS,
    NOT_IMPLEMENTED_PREFIXES,
    PRODUCER_EOS_FIXED,
    PRODUCER_KEYS,
    PRODUCER_PREFIX,
    PROPERTY_ERROR,
    READ_KEYS,
    RECONNECT_BACKOFF_MS,
    RENAMED_CLIENT_KEYS,
    RESTORE_CONSUMER_PREFIX,
    TOPIC_PREFIX,
    TRANSLATED_CLIENT_KEYS,
)
from pystreams.runtime.gc_policy import GC_TUNING_CONFIG
from pystreams.runtime.group.security import ClientSecurity, parse_jaas_config

log = logging.getLogger("pystreams.runtime.config")

#: validate_clients' throw-away clients log nowhere (without brokers librdkafka would warn that it has none)
_VALIDATION_LOGGER = logging.getLogger("pystreams.librdkafka.validation")
_VALIDATION_LOGGER.propagate = False
_VALIDATION_LOGGER.addHandler(logging.NullHandler())


class RateLimitedClientLogs(logging.Filter):
    """librdkafka's log lines, turned into Python logging (the clients' `logger`), each kind at most once per
    interval_s with the count held back: a broker that cannot be reached logs a failed connect every
    reconnect.backoff.ms per client (581 stderr lines in 30 s before), Kafka's clients log it throttled. A kind is
    (level, facility, client, the message with its numbers blanked)."""

    def __init__(self, interval_s: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval_s, self._clock = interval_s, clock
        self._seen: dict[tuple[Any, ...], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        text = str(args[2]) if len(args) > 2 else record.getMessage()
        key = (record.levelno, *(str(a) for a in args[:2]), re.sub(r"\d+", "#", text))
        now = self._clock()
        with self._lock:
            if len(self._seen) > 10_000:  # bounded: forget the old kinds
                self._seen.clear()
            last, held = self._seen.get(key, (None, 0))
            if last is not None and now - last < self.interval_s:
                self._seen[key] = (last, held + 1)
                return False
            self._seen[key] = (now, 0)
        if held:
            record.msg = f"{record.msg} (and {held} more like it in the last {now - last:.0f} s)"  # type: ignore[operator]
        return True


#: The logger every client gets (its `logger` config): librdkafka's lines go to Python logging, rate-limited,
#: instead of straight to stderr. A `consumer.` / `producer.` / `admin.` prefixed `logger` replaces it.
CLIENT_LOGGER = logging.getLogger("pystreams.librdkafka")
CLIENT_LOGGER.addFilter(RateLimitedClientLogs())

_warned_dropped: set[str] = set()  # the dropped-key warning, once per key and process
_warned_keys: set[str] = set()  # unknown keys are reported once per process (pystreams run builds configs twice)


def _known_keys() -> frozenset[str]:
    """Every unprefixed key pystreams reads or passes to its clients."""
    return frozenset(DEFAULTS.keys() | READ_KEYS | CLIENT_KEYS | CONSUMER_KEYS | PRODUCER_KEYS
                     | RENAMED_CLIENT_KEYS.keys() | {"max.block.ms", "default.api.timeout.ms"})


def key_status(key: str) -> str:
    """How pystreams treats an unprefixed config key: "supported" (read by the runtime or passed to the clients),
    "not implemented" (a Kafka Streams key accepted with a warning) or "unknown" (Kafka's "isn't a known config")."""
    if key in _known_keys():
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
        if key in known or key in _warned_keys or key.startswith((CONSUMER_PREFIX, PRODUCER_PREFIX, ADMIN_PREFIX,
                                                                   TOPIC_PREFIX, MAIN_CONSUMER_PREFIX,
                                                                   RESTORE_CONSUMER_PREFIX, GLOBAL_CONSUMER_PREFIX)):
            continue
        _warned_keys.add(key)
        reported.append(key)
        if key in NOT_IMPLEMENTED_KEYS or key.startswith(NOT_IMPLEMENTED_PREFIXES):
            log.warning("The configuration '%s' is a Kafka Streams config that pystreams does not implement; it is "
                        "ignored.", key)
            continue
        import difflib  # only when there is something to report

        close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.85)
        hint = (f" Did you mean '{close[0]}'?" if close else
                " Other client settings than those in docs/streams-runtime.md need a consumer., producer. or admin. "
                "prefix.")
        log.warning("The configuration '%s' was supplied but isn't a known config.%s", key, hint)
    return reported


class StreamsConfig:
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
                if raw is not None and _int_or_none(raw) is not None and int(raw) > 5:
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

    def validate_clients(self) -> None:
        """Every client config, built once by librdkafka itself (no broker: bootstrap.servers is left out, so
        nothing connects; ~1 ms for all), so a key or value it refuses is a ConfigError naming the user's key
        now, not the death of every stream thread after start() (audit s7 H4)."""
        from confluent_kafka import Consumer, KafkaException, Producer
        from confluent_kafka.admin import AdminClient

        builds: list[tuple[str, Callable[[], dict[str, Any]], Callable[[dict[str, Any]], Any]]] = [
            ("producer", lambda: self.producer_config("validate", "validate" if self.eos else None), Producer),
            ("main consumer", lambda: self.main_consumer_config("validate"), Consumer),
            ("restore consumer", lambda: self.restore_consumer_config("validate"), Consumer),
            ("global consumer", lambda: self.global_consumer_config("validate"), Consumer),
            ("admin client", lambda: self.admin_config(), AdminClient),
        ]
        for kind, build, make in builds:
            conf = build()
            conf.pop("bootstrap.servers", None)
            conf["logger"] = _VALIDATION_LOGGER
            try:
                client = make(conf)
            except (KafkaException, ValueError, TypeError) as exc:
                if PROPERTY_ERROR.search(str(exc)):
                    raise ConfigError(self._client_error(kind, exc)) from None
                # files (ssl.*), SASL support and cross-key limits depend on where the app runs: left to the
                # clients at start(), as before
                log.debug("the %s's configuration, checked without a broker: %s", kind, exc)
                continue
            close = getattr(client, "close", None)
            if kind.endswith("consumer") and callable(close):
                close()
            del client

    def _client_error(self, kind: str, exc: Exception) -> str:
        """librdkafka's refusal, naming the user's keys it is about (prefixed as given)."""
        err = exc.args[0] if exc.args else exc
        text = str(getattr(err, "str", lambda: err)())
        names = re.findall(r'property:? "([^"]+)"', text) or re.findall(r"`([^`]+)`", text)
        names += [java for name in names for java, (ours, _) in TRANSLATED_CLIENT_KEYS.items() if ours == name]
        names += [java for name in names for java, ours in RENAMED_CLIENT_KEYS.items() if ours == name]
        names += [alias for name in names for alias in LIBRDKAFKA_ALIASES.get(name, ())]
        given = sorted({k for k in self.originals for name in names if k == name or k.endswith("." + name)
                        and k[: -len(name)] in CLIENT_PREFIXES})
        where = f"{', '.join(given)}: " if given else ""
        hint = (" (a Java client key librdkafka does not have: drop it, or use librdkafka's name for the same "
                "setting)" if "No such configuration property" in text else "")
        return f"{where}the {kind}'s configuration is refused by librdkafka (pystreams' Kafka client): {text}{hint}"

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

    def _prefixed(self, *prefixes: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for prefix in prefixes:
            out.update({k[len(prefix):]: v for k, v in self.originals.items() if k.startswith(prefix)})
        return out

    def client_keys(self) -> dict[str, Any]:
        """The unprefixed client-level keys (CLIENT_KEYS) every client gets, in librdkafka's terms: Java's
        sasl.jaas.config becomes sasl.username / sasl.password."""
        return _librdkafka({k: v for k, v in self.originals.items()
                            if k in CLIENT_KEYS or k in RENAMED_CLIENT_KEYS or k == "sasl.jaas.config"})

    def _client(self, defaults: dict[str, Any], *prefixes: str, kind: str = "admin") -> dict[str, Any]:
        """defaults < unprefixed client keys < prefixed keys (in the order given), in librdkafka's terms; the
        user's values of the settings the guarantees rely on are dropped (kind: consumer, producer, admin)."""
        user = self.client_keys()
        own = CONSUMER_KEYS if kind == "consumer" else PRODUCER_KEYS if kind == "producer" else frozenset()
        user.update(_librdkafka({k: v for k, v in self.originals.items() if k in own}))
        user.update(_librdkafka(self._prefixed(*prefixes)))
        fixed: dict[str, str] = {}
        if kind == "consumer":
            fixed = {**CONSUMER_FIXED, **(CONSUMER_EOS_FIXED if self.eos else {})}
        elif kind == "producer" and self.eos:
            fixed = PRODUCER_EOS_FIXED
        for key, required in fixed.items():
            if key in user and (key == "transactional.id" or str(user[key]).strip().lower() != required):
                self._ignore(kind, key, user.pop(key), required)
        return {"reconnect.backoff.ms": RECONNECT_BACKOFF_MS, "logger": CLIENT_LOGGER, **defaults, **user}

    def _ignore(self, kind: str, key: str, value: Any, required: str) -> None:
        """Kafka's StreamsConfig message for an ignored override (an error for enable.auto.commit, else a
        warning), once per key and kind."""
        if (kind, key) in self._warned:
            return
        self._warned.add((kind, key))
        who = "User" if key in CONSUMER_FIXED else (
            f"'processing.guarantee' is set to \"{self.processing_guarantee}\". Hence, user")
        log.log(logging.ERROR if key in CONSUMER_FIXED else logging.WARNING,
                "Unexpected user-specified %s config '%s' found. %s setting (%s) will be ignored and the Streams "
                "default setting (%s) will be used.", kind, key, who, value, required)

    def group_security(self) -> ClientSecurity:
        """security.protocol, SASL and TLS of pystreams' group client (runtime/group/): the main consumer's view
        (unprefixed keys, then `consumer.`, then `main.consumer.`); ConfigError for what it cannot speak."""
        cfg = {k: v for k, v in self.originals.items() if k in CLIENT_KEYS or k == "sasl.jaas.config"}
        cfg.update(self._prefixed(CONSUMER_PREFIX, MAIN_CONSUMER_PREFIX))
        _librdkafka(cfg)  # a login module librdkafka cannot use is refused with the clients' message
        return ClientSecurity.from_config(cfg)  # reads sasl.jaas.config itself, checking it against the mechanism

    def main_consumer_config(self, client_id: str) -> dict[str, Any]:
        """The main consumer: group.id = application.id (OffsetFetch/commit metadata), manual commits; it never
        subscribes: our membership assign()s it (docs/adr/0004-streams-assignor.md)."""
        cfg: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers,
            "group.id": self.application_id,
            "client.id": client_id,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": str(self.get("auto.offset.reset")),
            "isolation.level": "read_committed" if self.eos else "read_uncommitted",
            "session.timeout.ms": self._int("session.timeout.ms", 45_000),
            "max.poll.interval.ms": self._int("max.poll.interval.ms", 300_000),
            "fetch.queue.backoff.ms": FETCH_QUEUE_BACKOFF_MS,
        }
        if self.get("group.instance.id"):
            cfg["group.instance.id"] = self.get("group.instance.id")
        return self._client(cfg, CONSUMER_PREFIX, MAIN_CONSUMER_PREFIX, kind="consumer")

    def group_member_config(self) -> dict[str, Any]:
        """The member timeouts of our own group membership (pystreams.assignor=streams), read like the main
        consumer's: plain keys, then `consumer.`, then `main.consumer.` prefixed ones; Kafka's consumer defaults."""
        cfg: dict[str, Any] = {"session.timeout.ms": 45_000, "heartbeat.interval.ms": 3_000,
                               "max.poll.interval.ms": 300_000, "group.instance.id": None, "retry.backoff.ms": 100}
        for key in list(cfg):
            if self.originals.get(key) is not None:
                cfg[key] = self.originals[key]
        cfg.update({k: v for k, v in self._prefixed(CONSUMER_PREFIX, MAIN_CONSUMER_PREFIX).items() if k in cfg})
        out: dict[str, Any] = {"group_instance_id": str(cfg["group.instance.id"]) if cfg["group.instance.id"]
                               else None}
        for key, name in (("session.timeout.ms", "session_timeout_ms"), ("heartbeat.interval.ms",
                                                                          "heartbeat_interval_ms"),
                          ("max.poll.interval.ms", "rebalance_timeout_ms"), ("retry.backoff.ms", "retry_backoff_ms")):
            try:
                out[name] = int(cfg[key])
            except (TypeError, ValueError):
                raise ConfigError(f"{key} must be an integer, got {cfg[key]!r}") from None
            if out[name] < 0:
                raise ConfigError(f"{key} must be >= 0, got {out[name]}")
        if out["heartbeat_interval_ms"] >= out["session_timeout_ms"]:
            raise ConfigError("heartbeat.interval.ms must be lower than session.timeout.ms (Kafka: usually a third)")
        return out

    def restore_consumer_config(self, client_id: str) -> dict[str, Any]:
        """Assign-only consumer for changelog restore (never commits, never joins the group)."""
        return self._client(self._assign_only_consumer(client_id), CONSUMER_PREFIX, RESTORE_CONSUMER_PREFIX,
                            kind="consumer")

    def global_consumer_config(self, client_id: str) -> dict[str, Any]:
        """The global consumer (global stores): the restore consumer's defaults with Kafka's precedence for the
        global consumer (StreamsConfig.getGlobalConsumerConfigs): `global.consumer.` over `consumer.` over
        unprefixed keys. `restore.consumer.` keys do not reach it, as in Kafka."""
        return self._client(self._assign_only_consumer(client_id), CONSUMER_PREFIX, GLOBAL_CONSUMER_PREFIX,
                            kind="consumer")

    def _assign_only_consumer(self, client_id: str) -> dict[str, Any]:
        """Defaults of an assign-only consumer that never commits nor joins the group (restore, global)."""
        cfg: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers,
            "group.id": f"{self.application_id}-restore-unused",
            "client.id": client_id,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "enable.partition.eof": True,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed" if self.eos else "read_uncommitted",
            "fetch.wait.max.ms": 50,
            "fetch.queue.backoff.ms": FETCH_QUEUE_BACKOFF_MS,  # a big changelog's restore hits the same wait
        }
        return cfg

    def producer_config(self, client_id: str, transactional_id: str | None = None) -> dict[str, Any]:
        """murmur2_random = Java's default partitioner for keyed records; errors only as delivery reports."""
        cfg: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers,
            "client.id": client_id,
            "partitioner": "murmur2_random",
            "linger.ms": self._int("linger.ms", 100),
            "acks": "all",
            "enable.idempotence": True,
            "delivery.report.only.error": True,
            "queue.buffering.max.messages": 1_000_000,
            "batch.num.messages": 10_000,
        }
        if transactional_id is not None:
            cfg["transactional.id"] = transactional_id
            cfg["transaction.timeout.ms"] = self._int("transaction.timeout.ms", 10_000)
        out = self._client(cfg, PRODUCER_PREFIX, kind="producer")
        if not self.eos and _conflicts_with_idempotence(out, self._idempotence_given()):
            # Kafka's ProducerConfig (3.2+): idempotence is on by default, but off when the user set acks other
            # than all, more than 5 in flight or no retries without asking for it; librdkafka would refuse them
            out["enable.idempotence"] = False
        return out

    def _idempotence_given(self) -> bool:
        return "enable.idempotence" in self.originals or PRODUCER_PREFIX + "enable.idempotence" in self.originals

    def admin_config(self, client_id: str | None = None) -> dict[str, Any]:
        """The admin client's config. With the Streams client id (client.id or `<application.id>-<processId>`) its
        client.id is `<client_id>-admin` (Kafka's ClientUtils.adminClientId), which Kafka's getAdminConfigs puts
        over any user value: an admin.client.id is ignored there too, here with a warning (once)."""
        cfg = self._client({"bootstrap.servers": self.bootstrap_servers}, ADMIN_PREFIX)
        if client_id:
            required = admin_client_id(client_id)
            given = cfg.get("client.id")
            if given is not None and given != required and ("admin", "client.id") not in self._warned:
                self._warned.add(("admin", "client.id"))
                log.warning("Unexpected user-specified admin config 'client.id' found. User setting (%s) will be "
                            "ignored and the Streams default setting (%s) will be used: Kafka Streams names its "
                            "admin client <client.id>-admin (set client.id to change it).", given, required)
            cfg["client.id"] = required
        return cfg


def _conflicts_with_idempotence(producer: Mapping[str, Any], given: bool) -> bool:
    """Whether a producer config has Kafka's idempotence-conflicting settings and idempotence was not asked for."""
    if given:
        return False
    acks = str(producer.get("acks", producer.get("request.required.acks", "all"))).strip().lower()
    in_flight = _int_or_none(producer.get("max.in.flight", producer.get("max.in.flight.requests.per.connection", 5)))
    retries = _int_or_none(producer.get("retries", producer.get("message.send.max.retries", 1)))
    return acks not in ("all", "-1") or (in_flight or 0) > 5 or retries == 0


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


def admin_client_id(client_id: str) -> str:
    """Kafka's ClientUtils.adminClientId: the Streams client's admin client is `<client.id>-admin`."""
    return f"{client_id}-admin"


def _int_or_none(raw: Any) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def _librdkafka(cfg: dict[str, Any]) -> dict[str, Any]:
    """Java's spellings librdkafka does not take, in its terms: sasl.jaas.config -> sasl.username/sasl.password
    (PLAIN and SCRAM login modules), ssl.endpoint.identification.algorithm "" (Java's "off") -> "none",
    receive.buffer.bytes / send.buffer.bytes -> socket.receive.buffer.bytes / socket.send.buffer.bytes."""
    out = dict(cfg)
    for java, ours in RENAMED_CLIENT_KEYS.items():
        if java in out:
            value = out.pop(java)
            out.setdefault(ours, 0 if str(value).strip() == "-1" else value)
    for java, (ours, unit) in TRANSLATED_CLIENT_KEYS.items():
        if java in out:
            value = out.pop(java)
            number = _int_or_none(value)
            if number is None:
                raise ConfigError(f"Invalid value {value} for configuration {java}: Not a number of type INT"
                                  if unit == 1 else
                                  f"Invalid value {value} for configuration {java}: Not a number of type LONG")
            out.setdefault(ours, max(1, number // unit) if unit != 1 else number)
    for java, why in DROPPED_CLIENT_KEYS.items():
        if java in out:
            out.pop(java)
            if java not in _warned_dropped:
                _warned_dropped.add(java)
                log.warning("The client configuration '%s' has no librdkafka equivalent (%s); it is not passed to "
                            "the clients.", java, why)
    jaas = out.pop("sasl.jaas.config", None)
    if jaas:
        module, options = parse_jaas_config(str(jaas))
        if module not in ("PlainLoginModule", "ScramLoginModule"):
            raise ConfigError(f"sasl.jaas.config with {module} is not supported: pystreams' clients take PLAIN and "
                              f"SCRAM credentials (PlainLoginModule, ScramLoginModule, or sasl.username/sasl.password)")
        out.setdefault("sasl.username", options.get("username"))
        out.setdefault("sasl.password", options.get("password"))
    if out.get("ssl.endpoint.identification.algorithm") == "":
        out["ssl.endpoint.identification.algorithm"] = "none"
    return out


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
    "CONSUMER_KEYS", "CONSUMER_PREFIX", "DEFAULTS", "EXACTLY_ONCE_V2", "FETCH_QUEUE_BACKOFF_MS", "GC_TUNING_CONFIG",
    "GLOBAL_CONSUMER_PREFIX", "PRODUCER_KEYS", "PRODUCER_PREFIX", "RECONNECT_BACKOFF_MS", "TOPIC_PREFIX",
    "RateLimitedClientLogs", "StreamsConfig", "admin_client_id", "key_status", "thread_cache_bytes",
    "warn_unknown_keys",
]
