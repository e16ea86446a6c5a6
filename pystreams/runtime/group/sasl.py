"""SASL authentication of one broker connection, as Kafka's clients do it after ApiVersions: SaslHandshake v1
(choose the mechanism), then SaslAuthenticate requests carrying the mechanism's messages (KIP-152). A refusal
raises SaslAuthenticationError with the broker's message: wrong credentials are not retried."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pystreams.broker.protocol import ApiKey, ErrorCode, error_name
from pystreams.runtime.group.scram import (
    SCRAM_HASHES,
    SaslAuthenticationError,
    ScramClient,
    plain_initial_response,
)
from pystreams.runtime.group.security import ClientSecurity

#: (api key, version, body) -> decoded response body: one request on the connection being authenticated.
Roundtrip = Callable[[int, int, dict[str, Any]], dict[str, Any]]


def authenticate(roundtrip: Roundtrip, versions: dict[int, int], security: ClientSecurity, where: str) -> int:
    """Run the handshake and the mechanism's exchange; `versions` are the ones ApiVersions negotiated. Returns the
    session lifetime the broker gave (ms; 0: none): past it the broker closes the connection on its next request
    (KIP-368, connections.max.reauth.ms), so the caller opens a new one before."""
    if versions.get(ApiKey.SASL_HANDSHAKE, -1) < 1 or ApiKey.SASL_AUTHENTICATE not in versions:
        raise SaslAuthenticationError(f"broker {where} does not offer SaslHandshake v1 and SaslAuthenticate "
                                      f"(Kafka >= 1.0 does); cannot authenticate")
    answer = roundtrip(ApiKey.SASL_HANDSHAKE, 1, {"mechanism": security.mechanism})
    code = answer["error_code"]
    if code == ErrorCode.UNSUPPORTED_SASL_MECHANISM:
        raise SaslAuthenticationError(f"broker {where} does not enable sasl.mechanism={security.mechanism}; it "
                                      f"enables {', '.join(answer.get('mechanisms') or []) or 'none'}")
    if code != 0:
        raise SaslAuthenticationError(f"SaslHandshake to {where} failed: {error_name(code)} ({code})")
    version = versions[ApiKey.SASL_AUTHENTICATE]

    lifetime = [0]

    def step(payload: bytes) -> bytes:
        reply = roundtrip(ApiKey.SASL_AUTHENTICATE, version, {"auth_bytes": payload})
        lifetime[0] = int(reply.get("session_lifetime_ms") or 0)
        if reply["error_code"] != 0:
            detail = reply.get("error_message") or error_name(reply["error_code"])
            raise SaslAuthenticationError(f"authentication as {security.username!r} with {security.mechanism} "
                                          f"at {where} failed: {detail}; check sasl.username / sasl.password")
        return bytes(reply.get("auth_bytes") or b"")

    assert security.username is not None and security.password is not None  # ClientSecurity.from_config checks
    if security.mechanism == "PLAIN":
        step(plain_initial_response(security.username, security.password))
    elif security.mechanism in SCRAM_HASHES:
        scram = ScramClient(security.mechanism, security.username, security.password)
        server_first = step(scram.first())
        server_final = step(scram.final(server_first))
        scram.verify(server_final)
    else:
        raise SaslAuthenticationError(f"sasl.mechanism={security.mechanism} is not supported")
    return lifetime[0]
