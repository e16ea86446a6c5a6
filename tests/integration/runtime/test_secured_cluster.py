"""A Streams app on a secured cluster: word count through a SASL_PLAINTEXT listener (PLAIN, and SCRAM-SHA-256 given
as Java's sasl.jaas.config), an SSL listener that requires a client certificate (encrypted key), and a SASL_SSL
listener (SCRAM-SHA-512), every client (admin, consumers, producers and pystreams' own group client) on that
listener only; wrong credentials or an untrusted broker certificate fail start() at once with the reason.

Runs on the reference Apache Kafka 4.x only (tests/fixtures/secured_kafka.py): our own broker has no security yet
(broker/security is empty). Topics are set up and results read over the broker's PLAINTEXT listener."""
from __future__ import annotations

import time

import pytest
from pystreams.broker.protocol import ApiKey

from pystreams.runtime import KafkaStreams, State
from pystreams.runtime.group import BrokerConnectionError, GroupClient
from pystreams.runtime.group.connection import BrokerConnection
from pystreams.runtime.group.security import (
    AuthenticationError,
    ClientSecurity,
    SslAuthenticationError,
)
from tests.fixtures.secured_kafka import (
    PLAIN_PASSWORD,
    PLAIN_USER,
    REAUTH_MS,
    SCRAM_PASSWORD,
    SCRAM_USER,
)
from tests.integration.runtime.helpers import (
    create_topics,
    produce_lines,
    random_lines,
    read_counts_until,
    unique,
    word_counts,
    wordcount_topology,
)

pytestmark = [pytest.mark.integration, pytest.mark.reference]

PLAIN = {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN", "sasl.username": PLAIN_USER,
         "sasl.password": PLAIN_PASSWORD}
SCRAM_JAAS = {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-256",
              "sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule required "
                                  f'username="{SCRAM_USER}" password="{SCRAM_PASSWORD}";'}


def _run_word_count(secured_kafka, tmp_path, bootstrap: str, security: dict) -> None:
    plaintext = secured_kafka.bootstrap_servers
    app_id, source, sink = unique("wc-sasl"), unique("text"), unique("counts")
    create_topics(plaintext, 2, source, sink)
    lines = random_lines(11, 200)
    produce_lines(plaintext, source, lines)
    expected = word_counts(lines)
    streams = KafkaStreams(wordcount_topology(source, sink), {
        "application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path),
        "commit.interval.ms": 200, **security})
    try:
        streams.start()
        assert streams.wait_for_state(State.RUNNING, timeout=60), f"never RUNNING (state {streams.state.name})"
        assert read_counts_until(plaintext, sink, lambda c: c == expected, timeout=60) == expected
        threads = streams.metadata_for_local_threads()
        assert sum(len(t.active_tasks) for t in threads) == 4  # 2 sub-topologies x 2 partitions, all assigned
    finally:
        assert streams.close(60)
    assert streams.state is State.NOT_RUNNING


@pytest.mark.parametrize("security", [PLAIN, SCRAM_JAAS], ids=["plain", "scram-sha-256-jaas"])
def test_word_count_through_a_sasl_listener(secured_kafka, tmp_path, security):
    _run_word_count(secured_kafka, tmp_path, secured_kafka.sasl_bootstrap_servers, security)


def test_word_count_through_tls_with_a_client_certificate(secured_kafka, tmp_path):
    _run_word_count(secured_kafka, tmp_path, secured_kafka.ssl_bootstrap_servers, {
        "security.protocol": "SSL", "ssl.ca.location": secured_kafka.ca_location, **secured_kafka.client_tls})


def test_word_count_through_sasl_ssl(secured_kafka, tmp_path):
    _run_word_count(secured_kafka, tmp_path, secured_kafka.sasl_ssl_bootstrap_servers, {
        "security.protocol": "SASL_SSL", "ssl.ca.location": secured_kafka.ca_location,
        "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": SCRAM_USER, "sasl.password": SCRAM_PASSWORD})


