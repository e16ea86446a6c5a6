"""Kafka Streams' config keys as data: the keys pystreams reads and their defaults, the Java client keys it
translates, drops or refuses, the librdkafka keys passed through to the clients, the client settings the
guarantees fix, and the texts of the config warnings. No logic here: runtime/config.py and
runtime/client_config.py read these tables."""
from __future__ import annotations

import os
import re
import tempfile
from typing import Any

from pystreams.runtime.gc_policy import GC_TUNING_CONFIG

AT_LEAST_ONCE = "at_least_once"
EXACTLY_ONCE_V2 = "exactly_once_v2"
#: Kafka 4's values, exactly as spelled (its ValidString is case-sensitive; exactly_once and exactly_once_beta were
#: removed in 4.0): a config that runs here must run on Kafka Streams too.
GUARANTEES = (AT_LEAST_ONCE, EXACTLY_ONCE_V2)
#: group.protocol (Kafka 4.1, KIP-1071): pystreams runs the classic protocol itself (docs/adr/0004-streams-assignor.md)
GROUP_PROTOCOLS = ("classic", "streams")

#: pystreams' own key (Kafka has none): docs/adr/0006-flush-the-cache-when-input-runs-dry.md
CACHE_FLUSH_WHEN_IDLE_CONFIG = "pystreams.cache.flush.when.idle"

#: Kafka Streams' defaults (StreamsConfig), for the keys the runtime reads.
DEFAULTS: dict[str, Any] = {
    "num.stream.threads": 1,
    "processing.guarantee": AT_LEAST_ONCE,
    "state.dir": os.path.join(tempfile.gettempdir(), "kafka-streams"),
    "statestore.cache.max.bytes": 10 * 1024 * 1024,
    "num.standby.replicas": 0,
    "replication.factor": -1,
    "poll.ms": 100,
    "buffered.records.per.partition": 1000,
    "max.task.idle.ms": 0,
    "application.server": "",
    "state.cleanup.delay.ms": 600_000,
    # added to a window/session store's retention for its changelog's retention.ms (Kafka's default: 1 day)
    "windowstore.changelog.additional.retention.ms": 86_400_000,
    "auto.offset.reset": "earliest",
    "max.poll.records": 1000,
    "repartition.purge.interval.ms": 30_000,
    # how long a task may make no progress (e.g. a changelog whose restore is stuck) before the thread fails
    "task.timeout.ms": 300_000,
    # who runs the group: only "streams" (pystreams' own membership with Kafka Streams' assignor, see
    # docs/adr/0004-streams-assignor.md); the key stays so a config that names it keeps working
    "pystreams.assignor": "streams",
    # pystreams' own (Kafka has no such key): under at_least_once, flush the record caches (no commit) when the
    # thread's input ran dry, so results appear once the app is caught up (docs/adr/0006-*); false: Kafka's timing
    CACHE_FLUSH_WHEN_IDLE_CONFIG: True,
    # pystreams' own: raise the cyclic GC's thresholds at start when the process runs Python's defaults
    # (docs/adr/0007-*, runtime/gc_policy.py); false keeps them
    GC_TUNING_CONFIG: True,
}

ASSIGNORS = ("streams",)

#: librdkafka waits fetch.queue.backoff.ms (default 1000) before fetching again a partition whose prefetch queue
#: filled (queued.min.messages); Java's consumer has no such wait (it fetches as soon as the buffer drains). At 1M
#: records that second idled the whole app: 1M stateless 112k -> 205-290k rec/s with 50 ms (commit 50cc8cc,
#: docs/benchmarks.md). The consumers' default; `consumer.` / `main.consumer.` / `restore.consumer.` keys override it.
FETCH_QUEUE_BACKOFF_MS = 50

#: Java clients' reconnect.backoff.ms (librdkafka's default is 100): librdkafka 2.16 drops the bootstrap connection
#: once the first metadata names the brokers, and a new client's first request to the named broker waits until
#: reconnect.backoff.ms / 2 after the client was created (53 ms with 100, 28 with 50, measured by U); every start
#: pays it. A default of every client; the user's unprefixed or prefixed key overrides it.
RECONNECT_BACKOFF_MS = 50

#: Kafka's producer max.block.ms default: librdkafka's producer has no such setting, pystreams bounds the
#: exactly_once_v2 commit's producer calls with it (StreamsConfig.max_block_ms, streams_producer.max_block_s).
DEFAULT_MAX_BLOCK_MS = 60_000

