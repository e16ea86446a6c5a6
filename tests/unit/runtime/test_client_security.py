"""Client-level keys (security.protocol, sasl.*, ssl.*, client.rack, ...) given unprefixed reach every client
pystreams builds and its own group client, prefixed keys override them per client (Kafka Streams' rule), and what
the group client cannot speak is a ConfigError when the KafkaStreams is constructed."""
from __future__ import annotations

import ssl

import pytest

from pystreams import KafkaStreams, StreamsBuilder
from pystreams.errors import ConfigError
from pystreams.runtime import StreamsConfig
from pystreams.runtime.group.security import ClientSecurity, parse_jaas_config

pytestmark = pytest.mark.unit

BASE = {"application.id": "app", "bootstrap.servers": "127.0.0.1:9092"}
SASL = {**BASE, "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-256", "sasl.username": "alice",
        "sasl.password": "s3cret", "ssl.ca.location": "/etc/ca.pem", "client.rack": "rack-1"}
SECURITY_KEYS = ("security.protocol", "sasl.mechanism", "sasl.username", "sasl.password", "ssl.ca.location",
                 "client.rack")


def all_clients(cfg: StreamsConfig) -> dict[str, dict]:
    return {"main": cfg.main_consumer_config("c"), "restore": cfg.restore_consumer_config("r"),
            "producer": cfg.producer_config("p"), "eos-producer": cfg.producer_config("p", "app-1-0"),
            "admin": cfg.admin_config()}


def test_unprefixed_client_keys_reach_every_client_and_the_group_client():
    cfg = StreamsConfig(SASL)
    for name, client in all_clients(cfg).items():
        assert {k: client.get(k) for k in SECURITY_KEYS} == {k: SASL[k] for k in SECURITY_KEYS}, name
    assert cfg.security == cfg.group_security()
    assert (cfg.security.protocol, cfg.security.mechanism, cfg.security.username, cfg.security.password) == (
        "SASL_SSL", "SCRAM-SHA-256", "alice", "s3cret")
    assert cfg.security.tls is not None and cfg.security.tls.ca_location == "/etc/ca.pem"


def test_streams_keys_are_not_passed_to_the_clients():
    clients = all_clients(StreamsConfig({**SASL, "num.stream.threads": 2, "commit.interval.ms": 5}))
    for client in clients.values():
        assert "num.stream.threads" not in client and "commit.interval.ms" not in client
        assert "application.id" not in client


def test_prefixed_keys_override_per_client():
    cfg = StreamsConfig({**SASL, "producer.client.rack": "rack-p", "restore.consumer.client.rack": "rack-r",
                         "admin.sasl.username": "admin-user", "main.consumer.sasl.password": "main-pw"})
    clients = all_clients(cfg)
    assert clients["producer"]["client.rack"] == "rack-p"
    assert clients["restore"]["client.rack"] == "rack-r"
    assert clients["main"]["client.rack"] == "rack-1"
    assert clients["admin"]["sasl.username"] == "admin-user" and clients["main"]["sasl.username"] == "alice"
    assert clients["main"]["sasl.password"] == "main-pw" and clients["producer"]["sasl.password"] == "s3cret"
    assert cfg.security.password == "main-pw"  # the group client is the main consumer's view


def test_consumer_prefixed_security_secures_the_group_client():
    cfg = StreamsConfig({**BASE, "consumer.security.protocol": "SASL_PLAINTEXT", "consumer.sasl.mechanism": "PLAIN",
                         "consumer.sasl.username": "u", "consumer.sasl.password": "p"})
    assert (cfg.security.protocol, cfg.security.mechanism, cfg.security.username) == ("SASL_PLAINTEXT", "PLAIN", "u")
    assert "security.protocol" not in cfg.producer_config("p")