def test_an_untrusted_broker_certificate_fails_start_at_once(secured_kafka, tmp_path):
    """Without ssl.ca.location the system CAs are used, and they did not sign the test CA's broker certificate."""
    streams = KafkaStreams(wordcount_topology(unique("text"), unique("counts")), {
        "application.id": unique("wc-bad-tls"), "bootstrap.servers": secured_kafka.sasl_ssl_bootstrap_servers,
        "state.dir": str(tmp_path), **PLAIN, "security.protocol": "SASL_SSL"})
    began = time.monotonic()
    try:
        with pytest.raises(SslAuthenticationError, match="certificate.*check ssl.ca.location"):
            streams.start()
        assert time.monotonic() - began < 10
    finally:
        streams.close(10)


@pytest.mark.parametrize("security, reason", [
    ({**PLAIN, "sasl.password": "not-the-password"}, "Invalid username or password"),
    ({**SCRAM_JAAS, "sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule required "
                                        'username="nobody" password="x";'}, "invalid credentials"),
], ids=["plain-wrong-password", "scram-unknown-user"])
def test_wrong_credentials_fail_start_at_once_with_the_brokers_reason(secured_kafka, tmp_path, security, reason):
    sink = unique("counts")
    streams = KafkaStreams(wordcount_topology(unique("text"), sink), {
        "application.id": unique("wc-bad-login"), "bootstrap.servers": secured_kafka.sasl_bootstrap_servers,
        "state.dir": str(tmp_path), **security})
    began = time.monotonic()
    try:
        with pytest.raises(AuthenticationError, match=f"{reason}.*check sasl.username / sasl.password"):
            streams.start()
        assert time.monotonic() - began < 10, "a refused login must not wait for the clients' timeouts"
        assert streams.state is not State.RUNNING
    finally:
        streams.close(10)


METADATA = {"topics": None, "allow_auto_topic_creation": False}


def test_a_sasl_session_is_replaced_before_the_broker_ends_it(secured_kafka):
    """KIP-368: the fixture's SCRAM-SHA-512 sessions on SASL_PLAINTEXT last REAUTH_MS; the broker closes an expired
    session's connection on its next request, so the group client opens a new connection before."""
    security = ClientSecurity("SASL_PLAINTEXT", "SCRAM-SHA-512", SCRAM_USER, SCRAM_PASSWORD)
    conn = BrokerConnection("127.0.0.1", secured_kafka.sasl_port, "reauth-test", 10, security)
    client = GroupClient(secured_kafka.sasl_bootstrap_servers, unique("g"), "reauth-test", security=security)
    try:
        conn.request(ApiKey.METADATA, METADATA)
        assert client.topic_names() is not None
        first = dict(client._conns)
        assert not conn.closed
        time.sleep(REAUTH_MS / 1000 + 0.3)
        assert conn.closed  # past 85% of the session: our clients replace it
        with pytest.raises(BrokerConnectionError):  # the broker does end the expired session
            conn.request(ApiKey.METADATA, METADATA)
        assert client.topic_names() is not None  # on a new, authenticated connection, no error on the way
        assert all(client._conns[a] is not first[a] for a in first)
    finally:
        conn.close()
        client.close()


def test_a_missing_client_certificate_fails_start_at_once(secured_kafka, tmp_path):
    """The SSL listener requires a client certificate; under TLS 1.3 the broker's refusal arrives as an alert on
    the first read, and is reported as such, not retried as a lost connection."""
    streams = KafkaStreams(wordcount_topology(unique("text"), unique("counts")), {
        "application.id": unique("wc-no-cert"), "bootstrap.servers": secured_kafka.ssl_bootstrap_servers,
        "state.dir": str(tmp_path), "security.protocol": "SSL", "ssl.ca.location": secured_kafka.ca_location})
    began = time.monotonic()
    try:
        with pytest.raises(SslAuthenticationError, match="refused the TLS connection.*ssl.certificate.location"):
            streams.start()
        assert time.monotonic() - began < 10
    finally:
        streams.close(10)
