"""EmbeddedBroker: a real broker in a child process, for apps, notebooks and tests.

Why a child process rather than a thread: the broker's event loop would otherwise share the GIL
with the application (a streams app's processing threads would stall produce/fetch), a test can
SIGKILL it to check durability, and a crash in one cannot take the other down. The cost is about
half a second of start-up (a Python interpreter importing the broker).
"""
from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import BinaryIO, Mapping

from pystreams.errors import PystreamsError


#: Settings an embedded (development/test) broker uses unless `config` says otherwise: no
#: initial rebalance delay, as Kafka recommends for development and its own test harnesses do.
EMBEDDED_DEFAULTS = {"group.initial.rebalance.delay.ms": "0"}


class BrokerStartError(PystreamsError):
    """The broker process exited or did not become ready; the message quotes its log."""


class EmbeddedBroker:
    """`with EmbeddedBroker() as b: b.bootstrap_servers` -> a broker on 127.0.0.1, temp data dir."""

    def __init__(self, data_dir: str | Path | None = None, port: int = 0,
                 config: Mapping[str, object] | None = None, *, host: str = "127.0.0.1",
                 startup_timeout: float = 30.0) -> None:
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir is not None else \
            Path(tempfile.mkdtemp(prefix="pystreams-broker-"))
        self.host = host
        self.port = port
        self.config = dict(EMBEDDED_DEFAULTS)
        self.config.update({k: ("true" if v is True else "false" if v is False else str(v))
                            for k, v in (config or {}).items()})
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: BinaryIO | None = None

    @property
    def bootstrap_servers(self) -> str:
        """`host:port` for clients' bootstrap.servers."""
        return f"{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        """The broker's JSON-lines log (stderr of the child process)."""
        return self.data_dir / "broker.log"

    def start(self) -> "EmbeddedBroker":
        """Start the process and wait until it accepts connections."""
        if self.process is not None and self.process.poll() is None:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pystreams.broker.server.main",
               "--data-dir", str(self.data_dir), "--port", str(self.port), "--host", self.host]
        for key, value in self.config.items():
            cmd += ["--set", f"{key}={value}"]
        self._log_file = open(self.log_path, "ab")
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._log_file,
                                        stdin=subprocess.DEVNULL)
        ready = self._wait_ready()
        self.port = int(ready["port"])
        return self

    def _wait_ready(self) -> dict:
        assert self.process is not None and self.process.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(self.process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + self.startup_timeout
        buf = b""
        try:
            while time.monotonic() < deadline:
                if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                    continue
                chunk = os.read(self.process.stdout.fileno(), 4096)
                if not chunk:
                    break
                buf += chunk
                if b"\n" in buf:
                    return json.loads(buf.split(b"\n", 1)[0])
        finally:
            sel.close()
        try:  # stdout closed: the process is exiting; give it a moment to report its code
            exited: int | None = self.process.wait(2)
        except subprocess.TimeoutExpired:
            exited = None
        self.kill()
        tail = self.log_path.read_text(errors="replace")[-2000:] if self.log_path.exists() else ""
        why = (f"broker process exited with code {exited}" if exited is not None
               else f"broker did not become ready within {self.startup_timeout}s")
        raise BrokerStartError(f"{why}; log tail:\n{tail}")

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM (clean shutdown: logs flushed, checkpoints written), SIGKILL after timeout."""
        proc = self.process
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._close_pipes()
        return proc.returncode

    def kill(self) -> None:
        """SIGKILL, no shutdown work at all (durability tests)."""
        proc = self.process
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        self._close_pipes()

    def restart(self) -> "EmbeddedBroker":
        """Stop (if running) and start again on the same data dir and port."""
        self.stop()
        return self.start()

    def _close_pipes(self) -> None:
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def close(self) -> None:
        """Stop the broker and delete the data dir if this object created it."""
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> "EmbeddedBroker":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        proc = getattr(self, "process", None)
        if proc is not None and proc.poll() is None:
            proc.kill()