def test_java_jaas_config_becomes_librdkafka_credentials():
    jaas = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="bob" password="p\\"w d";'
    cfg = StreamsConfig({**BASE, "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN",
                         "sasl.jaas.config": jaas})
    for name, client in all_clients(cfg).items():
        assert "sasl.jaas.config" not in client, name  # librdkafka has no such key
        assert (client["sasl.username"], client["sasl.password"]) == ("bob", 'p"w d'), name
    assert (cfg.security.username, cfg.security.password) == ("bob", 'p"w d')


def test_parse_jaas_config_unquoted_and_scram():
    module, options = parse_jaas_config(
        "org.apache.kafka.common.security.scram.ScramLoginModule required username=alice password=\"x y\";")
    assert module == "ScramLoginModule" and options == {"username": "alice", "password": "x y"}
    with pytest.raises(ConfigError, match="LoginModule"):
        parse_jaas_config("username=alice")


@pytest.mark.parametrize("extra, message", [
    ({"security.protocol": "SASL_SSL"},
     r"sasl.mechanism=GSSAPI \(the default when none is set\).*PLAIN, SCRAM-SHA-256, SCRAM-SHA-512"),
    ({"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "OAUTHBEARER"}, "OAUTHBEARER.*not supported"),
    ({"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "GSSAPI"}, "GSSAPI.*not supported"),
    ({"security.protocol": "KERBEROS"}, "PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"),
    ({"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN"}, "needs sasl.username and sasl.password"),
    ({"ssl.truststore.location": "/x.jks"}, "Java client key.*ssl.ca.location"),
    ({"producer.ssl.truststore.location": "/x.jks"}, "producer.ssl.truststore.location"),
    ({"security.protocol": "SSL", "ssl.keystore.location": "/x.p12"}, "PKCS#12.*ssl.certificate.location"),
    ({"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN",
      "sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule required username=a password=b;"},
     "ScramLoginModule.*PLAIN"),
    ({"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "OAUTHBEARER", "sasl.jaas.config":
      "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;"}, "OAuthBearerLoginModule"),
])
def test_what_the_group_client_cannot_speak_fails_at_construction(extra, message):
    builder = StreamsBuilder()
    builder.stream("in").to("out")
    with pytest.raises(ConfigError, match=message):
        KafkaStreams(builder.build(), {**BASE, **extra})


def test_plaintext_stays_plaintext():
    cfg = StreamsConfig(BASE)
    assert cfg.security == ClientSecurity() and not cfg.security.uses_sasl and not cfg.security.uses_tls
    assert "security.protocol" not in cfg.admin_config()


def test_protocol_names_are_case_insensitive_like_librdkafka():
    cfg = StreamsConfig({**BASE, "security.protocol": "sasl_plaintext", "sasl.mechanism": "scram-sha-512",
                         "sasl.username": "u", "sasl.password": "p"})
    assert (cfg.security.protocol, cfg.security.mechanism) == ("SASL_PLAINTEXT", "SCRAM-SHA-512")


def test_tls_context_follows_librdkafkas_keys():
    default = ClientSecurity.from_config({"security.protocol": "SSL"}).tls
    assert default is not None
    ctx = default.build_context()
    assert ctx.check_hostname and ctx.verify_mode == ssl.CERT_REQUIRED  # librdkafka >= 2.0 checks the host name
    none = ClientSecurity.from_config({"security.protocol": "SSL", "ssl.endpoint.identification.algorithm": "none"})
    assert none.tls is not None and not none.tls.build_context().check_hostname
    java_off = StreamsConfig({**BASE, "security.protocol": "SSL", "ssl.endpoint.identification.algorithm": ""})
    assert java_off.security.tls is not None and not java_off.security.tls.check_hostname
    assert java_off.admin_config()["ssl.endpoint.identification.algorithm"] == "none"  # librdkafka's spelling
    unverified = ClientSecurity.from_config({"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN",
                                             "sasl.username": "u", "sasl.password": "p",
                                             "enable.ssl.certificate.verification": "false"})
    assert unverified.tls is not None and unverified.tls.build_context().verify_mode == ssl.CERT_NONE


def test_a_missing_ca_file_is_a_config_error(tmp_path):
    tls = ClientSecurity.from_config({"security.protocol": "SSL", "ssl.ca.location": str(tmp_path / "nope.pem")}).tls
    assert tls is not None
    with pytest.raises(ConfigError, match="ssl"):
        tls.build_context()


def test_reconnect_backoff_defaults_to_javas_and_users_override_it():
    plain = all_clients(StreamsConfig(BASE))
    assert {name: c["reconnect.backoff.ms"] for name, c in plain.items()} == dict.fromkeys(plain, 50)
    clients = all_clients(StreamsConfig({**BASE, "reconnect.backoff.ms": 200, "admin.reconnect.backoff.ms": 10}))
    assert clients["admin"]["reconnect.backoff.ms"] == 10
    assert {c["reconnect.backoff.ms"] for name, c in clients.items() if name != "admin"} == {200}


def test_unprefixed_consumer_and_producer_keys_reach_only_their_clients():
    cfg = StreamsConfig({**BASE, "compression.type": "zstd", "acks": "1", "fetch.max.bytes": 1024,
                         "producer.compression.type": "lz4", "restore.consumer.fetch.max.bytes": 2048})
    clients = all_clients(cfg)
    assert clients["producer"]["compression.type"] == "lz4" and clients["producer"]["acks"] == "1"
    assert clients["main"]["fetch.max.bytes"] == 1024 and clients["restore"]["fetch.max.bytes"] == 2048
    assert "compression.type" not in clients["main"] and "fetch.max.bytes" not in clients["producer"]
    assert "acks" not in clients["admin"] and "fetch.max.bytes" not in clients["admin"]


def test_keys_the_runtime_sets_itself_are_not_taken_unprefixed():
    cfg = StreamsConfig({**BASE, "partitioner": "random", "enable.partition.eof": False, "group.id": "other",
                         "auto.offset.reset": "latest"})
    assert cfg.producer_config("p")["partitioner"] == "murmur2_random"
    restore = cfg.restore_consumer_config("r")
    assert restore["enable.partition.eof"] is True and restore["auto.offset.reset"] == "earliest"
    assert cfg.main_consumer_config("c")["group.id"] == "app"
    assert cfg.main_consumer_config("c")["auto.offset.reset"] == "latest"  # Kafka Streams' own key


def test_start_logs_in_once_on_a_secured_cluster_only(monkeypatch):
    from pystreams.runtime.group import connection
    from pystreams.runtime.group.errors import BrokerConnectionError
    from pystreams.runtime.group.scram import SaslAuthenticationError

    calls: list = []

    class Broker:
        def __init__(self, host, port, client_id, timeout_s, security):
            calls.append((host, port, security.mechanism))
            if port == 1:
                raise BrokerConnectionError("refused")
            if security.password == "wrong":
                raise SaslAuthenticationError("Invalid username or password")

        def close(self):
            calls.append("closed")

    monkeypatch.setattr(connection, "BrokerConnection", Broker)
    StreamsConfig({**BASE, "bootstrap.servers": "h:1,h:2"}).require_bootstrap()
    assert calls == []  # PLAINTEXT: the clients find out, as before
    secured = {**BASE, "bootstrap.servers": "h:1,h:2,h:3", "security.protocol": "SASL_PLAINTEXT",
               "sasl.mechanism": "PLAIN", "sasl.username": "u", "sasl.password": "p"}
    StreamsConfig(secured).require_bootstrap()
    assert calls == [("h", 1, "PLAIN"), ("h", 2, "PLAIN"), "closed"]  # the first server that answers, once
    with pytest.raises(SaslAuthenticationError, match="Invalid username"):
        StreamsConfig({**secured, "sasl.password": "wrong"}).require_bootstrap()
    calls.clear()
    StreamsConfig({**secured, "bootstrap.servers": "h:1"}).require_bootstrap()  # unreachable: left to the clients
    assert calls == [("h", 1, "PLAIN")]
