"""ClientSecurity: how pystreams' group client connects to a secured cluster, read from the same librdkafka keys
the confluent-kafka clients get (security.protocol, sasl.*, ssl.*), so that one config secures every client.

What the group client speaks: security.protocol PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL; sasl.mechanism PLAIN,
SCRAM-SHA-256, SCRAM-SHA-512; TLS from PEM files or strings. Anything else is a ConfigError at KafkaStreams
construction (GSSAPI and OAUTHBEARER need a Kerberos or token provider the group client does not have)."""
from __future__ import annotations

import functools
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pystreams.errors import ConfigError, PystreamsError

if TYPE_CHECKING:  # ssl costs ~10 ms to import: only secured connections load it
    import ssl

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")

#: Java's JAAS login modules -> the SASL mechanism they serve.
_JAAS_MODULES = {"PlainLoginModule": "PLAIN", "ScramLoginModule": "SCRAM"}
_JAAS_OPTION = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|(\S+?))(?=\s|;|$)')


class AuthenticationError(PystreamsError):
    """The broker refused this client's credentials or TLS settings: definitive, not retried and not a reason to
    try another route to the same cluster (the fix is in the sasl.* / ssl.* keys)."""


class SslAuthenticationError(AuthenticationError):
    """The TLS handshake failed (e.g. the broker's certificate is not signed by ssl.ca.location, or its name does
    not match): not retried, the ssl.* keys need fixing (Kafka's SslAuthenticationException)."""


def parse_jaas_config(text: str) -> tuple[str, dict[str, str]]:
    """Java's sasl.jaas.config ('...PlainLoginModule required username="u" password="p";') -> (module's short
    name, options). Kafka Streams users set it instead of librdkafka's sasl.username / sasl.password."""
    match = re.match(r"\s*([\w.$]+)\s+(required|requisite|sufficient|optional)\b(.*)$", text, re.DOTALL)
    if not match:
        raise ConfigError(f"sasl.jaas.config is not '<LoginModule> required key=\"value\" ...;': {text!r}")
    module = match.group(1).rsplit(".", 1)[-1]
    options = {m.group(1): (m.group(2).replace('\\"', '"').replace("\\\\", "\\") if m.group(2) is not None
                            else m.group(3)) for m in _JAAS_OPTION.finditer(match.group(3))}
    return module, options


def _flag(value: Any) -> bool:
    return str(value).strip().lower() in ("true", "1", "yes")


@dataclass(frozen=True)
class TlsSettings:
    """librdkafka's ssl.* keys the group client honours (PEM only; Python's ssl module reads no PKCS#12)."""

    ca_location: str | None = None
    ca_pem: str | None = None
    certificate_location: str | None = None
    certificate_pem: str | None = None
    key_location: str | None = None
    key_pem: str | None = None
    key_password: str | None = field(default=None, repr=False)
    verify_certificate: bool = True
    check_hostname: bool = True  # ssl.endpoint.identification.algorithm=https (librdkafka's default since 2.0)
    cipher_suites: str | None = None

    def context(self) -> ssl.SSLContext:
        """Built once per settings (loading CAs costs milliseconds; every broker connection needs one)."""
        return _context(self)

    def build_context(self) -> ssl.SSLContext:
        """An SSLContext as librdkafka would set up its own: the given CAs (else the system's), the client
        certificate when given, hostname checks unless ssl.endpoint.identification.algorithm=none."""
        import ssl

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            if self.ca_location and self.ca_location != "probe":
                if os.path.isdir(self.ca_location):
                    ctx.load_verify_locations(capath=self.ca_location)
                else:
                    ctx.load_verify_locations(cafile=self.ca_location)
            if self.ca_pem:
                ctx.load_verify_locations(cadata=self.ca_pem)
            if not self.ca_pem and (not self.ca_location or self.ca_location == "probe"):
                ctx.load_default_certs()
            if self.certificate_location or self.certificate_pem:
                self._load_cert_chain(ctx)
            if self.cipher_suites:
                ctx.set_ciphers(self.cipher_suites)
        except (OSError, ssl.SSLError) as e:
            raise ConfigError(f"cannot set up TLS from the ssl.* keys: {e}") from None
        ctx.check_hostname = self.check_hostname and self.verify_certificate
        if not self.verify_certificate:
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def _load_cert_chain(self, ctx: ssl.SSLContext) -> None:
        temps: list[str] = []
        try:
            cert, key = self.certificate_location, self.key_location
            for pem, is_cert in ((self.certificate_pem, True), (self.key_pem, False)):
                if pem:  # Python reads certificates and keys from files only: a private temp file, removed below
                    fd, path = tempfile.mkstemp(prefix="pystreams-tls-", suffix=".pem")
                    with os.fdopen(fd, "w") as f:
                        f.write(pem)
                    temps.append(path)
                    cert, key = (path, key) if is_cert else (cert, path)
            if cert is None:
                raise ConfigError("ssl.key.location / ssl.key.pem is set without ssl.certificate.location / "
                                  "ssl.certificate.pem")
            ctx.load_cert_chain(cert, key, self.key_password)
        finally:
            for path in temps:
                os.unlink(path)


