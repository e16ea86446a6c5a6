"""The client side of SASL PLAIN (RFC 4616) and SCRAM (RFC 5802, SHA-256/512 as RFC 7677 and Kafka's KIP-84), sans
IO: each step takes the server's bytes and returns the client's. Kafka carries these bytes in SaslAuthenticate;
pystreams' group client drives them (runtime/group/sasl.py)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from pystreams.runtime.group.security import AuthenticationError

#: Kafka's SCRAM mechanisms and their hash (Kafka has no SCRAM-SHA-1).
SCRAM_HASHES = {"SCRAM-SHA-256": "sha256", "SCRAM-SHA-512": "sha512"}


class SaslAuthenticationError(AuthenticationError):
    """The broker refused our credentials, or its SASL answers were not valid (e.g. a server signature that
    does not match: the broker does not know the password). Not retriable: fix sasl.username / sasl.password."""


def plain_initial_response(username: str, password: str, authzid: str = "") -> bytes:
    """PLAIN's only message: authzid NUL authcid NUL passwd, UTF-8 (Kafka ignores an authzid equal to authcid)."""
    return f"{authzid}\0{username}\0{password}".encode()


def _saslname(name: str) -> str:
    """RFC 5802 saslname: ',' and '=' escaped as =2C and =3D."""
    return name.replace("=", "=3D").replace(",", "=2C")


def _attributes(message: bytes, step: str) -> dict[str, str]:
    try:
        text = message.decode()
        pairs = [item.split("=", 1) for item in text.split(",")]
        return {k: v for k, v in pairs}
    except (UnicodeDecodeError, ValueError):
        raise SaslAuthenticationError(f"SCRAM: the broker's {step} message is not valid: {message!r}") from None


class ScramClient:
    """One SCRAM exchange: first() -> broker's server-first -> final(server_first) -> broker's server-final ->
    verify(server_final). `nonce` is for tests (RFC test vectors); by default 24 random bytes, base64."""

    def __init__(self, mechanism: str, username: str, password: str, nonce: str | None = None) -> None:
        if mechanism not in SCRAM_HASHES and mechanism != "SCRAM-SHA-1":  # SHA-1: RFC 5802's test vector only
            raise SaslAuthenticationError(f"unknown SCRAM mechanism {mechanism!r}")
        self.hash = SCRAM_HASHES.get(mechanism, "sha1")
        self.username, self.password = username, password
        self.nonce = nonce or base64.b64encode(secrets.token_bytes(24)).decode()
        self._first_bare = f"n={_saslname(username)},r={self.nonce}"
        self._server_signature: bytes | None = None

    def first(self) -> bytes:
        """client-first-message: no channel binding ("n,,"), no authzid."""
        return f"n,,{self._first_bare}".encode()

    def _hmac(self, key: bytes, data: bytes) -> bytes:
        return hmac.new(key, data, self.hash).digest()

    def final(self, server_first: bytes) -> bytes:
        """client-final-message with the proof, from the broker's nonce, salt and iteration count."""
        attrs = _attributes(server_first, "server-first")
        if "e" in attrs:
            raise SaslAuthenticationError(f"SCRAM: the broker refused the exchange: {attrs['e']}")
        try:
            nonce, salt, iterations = attrs["r"], base64.b64decode(attrs["s"], validate=True), int(attrs["i"])
        except (KeyError, ValueError):
            raise SaslAuthenticationError(f"SCRAM: the broker's server-first message lacks r, s or i: "
                                          f"{server_first!r}") from None
        if not nonce.startswith(self.nonce) or len(nonce) == len(self.nonce):
            raise SaslAuthenticationError("SCRAM: the broker's nonce does not extend ours")
        if iterations < 1:
            raise SaslAuthenticationError(f"SCRAM: invalid iteration count {iterations}")
        salted = hashlib.pbkdf2_hmac(self.hash, self.password.encode(), salt, iterations)
        client_key = self._hmac(salted, b"Client Key")
        stored_key = hashlib.new(self.hash, client_key).digest()
        without_proof = f"c={base64.b64encode(b'n,,').decode()},r={nonce}"
        auth_message = f"{self._first_bare},{server_first.decode()},{without_proof}".encode()
        signature = self._hmac(stored_key, auth_message)
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        self._server_signature = self._hmac(self._hmac(salted, b"Server Key"), auth_message)
        return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()

    def verify(self, server_final: bytes) -> None:
        """Check the broker's signature: it proves the broker knows the credential (mutual authentication)."""
        attrs = _attributes(server_final, "server-final")
        if "e" in attrs:
            raise SaslAuthenticationError(f"SCRAM: the broker refused the credentials: {attrs['e']}")
        if self._server_signature is None:
            raise SaslAuthenticationError("SCRAM: server-final before client-final")
        try:
            got = base64.b64decode(attrs["v"], validate=True)
        except (KeyError, ValueError):
            raise SaslAuthenticationError(f"SCRAM: the broker's server-final message has no signature: "
                                          f"{server_final!r}") from None
        if not hmac.compare_digest(got, self._server_signature):
            raise SaslAuthenticationError("SCRAM: the broker's signature does not match (wrong server credential)")
