"""A `pystreams run` subprocess for CLI tests: stdout and stderr lines collected by reader threads, bounded waits
for a line, SIGTERM with a bounded wait, and a SIGKILL of its whole process group (children included) at exit."""
from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CLI = [sys.executable, "-c", "from pystreams.cli import main; main()"]


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port_run(n: int) -> int:
    """A port p with p..p+n-1 all free on 127.0.0.1 right now (each is bound, then released), taken below the
    kernel's ephemeral range: a port from that range can be grabbed as the local port of any outgoing connection
    (the broker's clients make many) between this check and the app's bind."""
    low, _high = _ephemeral_range()
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(10_000, max(10_001, low - n))
        held: list[socket.socket] = []
        try:
            for port in range(base, base + n):
                s = socket.socket()
                held.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
    raise RuntimeError(f"no run of {n} free ports found below {low}")


class RunProcess:
    """`pystreams run ARGS` in its own session (SIGKILL of the group reaches every child it started)."""

    def __init__(self, args: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        environ = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        environ.pop("PYSTREAMS_BOOTSTRAP_SERVERS", None)
        self.proc = subprocess.Popen(CLI + ["run", *args], cwd=cwd, env=environ, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, start_new_session=True)
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self._readers = [threading.Thread(target=self._read, args=(stream,), daemon=True)
                         for stream in (self.proc.stdout, self.proc.stderr)]
        for reader in self._readers:
            reader.start()

    def _read(self, stream) -> None:
        for raw in stream:
            with self._lock:
                self.lines.append(raw.decode(errors="replace"))

    def output(self) -> str:
        with self._lock:
            return "".join(self.lines)

    @staticmethod
    def match_line(pattern: str, line: str) -> re.Match | None:
        return re.search(pattern, line)

    def digest(self, last: int = 5) -> str:
        """The output without the summary lines (they repeat every interval), then the last few lines."""
        with self._lock:
            lines = list(self.lines)
        summary = re.compile(r"^(\[instance \d+\] )?[A-Z_]+ +[\d,]+ records/s")
        return "".join(line for line in lines if not summary.match(line))[-6000:] + "-- last lines:\n" + "".join(
            lines[-last:])

    def matches(self, pattern: str) -> list[re.Match]:
        with self._lock:
            return [m for line in self.lines if (m := re.search(pattern, line))]

    def wait_for(self, pattern: str, timeout: float, count: int = 1, *, children: bool = False) -> list[re.Match]:
        """The first `count` lines matching pattern, waiting at most timeout s (fails with the output); with
        children=True also after the process itself exited (its children write to the same pipes)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.matches(pattern)
            if len(found) >= count:
                return found[:count]
            if self.proc.poll() is not None and (not children or self.output_closed()):
                time.sleep(0.3)  # let the readers drain
                found = self.matches(pattern)
                if len(found) >= count:
                    return found[:count]
                break
            time.sleep(0.1)
        raise AssertionError(f"{count} line(s) matching {pattern!r} not seen within {timeout} s "
                             f"(exit {self.proc.poll()}); output:\n{self.digest()}")

    def output_closed(self, timeout: float = 0) -> bool:
        """Whether every process writing to the pipes is gone (both reached end of file), waiting up to timeout s."""
        for reader in self._readers:
            reader.join(timeout)
        return not any(reader.is_alive() for reader in self._readers)

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM and the exit code (bounded wait)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        for reader in self._readers:
            reader.join(5)
        return code

    def kill(self) -> None:
        """SIGKILL the whole process group if anything of it is still there (cleanup, also after a failure)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self.proc.poll() is None:
            self.proc.wait(10)
        for reader in self._readers:
            reader.join(5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> RunProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()


def read_until(bootstrap: str, topic: str, done, timeout: float = 60.0) -> list[tuple[bytes, bytes]]:
    """Every (key, value) of topic from the start, read until done(records) or the timeout."""
    import uuid

    from confluent_kafka import Consumer

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"reader-{uuid.uuid4().hex[:8]}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    out: list[tuple[bytes, bytes]] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not done(out):
            out.extend((m.key(), m.value()) for m in consumer.consume(1000, 0.3) if m.error() is None)
    finally:
        consumer.close()
    return out