#: Client-level keys (librdkafka's names; its global properties that mean the same to consumers, producers and the
#: admin client) that Kafka Streams users set unprefixed: every client gets them, and `consumer.` / `producer.` /
#: `admin.` prefixed keys override them per client (Kafka's StreamsConfig.getClientPropsWithPrefix). The security
#: keys also reach pystreams' own group client (runtime/group/security.py). "topic.metadata.refresh.interval.ms"
#: is not here: the `topic.` prefix means internal topic configs.
CLIENT_KEYS = frozenset({
    "security.protocol", "sasl.mechanism", "sasl.mechanisms", "sasl.username", "sasl.password",
    "sasl.kerberos.service.name", "sasl.kerberos.principal", "sasl.kerberos.kinit.cmd", "sasl.kerberos.keytab",
    "sasl.kerberos.min.time.before.relogin", "sasl.oauthbearer.config", "sasl.oauthbearer.method",
    "sasl.oauthbearer.client.id", "sasl.oauthbearer.client.secret", "sasl.oauthbearer.scope",
    "sasl.oauthbearer.extensions", "sasl.oauthbearer.token.endpoint.url", "enable.sasl.oauthbearer.unsecure.jwt",
    "ssl.ca.location", "ssl.ca.pem", "ssl.ca.certificate.stores", "ssl.crl.location", "ssl.certificate.location",
    "ssl.certificate.pem", "ssl.key.location", "ssl.key.pem", "ssl.key.password", "ssl.keystore.location",
    "ssl.keystore.password", "ssl.cipher.suites", "ssl.curves.list", "ssl.sigalgs.list", "ssl.providers",
    "ssl.engine.location", "ssl.engine.id", "ssl.endpoint.identification.algorithm",
    "enable.ssl.certificate.verification",
    "client.rack", "client.dns.lookup", "broker.address.family", "socket.timeout.ms",
    "socket.connection.setup.timeout.ms", "socket.keepalive.enable", "socket.nagle.disable", "socket.send.buffer.bytes",
    "socket.receive.buffer.bytes", "socket.max.fails", "connections.max.idle.ms", "reconnect.backoff.ms",
    "reconnect.backoff.max.ms", "retry.backoff.ms", "retry.backoff.max.ms", "metadata.max.age.ms",
    "metadata.recovery.strategy", "api.version.request", "api.version.request.timeout.ms", "debug",
    "message.max.bytes", "message.copy.max.bytes", "receive.message.max.bytes", "broker.address.ttl",
    "log.connection.close", "log_level", "enable.metrics.push",
    "metadata.recovery.rebootstrap.trigger.ms",
})

#: Java client keys that librdkafka spells differently: translated for every client (Kafka's -1, the OS default,
#: is librdkafka's 0).
RENAMED_CLIENT_KEYS = {"receive.buffer.bytes": "socket.receive.buffer.bytes",
                        "send.buffer.bytes": "socket.send.buffer.bytes"}

#: Java producer / consumer keys librdkafka has under another name or unit (H4): translated wherever they reach a
#: client, prefixed or (to the clients of their kind: PRODUCER_KEYS / CONSUMER_KEYS) unprefixed. The value: librdkafka's
#: key and the factor Java's value is divided by (buffer.memory is bytes, queue.buffering.max.kbytes KiB).
TRANSLATED_CLIENT_KEYS: dict[str, tuple[str, int]] = {
    "max.request.size": ("message.max.bytes", 1),
    "fetch.max.wait.ms": ("fetch.wait.max.ms", 1),
    "buffer.memory": ("queue.buffering.max.kbytes", 1024),
}

#: Java client keys with no librdkafka equivalent: not passed to librdkafka (which would refuse the client), with
#: a one-line warning once per key. max.block.ms is read as StreamsConfig.max_block_ms (the exactly_once_v2
#: commit's bound); the (de)serializer classes are the Streams serdes' job.
DROPPED_CLIENT_KEYS: dict[str, str] = {
    "max.block.ms": "librdkafka's producer never blocks a send; pystreams bounds the exactly_once_v2 commit with it",
    "default.api.timeout.ms": ("librdkafka's calls take their own timeouts; pystreams bounds the retries of a failed "
                               "offset commit with it (the main consumer's value)"),
    "key.serializer": "Kafka Streams serializes with its serdes",
    "value.serializer": "Kafka Streams serializes with its serdes",
    "key.deserializer": "Kafka Streams deserializes with its serdes",
    "value.deserializer": "Kafka Streams deserializes with its serdes",
    "metadata.max.idle.ms": "librdkafka has no such setting",
    "socket.connection.setup.timeout.max.ms": "librdkafka has no such setting (socket.connection.setup.timeout.ms is)",
    "compression.gzip.level": "set compression.level",
    "compression.lz4.level": "set compression.level",
    "compression.zstd.level": "set compression.level",
    "partitioner.adaptive.partitioning.enable": "librdkafka has no such setting",
    "partitioner.availability.timeout.ms": "librdkafka has no such setting",
    "partitioner.ignore.keys": "librdkafka has no such setting",
    "metrics.sample.window.ms": "client metrics are librdkafka's statistics",
    "metrics.num.samples": "client metrics are librdkafka's statistics",
    "metrics.recording.level": "client metrics are librdkafka's statistics",
    "metric.reporters": "client metrics are librdkafka's statistics",
    "auto.include.jmx.reporter": "there is no JMX",
    "exclude.internal.topics": "librdkafka has no such setting",
    "internal.leave.group.on.close": "librdkafka has no such setting",
}

