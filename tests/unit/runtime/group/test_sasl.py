"""SASL for pystreams' group client: the SCRAM exchange against the RFCs' test vectors, PLAIN's message, and the
SaslHandshake / SaslAuthenticate sequence against a scripted broker (no sockets)."""
from __future__ import annotations

from typing import Any

import pytest
from pystreams.broker.protocol import ApiKey, ErrorCode

from pystreams.runtime.group.sasl import authenticate
from pystreams.runtime.group.scram import (
    SaslAuthenticationError,
    ScramClient,
    plain_initial_response,
)
from pystreams.runtime.group.security import ClientSecurity

pytestmark = pytest.mark.unit

# RFC 7677 section 3 (SCRAM-SHA-256): user "user", password "pencil"
RFC7677_NONCE = "rOprNGfwEbeRWgbNEkqO"
RFC7677_SERVER_FIRST = b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
RFC7677_CLIENT_FINAL = (b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                        b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
RFC7677_SERVER_FINAL = b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


def test_scram_sha_256_matches_rfc_7677():
    client = ScramClient("SCRAM-SHA-256", "user", "pencil", nonce=RFC7677_NONCE)
    assert client.first() == b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
    assert client.final(RFC7677_SERVER_FIRST) == RFC7677_CLIENT_FINAL
    client.verify(RFC7677_SERVER_FINAL)  # raises when the signature differs


def test_scram_sha_1_matches_rfc_5802():
    """The algorithm is the same for every hash: RFC 5802's SHA-1 vector checks it a second time."""
    client = ScramClient("SCRAM-SHA-1", "user", "pencil", nonce="fyko+d2lbbFgONRv9qkxdawL")
    final = client.final(b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096")
    assert final == b"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
    client.verify(b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=")


def test_scram_wrong_password_gives_another_proof():
    client = ScramClient("SCRAM-SHA-256", "user", "pencil!", nonce=RFC7677_NONCE)
    assert client.final(RFC7677_SERVER_FIRST) != RFC7677_CLIENT_FINAL
    with pytest.raises(SaslAuthenticationError, match="signature does not match"):
        client.verify(RFC7677_SERVER_FINAL)


def test_scram_refuses_a_server_nonce_that_does_not_extend_ours():
    client = ScramClient("SCRAM-SHA-256", "user", "pencil", nonce="abc")
    with pytest.raises(SaslAuthenticationError, match="nonce"):
        client.final(b"r=xyz123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
    with pytest.raises(SaslAuthenticationError, match="nonce"):
        client.final(b"r=abc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")


def test_scram_server_error_attribute_is_reported():
    client = ScramClient("SCRAM-SHA-512", "user", "pencil", nonce="abc")
    with pytest.raises(SaslAuthenticationError, match="unknown-user"):
        client.final(b"e=unknown-user")


def test_scram_escapes_the_username_and_makes_a_fresh_nonce():
    a, b = ScramClient("SCRAM-SHA-512", "a=b,c", "p"), ScramClient("SCRAM-SHA-512", "a=b,c", "p")
    assert a.first().startswith(b"n,,n=a=3Db=2Cc,r=")
    assert a.nonce != b.nonce and len(a.nonce) >= 24


def test_plain_message():
    assert plain_initial_response("alice", "s3cret") == b"\0alice\0s3cret"


class ScriptedBroker:
    """Answers SaslHandshake / SaslAuthenticate from a script and records what it was sent."""

    def __init__(self, *answers: dict[str, Any]) -> None:
        self.answers = list(answers)
        self.sent: list[tuple[int, int, dict[str, Any]]] = []

    def __call__(self, api_key: int, version: int, body: dict[str, Any]) -> dict[str, Any]:
        self.sent.append((api_key, version, body))
        return self.answers.pop(0)


VERSIONS = {ApiKey.SASL_HANDSHAKE: 1, ApiKey.SASL_AUTHENTICATE: 2}
PLAIN = ClientSecurity("SASL_PLAINTEXT", "PLAIN", "alice", "s3cret")


def test_plain_handshake_then_one_authenticate():
    broker = ScriptedBroker({"error_code": 0, "mechanisms": ["PLAIN"]},
                            {"error_code": 0, "error_message": None, "auth_bytes": b"", "session_lifetime_ms": 0})
    assert authenticate(broker, VERSIONS, PLAIN, "b:9092") == 0  # no session lifetime
    assert broker.sent == [(ApiKey.SASL_HANDSHAKE, 1, {"mechanism": "PLAIN"}),
                           (ApiKey.SASL_AUTHENTICATE, 2, {"auth_bytes": b"\0alice\0s3cret"})]


def test_scram_runs_two_authenticate_rounds_and_checks_the_signature():
    security = ClientSecurity("SASL_SSL", "SCRAM-SHA-256", "user", "pencil")
    sent_first: list[bytes] = []

    def broker(api_key: int, version: int, body: dict[str, Any]) -> dict[str, Any]:
        if api_key == ApiKey.SASL_HANDSHAKE:
            return {"error_code": 0, "mechanisms": ["SCRAM-SHA-256"]}
        sent_first.append(body["auth_bytes"])
        nonce = sent_first[0].decode().split("r=", 1)[1]
        if len(sent_first) == 1:
            return {"error_code": 0, "auth_bytes": f"r={nonce}srv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096".encode()}
        return {"error_code": 0, "auth_bytes": b"v=AAAA"}  # a signature the client must reject

    with pytest.raises(SaslAuthenticationError, match="signature does not match"):
        authenticate(broker, VERSIONS, security, "b:9092")
    assert len(sent_first) == 2 and sent_first[1].startswith(b"c=biws,r=")


def test_unsupported_mechanism_names_what_the_broker_enables():
    broker = ScriptedBroker({"error_code": ErrorCode.UNSUPPORTED_SASL_MECHANISM, "mechanisms": ["SCRAM-SHA-512"]})
    with pytest.raises(SaslAuthenticationError, match="enables SCRAM-SHA-512"):
        authenticate(broker, VERSIONS, PLAIN, "b:9092")


def test_refused_credentials_carry_the_brokers_message():
    broker = ScriptedBroker({"error_code": 0, "mechanisms": ["PLAIN"]},
                            {"error_code": ErrorCode.SASL_AUTHENTICATION_FAILED,
                             "error_message": "Authentication failed: Invalid username or password",
                             "auth_bytes": b""})
    with pytest.raises(SaslAuthenticationError, match="'alice'.*Invalid username or password.*sasl.password"):
        authenticate(broker, VERSIONS, PLAIN, "b:9092")


def test_a_broker_without_sasl_handshake_v1_is_refused():
    with pytest.raises(SaslAuthenticationError, match="SaslHandshake v1"):
        authenticate(ScriptedBroker(), {ApiKey.SASL_HANDSHAKE: 0}, PLAIN, "b:9092")


def test_the_session_lifetime_of_the_last_answer_is_returned():
    broker = ScriptedBroker({"error_code": 0, "mechanisms": ["PLAIN"]},
                            {"error_code": 0, "auth_bytes": b"", "session_lifetime_ms": 3_600_000})
    assert authenticate(broker, VERSIONS, PLAIN, "b:9092") == 3_600_000
