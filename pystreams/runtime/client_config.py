"""The client configs a StreamsConfig derives (Kafka's StreamsConfig.get*Configs): main, restore and global
consumers, producer, admin client and pystreams' own group client, each from Kafka Streams' defaults, the user's
unprefixed and prefixed keys in librdkafka's terms, and the settings the guarantees fix; validated once by
librdkafka itself. StreamsConfig (runtime/config.py) inherits ClientConfigs; the key tables are config_keys.py's."""
from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pystreams.errors import ConfigError
from pystreams.runtime.config_keys import (
    ADMIN_CLIENT_ID_WARNING,
    ADMIN_PREFIX,
    CLIENT_KEYS,
    CLIENT_PREFIXES,
    CONSUMER_EOS_FIXED,
    CONSUMER_FIXED,
    CONSUMER_KEYS,
    CONSUMER_PREFIX,
    DROPPED_CLIENT_KEYS,
    DROPPED_KEY_WARNING,
    FETCH_QUEUE_BACKOFF_MS,
    GLOBAL_CONSUMER_PREFIX,
    IGNORED_OVERRIDE_MESSAGE,
    LIBRDKAFKA_ALIASES,
    MAIN_CONSUMER_PREFIX,
    PRODUCER_EOS_FIXED,
    PRODUCER_KEYS,
    PRODUCER_PREFIX,
    PROPERTY_ERROR,
    RECONNECT_BACKOFF_MS,
    RENAMED_CLIENT_KEYS,
    RESTORE_CONSUMER_PREFIX,
    TRANSLATED_CLIENT_KEYS,
)
from pystreams.runtime.group.security import ClientSecurity, parse_jaas_config

#: config.py's logger: the client-config messages (ignored overrides, dropped keys) keep the name users and tests
#: filter on
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


class ClientConfigs:
    """StreamsConfig's client-config builders (a mixin: StreamsConfig is the only class that inherits it). They read
    the user's keys and the parsed values below, which StreamsConfig sets."""

    originals: dict[str, Any]
    application_id: str
    bootstrap_servers: str
    processing_guarantee: str
    _warned: set[tuple[str, str]]  # the ignored-override messages, logged once per key and client kind

    if TYPE_CHECKING:  # StreamsConfig's
        @property
        def eos(self) -> bool: ...

        def get(self, key: str, default: Any = None) -> Any: ...

        def _int(self, key: str, default: Any = None, minimum: int | None = None) -> int: ...

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
                IGNORED_OVERRIDE_MESSAGE, kind, key, who, value, required)

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
                log.warning(ADMIN_CLIENT_ID_WARNING, given, required)
            cfg["client.id"] = required
        return cfg


def _conflicts_with_idempotence(producer: Mapping[str, Any], given: bool) -> bool:
    """Whether a producer config has Kafka's idempotence-conflicting settings and idempotence was not asked for."""
    if given:
        return False
    acks = str(producer.get("acks", producer.get("request.required.acks", "all"))).strip().lower()
    in_flight = int_or_none(producer.get("max.in.flight", producer.get("max.in.flight.requests.per.connection", 5)))
    retries = int_or_none(producer.get("retries", producer.get("message.send.max.retries", 1)))
    return acks not in ("all", "-1") or (in_flight or 0) > 5 or retries == 0

def admin_client_id(client_id: str) -> str:
    """Kafka's ClientUtils.adminClientId: the Streams client's admin client is `<client.id>-admin`."""
    return f"{client_id}-admin"


def int_or_none(raw: Any) -> int | None:
    """A config value as an int, or None when it is not one (the caller reports it in its own terms)."""
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
            number = int_or_none(value)
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
                log.warning(DROPPED_KEY_WARNING, java, why)
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