#: librdkafka's consumer-only keys that, unprefixed, go to every consumer (main, restore, standby, global), as Kafka
#: Streams passes unprefixed consumer configs to its consumers. Not here, because the runtime sets them itself:
#: group.id, group.instance.id, session.timeout.ms, max.poll.interval.ms (read for the group membership),
#: auto.offset.reset, max.poll.records (Kafka Streams keys), enable.auto.offset.store, enable.partition.eof.
CONSUMER_KEYS = frozenset({
    "partition.assignment.strategy", "coordinator.query.interval.ms", "auto.commit.interval.ms", "queued.min.messages",
    "queued.max.messages.kbytes", "fetch.wait.max.ms", "fetch.queue.backoff.ms", "fetch.message.max.bytes",
    "max.partition.fetch.bytes", "fetch.max.bytes", "fetch.min.bytes", "fetch.error.backoff.ms", "isolation.level",
    "check.crcs", "consume.callback.max.messages", "fetch.max.wait.ms",
})

#: librdkafka's producer-only keys that, unprefixed, go to every producer. Not here: transactional.id and
#: transaction.timeout.ms (exactly_once_v2 sets them), linger.ms (read as a Streams key), partitioner (murmur2_random
#: keeps records where query_metadata_for_key looks for them), delivery.report.only.error (no per-record reports).
PRODUCER_KEYS = frozenset({
    "enable.idempotence", "enable.gapless.guarantee", "queue.buffering.max.messages", "queue.buffering.max.kbytes",
    "queue.buffering.max.ms", "message.send.max.retries", "retries", "queue.buffering.backpressure.threshold",
    "compression.codec", "compression.type", "compression.level", "batch.num.messages", "batch.size",
    "sticky.partitioning.linger.ms", "request.required.acks", "acks", "request.timeout.ms", "message.timeout.ms",
    "delivery.timeout.ms", "max.in.flight.requests.per.connection", "max.in.flight", "max.request.size",
    "buffer.memory",
})

#: Java client keys librdkafka does not have, with what to set instead (sasl.jaas.config is translated).
JAVA_ONLY_KEYS = {
    "ssl.truststore.location": "ssl.ca.location (a PEM file of CA certificates)",
    "ssl.truststore.password": "ssl.ca.location (a PEM file of CA certificates)",
    "ssl.truststore.type": "ssl.ca.location (a PEM file of CA certificates)",
    "ssl.keystore.type": "ssl.certificate.location and ssl.key.location (PEM)",
}

#: Client settings the guarantees rely on (Kafka's StreamsConfig.NON_CONFIGURABLE_*_CONFIGS): a user's value that
#: differs is ignored, with Kafka's message, and the Streams setting is used. Consumers always; under exactly_once_v2
#: also the EOS ones (transactional.id is always pystreams' own <application.id>-<process id>-<thread index>).
CONSUMER_FIXED = {"enable.auto.commit": "false", "group.protocol": "classic"}
CONSUMER_EOS_FIXED = {"isolation.level": "read_committed"}
PRODUCER_EOS_FIXED = {"enable.idempotence": "true", "transactional.id": "<appId>-<generatedSuffix>"}

#: Keys passed through to the clients when given with Kafka Streams' prefixes.
CONSUMER_PREFIX, PRODUCER_PREFIX, ADMIN_PREFIX, TOPIC_PREFIX = "consumer.", "producer.", "admin.", "topic."
MAIN_CONSUMER_PREFIX, RESTORE_CONSUMER_PREFIX = "main.consumer.", "restore.consumer."
#: Kafka's StreamsConfig.GLOBAL_CONSUMER_PREFIX: the global consumer's keys (over `consumer.` and unprefixed ones)
GLOBAL_CONSUMER_PREFIX = "global.consumer."
#: librdkafka's names of settings users spell as its aliases (Java's names): an error names either
LIBRDKAFKA_ALIASES = {
    "max.in.flight": ("max.in.flight.requests.per.connection",), "compression.codec": ("compression.type",),
    "message.send.max.retries": ("retries",), "request.required.acks": ("acks",),
    "queue.buffering.max.ms": ("linger.ms",), "message.timeout.ms": ("delivery.timeout.ms",),
    "fetch.message.max.bytes": ("max.partition.fetch.bytes",), "sasl.mechanisms": ("sasl.mechanism",),
}
#: librdkafka's refusals of one property (an unknown key or a value it cannot parse): config errors at build time
PROPERTY_ERROR = re.compile(r"No such configuration property|Invalid value .* for configuration property")
CLIENT_PREFIXES = ("", CONSUMER_PREFIX, PRODUCER_PREFIX, ADMIN_PREFIX, MAIN_CONSUMER_PREFIX,
                    RESTORE_CONSUMER_PREFIX, GLOBAL_CONSUMER_PREFIX)

