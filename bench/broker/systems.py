"""The brokers a bench run compares: Apache Kafka (the reference jars, full JIT) and ours
(optionally under cProfile, optionally with the pread fetch path), each started fresh."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Protocol

from pystreams.broker.server.embedded import EmbeddedBroker
from tests.reference.kafka import ReferenceKafka


class System(Protocol):
    name: str

    @property
    def bootstrap_servers(self) -> str: ...

    def stop(self) -> None: ...


class Kafka:
    """Apache Kafka 4.x KRaft, one node, with the JIT fully on and the stock 1 GiB heap."""

    name = "kafka"

    def __init__(self) -> None:
        self.broker = ReferenceKafka(heap="1g", fast_start=False)
        self.broker.start()

    @property
    def bootstrap_servers(self) -> str:
        return self.broker.bootstrap_servers

    def stop(self) -> None:
        self.broker.stop()


class _ProfiledBroker(EmbeddedBroker):
    """EmbeddedBroker whose child runs under bench.broker.profiled_broker."""

    def __init__(self, profile_out: Path, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.profile_out = profile_out

    def start(self) -> "EmbeddedBroker":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "bench.broker.profiled_broker", str(self.profile_out),
               "--data-dir", str(self.data_dir), "--port", str(self.port), "--host", self.host]
        for key, value in self.config.items():
            cmd += ["--set", f"{key}={value}"]
        self._log_file = open(self.log_path, "ab")
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._log_file,
                                        stdin=subprocess.DEVNULL)
        self.port = int(self._wait_ready()["port"])
        return self


class Pystreams:
    """Our broker in its own process; `sendfile=False` selects the pread fetch path."""

    def __init__(self, name: str = "pystreams", *, sendfile: bool = True,
                 profile_out: Path | None = None) -> None:
        self.name = name
        self.dir = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
        old = os.environ.get("PYSTREAMS_FETCH_SENDFILE")
        os.environ["PYSTREAMS_FETCH_SENDFILE"] = "1" if sendfile else "0"
        try:
            self.broker = (_ProfiledBroker(profile_out, self.dir) if profile_out
                           else EmbeddedBroker(self.dir))
            self.broker.start()
        finally:
            if old is None:
                os.environ.pop("PYSTREAMS_FETCH_SENDFILE", None)
            else:
                os.environ["PYSTREAMS_FETCH_SENDFILE"] = old

    @property
    def bootstrap_servers(self) -> str:
        return self.broker.bootstrap_servers

    def stop(self) -> None:
        self.broker.stop(timeout=120)  # a profiled broker writes its stats on the way out
        shutil.rmtree(self.dir, ignore_errors=True)
