"""A broker behind a HoldingProxy that a test can SIGKILL and restart: ours (EmbeddedBroker via
the `pystreams_broker_factory` fixture) or the reference Apache Kafka (a ReferenceKafka of its
own, on fixed ports and a kept data dir so a restart recovers the same log).

The broker advertises the proxy's port (advertised.listeners), so clients bootstrapped at the
proxy send every request through it, to whichever broker process is up at the time."""
from __future__ import annotations

import os
import signal
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Protocol

from tests.reference.kafka import ReferenceKafka, free_port
from tests.system.jepsen.proxy import HoldingProxy

#: Both brokers: the timed-out-transaction sweep every 0.5 s (Kafka's test setting) so a copier
#: killed mid-transaction does not hold the partition's LSO for long.
BROKER_CONFIG = {"transaction.abort.timed.out.transaction.cleanup.interval.ms": "500"}
#: The reference broker's restart after its SIGKILL: the KRaft controller (restarted in the same
#: JVM) refuses the new incarnation's registration (DUPLICATE_BROKER_REGISTRATION, retried every
#: broker.heartbeat.interval.ms) until the killed incarnation's broker session expires, 9 s by
#: default: a 3 s session with 0.5 s heartbeats makes the restart ~4 s instead of ~13 s.
REFERENCE_RESTART_CONFIG = {"broker.session.timeout.ms": "3000",
                            "broker.heartbeat.interval.ms": "500"}


class KillableBroker(Protocol):
    """What the workload needs of a broker."""

    proxy: HoldingProxy
    kind: str

    @property
    def bootstrap_servers(self) -> str: ...

    def kill(self) -> None: ...

    def restart(self) -> float: ...


class OurBroker:
    """Our broker in a child process, behind the proxy."""

    kind = "pystreams"

    def __init__(self, factory: Callable[..., object], proxy: HoldingProxy) -> None:
        self.proxy = proxy
        advertised = f"PLAINTEXT://127.0.0.1:{proxy.port}"
        self.broker = factory(**BROKER_CONFIG, **{"advertised.listeners": advertised})
        proxy.upstream = ("127.0.0.1", self.broker.port)  # type: ignore[attr-defined]

    @property
    def bootstrap_servers(self) -> str:
        return self.proxy.bootstrap_servers

    def kill(self) -> None:
        """SIGKILL: no flush, no checkpoint."""
        self.broker.kill()  # type: ignore[attr-defined]
        self.proxy.drop_connections()

    def restart(self) -> float:
        """Start again on the same data dir and port; returns the seconds it took."""
        began = time.monotonic()
        self.broker.start()  # type: ignore[attr-defined]
        return time.monotonic() - began


class ReferenceBroker:
    """A reference Apache Kafka of this test's own (the session's shared one must not be
    killed), on ports and a data dir kept across a SIGKILL and restart."""

    kind = "reference"

    def __init__(self, data_dir: Path, proxy: HoldingProxy,
                 overrides: dict[str, str] | None = None) -> None:
        self.proxy = proxy
        port = free_port()
        self.kafka = ReferenceKafka(
            port=port, controller_port=free_port(), data_dir=data_dir,
            overrides={**BROKER_CONFIG, **REFERENCE_RESTART_CONFIG,
                       "advertised.listeners": f"PLAINTEXT://127.0.0.1:{proxy.port}",
                       **(overrides or {})})
        proxy.upstream = ("127.0.0.1", port)
        self.kafka.start()

    @property
    def bootstrap_servers(self) -> str:
        return self.proxy.bootstrap_servers

    def kill(self) -> None:
        """SIGKILL the JVM and reap it."""
        process = self.kafka._process
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(30)
        self.proxy.drop_connections()

    def restart(self) -> float:
        """Start the JVM again on the same data dir (log recovery) and ports."""
        began = time.monotonic()
        self.kafka.start()
        return time.monotonic() - began

    def stop(self) -> None:
        self.kafka.stop()


@contextmanager
def proxied_broker(kind: str, tmp_path: Path,
                   factory: Callable[..., object] | None = None) -> Iterator[KillableBroker]:
    """A started broker of `kind` ("pystreams" needs `factory`) behind a started proxy; both
    stopped at the end, also on failure (the factory stops ours)."""
    proxy = HoldingProxy().start()
    broker: KillableBroker | None = None
    try:
        if kind == "pystreams":
            assert factory is not None, "our broker comes from pystreams_broker_factory"
            broker = OurBroker(factory, proxy)
        else:
            broker = ReferenceBroker(tmp_path / "reference-kafka", proxy)
        yield broker
    finally:
        try:
            if isinstance(broker, ReferenceBroker):
                broker.stop()
        finally:
            proxy.close()