#: Keys pystreams reads besides DEFAULTS and CLIENT_KEYS (runtime, handlers, serdes, compiler, CLI).
READ_KEYS = frozenset({
    "application.id", "bootstrap.servers", "client.id", "commit.interval.ms", "group.instance.id",
    "session.timeout.ms", "heartbeat.interval.ms", "max.poll.interval.ms", "linger.ms", "transaction.timeout.ms",
    "acceptable.recovery.lag", "max.warmup.replicas", "probing.rebalance.interval.ms", "metrics.http.port",
    "metrics.http.host", "metrics.sample.window.ms", "metrics.num.samples", "cache.max.bytes.buffering",
    "default.key.serde", "default.value.serde", "default.timestamp.extractor", "deserialization.exception.handler",
    "default.deserialization.exception.handler", "processing.exception.handler", "production.exception.handler",
    "default.production.exception.handler", "default.dsl.store", "topology.optimization", "upgrade.from",
    "schema.registry.url", "auto.register.schemas", "use.latest.version", "window.size.ms",
    "windowed.inner.class.serde", "sasl.jaas.config", "group.protocol", "ensure.explicit.internal.resource.naming",
    "metrics.recording.level", "pystreams.iq.http.enabled", "pystreams.iq.http.host", "pystreams.iq.remote.timeout.ms",
    "windowed.inner.serializer.class", "windowed.inner.deserializer.class", "rocksdb.config.setter",
    "rack.aware.assignment.tags",
})
#: Prefixes of keys pystreams reads: Kafka's client.tag.<key>=<value> (KIP-708, the standby placement's tags)
READ_PREFIXES = ("client.tag.",)

#: Kafka Streams keys (and its clients' common keys) that pystreams accepts but does not implement.
NOT_IMPLEMENTED_KEYS = frozenset({
    "built.in.metrics.version", "default.client.supplier", "dsl.store.suppliers.class", "log.summary.interval.ms",
    "rack.aware.assignment.non_overlap_cost", "rack.aware.assignment.strategy",
    "rack.aware.assignment.traffic_cost", "task.assignor.class", "metric.reporters",
    "security.providers", "auto.include.jmx.reporter", "default.windowed.key.serde.inner",
    "default.windowed.value.serde.inner", "statestore.uncommitted.max.bytes", "processor.wrapper.class",
    "default.list.key.serde.type", "default.list.key.serde.inner", "default.list.value.serde.type",
    "default.list.value.serde.inner",
})
NOT_IMPLEMENTED_PREFIXES: tuple[str, ...] = ()

#: The config warnings' texts (logging format strings; Kafka's wording where Kafka logs the same case), kept
#: together so that they read, and change, as one set.
#: An unprefixed key pystreams does not know (Kafka's AbstractConfig.logUnused), with a hint (the two below).
UNKNOWN_KEY_WARNING = "The configuration '%s' was supplied but isn't a known config.%s"
UNKNOWN_KEY_CLOSE_HINT = " Did you mean '{}'?"
UNKNOWN_KEY_PREFIX_HINT = (" Other client settings than those in docs/streams-runtime.md need a consumer., producer. "
                           "or admin. prefix.")
#: A Kafka Streams key in NOT_IMPLEMENTED_KEYS.
NOT_IMPLEMENTED_KEY_WARNING = ("The configuration '%s' is a Kafka Streams config that pystreams does not implement; "
                               "it is ignored.")
#: A user's value of a client setting the guarantees fix (CONSUMER_FIXED, CONSUMER_EOS_FIXED, PRODUCER_EOS_FIXED):
#: kind, key, who ("User" or the guarantee), the user's value, the Streams value (Kafka's StreamsConfig text).
IGNORED_OVERRIDE_MESSAGE = ("Unexpected user-specified %s config '%s' found. %s setting (%s) will be ignored and the "
                            "Streams default setting (%s) will be used.")
#: An admin.client.id other than Kafka Streams' <client.id>-admin: the user's value, the Streams value.
ADMIN_CLIENT_ID_WARNING = ("Unexpected user-specified admin config 'client.id' found. User setting (%s) will be "
                           "ignored and the Streams default setting (%s) will be used: Kafka Streams names its admin "
                           "client <client.id>-admin (set client.id to change it).")
#: A key in DROPPED_CLIENT_KEYS: the key, why.
DROPPED_KEY_WARNING = "The client configuration '%s' has no librdkafka equivalent (%s); it is not passed to the clients."
