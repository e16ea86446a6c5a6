"""EmbeddedBroker: a real broker in a child process, for apps, notebooks and tests.

Why a child process rather than a thread: the broker's event loop would otherwise share the GIL
with the application (a streams app's processing threads would stall produce/fetch), a test can
SIGKILL it to check durability, and a crash in one cannot take the other down. The cost is about
half a second of start-up (a Python interpreter importing the broker).

The child runs in its own session (start_new_session): a terminal's Ctrl-C goes to the
application's process group only, so the app can close cleanly (final commit) while the broker it
needs is still up, and then stop the broker. Being outside our process group, the child must not
outlive us either: it runs a watchdog thread that shuts the broker down (SIGTERM to itself, a
clean stop) as soon as its parent process is gone, also after a SIGKILL of the parent. A watchdog
rather than prctl(PR_SET_PDEATHSIG): the death signal fires when the *thread* that forked exits
(an app starting the broker from a worker thread would lose it), needs a preexec_fn (unsafe when
the parent has threads) and is Linux-only.
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
import threading
import time
from pathlib import Path
from typing import BinaryIO, Mapping

from pystreams.errors import PystreamsError


#: Settings an embedded (development/test) broker uses unless `config` says otherwise: no
#: initial rebalance delay, as Kafka recommends for development and its own test harnesses do.
EMBEDDED_DEFAULTS = {"group.initial.rebalance.delay.ms": "0"}

#: How often the child checks that its parent is alive, and how long after the parent died a
#: clean shutdown may take before the child exits hard.
PARENT_CHECK_INTERVAL_S = 0.5
ORPHAN_SHUTDOWN_TIMEOUT_S = 20.0

# The child's entry point: a watchdog on the parent pid (argv[1]), then the broker's main.
_CHILD_CODE = ("import sys; from pystreams.broker.server.embedded import _child_main; "
               "sys.exit(_child_main(sys.argv[1:]))")


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
        cmd = [sys.executable, "-c", _CHILD_CODE, str(os.getpid()),
               "--data-dir", str(self.data_dir), "--port", str(self.port), "--host", self.host]
        for key, value in self.config.items():
            cmd += ["--set", f"{key}={value}"]
        self._log_file = open(self.log_path, "ab")
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._log_file,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
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


def _watch_parent(parent_pid: int) -> None:
    """Stop this broker (clean SIGTERM path, then hard exit) once `parent_pid` is no longer our parent."""
    while os.getppid() == parent_pid:
        time.sleep(PARENT_CHECK_INTERVAL_S)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(ORPHAN_SHUTDOWN_TIMEOUT_S)
    os._exit(1)


def _child_main(argv: list[str]) -> int:
    """In the child: `<parent pid> <broker main args...>`; the broker dies with its parent."""
    parent_pid = int(argv[0])
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="parent-watchdog",
                     daemon=True).start()
    from pystreams.broker.server.main import main

    return main(argv[1:])