@dataclass(frozen=True)
class ClientSecurity:
    """security.protocol with its SASL credentials and TLS settings; PLAINTEXT by default."""

    protocol: str = "PLAINTEXT"
    mechanism: str = "GSSAPI"  # librdkafka's and Java's default: refused below when SASL is used
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: TlsSettings | None = None

    @property
    def uses_sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> ClientSecurity:
        """From librdkafka's keys (or Java's sasl.jaas.config); ConfigError for what the group client cannot
        speak, naming what it supports."""
        protocol = str(cfg.get("security.protocol") or "PLAINTEXT").strip().upper()
        if protocol not in PROTOCOLS:
            raise ConfigError(f"security.protocol={cfg.get('security.protocol')!r} is not supported: pystreams "
                              f"speaks {', '.join(PROTOCOLS)}")
        if cfg.get("ssl.keystore.location") and protocol in ("SSL", "SASL_SSL"):
            raise ConfigError("ssl.keystore.location (PKCS#12) is not supported by pystreams' group client: give the "
                              "client certificate and key as PEM with ssl.certificate.location and ssl.key.location")
        tls = None
        if protocol in ("SSL", "SASL_SSL"):
            algorithm = str(cfg.get("ssl.endpoint.identification.algorithm", "https")).strip().lower()
            if algorithm not in ("https", "none", ""):
                raise ConfigError(f"ssl.endpoint.identification.algorithm must be https or none, got {algorithm!r}")
            tls = TlsSettings(
                ca_location=_opt(cfg, "ssl.ca.location"), ca_pem=_opt(cfg, "ssl.ca.pem"),
                certificate_location=_opt(cfg, "ssl.certificate.location"),
                certificate_pem=_opt(cfg, "ssl.certificate.pem"), key_location=_opt(cfg, "ssl.key.location"),
                key_pem=_opt(cfg, "ssl.key.pem"), key_password=_opt(cfg, "ssl.key.password"),
                verify_certificate=_flag(cfg.get("enable.ssl.certificate.verification", True)),
                check_hostname=algorithm == "https", cipher_suites=_opt(cfg, "ssl.cipher.suites"))
        if not protocol.startswith("SASL_"):
            return cls(protocol=protocol, tls=tls)
        given = cfg.get("sasl.mechanism") or cfg.get("sasl.mechanisms")
        mechanism = str(given or "GSSAPI").strip().upper()
        if mechanism not in MECHANISMS:
            raise ConfigError(f"sasl.mechanism={mechanism}{'' if given else ' (the default when none is set)'} with "
                              f"security.protocol={protocol} is not supported by pystreams (its group client speaks "
                              f"{', '.join(MECHANISMS)}); GSSAPI (Kerberos) and OAUTHBEARER are not available")
        username, password = _opt(cfg, "sasl.username"), _opt(cfg, "sasl.password")
        if cfg.get("sasl.jaas.config"):
            module, options = parse_jaas_config(str(cfg["sasl.jaas.config"]))
            wanted = "SCRAM" if mechanism.startswith("SCRAM") else mechanism
            if _JAAS_MODULES.get(module) != wanted:
                raise ConfigError(f"sasl.jaas.config uses {module}, which does not serve sasl.mechanism={mechanism}")
            if username is None:
                username, password = options.get("username"), options.get("password")
        if not username or password is None:
            raise ConfigError(f"security.protocol={protocol} with sasl.mechanism={mechanism} needs sasl.username "
                              f"and sasl.password (or Java's sasl.jaas.config with username and password)")
        return cls(protocol=protocol, mechanism=mechanism, username=username, password=password, tls=tls)


@functools.lru_cache(maxsize=8)
def _context(tls: TlsSettings) -> ssl.SSLContext:
    return tls.build_context()


def _opt(cfg: Mapping[str, Any], key: str) -> str | None:
    value = cfg.get(key)
    return None if value is None or value == "" else str(value)
