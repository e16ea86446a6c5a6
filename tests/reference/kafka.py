"""A real single-node Apache Kafka 4.x (KRaft, broker and controller in one JVM) for tests and bench.

    with ReferenceKafka() as kafka:          # free 127.0.0.1 ports, temp data dir, waits until ready
        kafka.bootstrap_servers              # "127.0.0.1:PORT"

Start-up: write server.properties, format the storage with a random cluster id
(`kafka.tools.StorageTool format`, static quorum via controller.quorum.voters), start `kafka.Kafka`,
then wait until the PLAINTEXT port accepts and an AdminClient sees broker 1 in the metadata (the
KRaft broker opens its data-plane listener only once it is unfenced, so that means "ready").
Tear-down: SIGTERM, SIGKILL after a bounded wait, remove the temp dir. The JVM also gets SIGKILL
when the Python process that started it dies (PR_SET_PDEATHSIG via `setpriv`), so a killed test
run leaks no broker.

Start-up measured on the 2-core machine: format ~0.8 s and broker ready ~1.5 s later when idle;
under load (load average 8) 6-9 s, or 3-4 s once class-data-sharing archives exist (cds.py: the
first run records them). C1-only JIT (`fast_start=True`, the default) starts faster; `--full-jit`
keeps the full JIT for throughput runs in bench/.

Command line, for manual comparison and bench/ (Ctrl-C stops it and removes the data dir):
    python -m tests.reference.kafka [--port P] [--data-dir D] [--full-jit] [--set key=value ...]
    scripts/reference.sh kafka ...
"""
from __future__ import annotations

import argparse
import base64
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType

from tests.reference import cds, jvm


class ReferenceKafkaError(RuntimeError):
    """The reference broker did not start or stop; the message carries the end of its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def random_cluster_id() -> str:
    """A KRaft cluster id as `kafka-storage random-uuid` prints it: 16 random bytes, base64url."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode("ascii")
        if not text.startswith("-"):  # Kafka's Uuid.randomUuid() avoids ids that look like flags
            return text


def server_properties(port: int, controller_port: int, log_dir: Path,
                      overrides: dict[str, str] | None = None) -> str:
    """server.properties text for a one-node combined broker+controller on 127.0.0.1."""
    props = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@127.0.0.1:{controller_port}",
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(log_dir),
        "num.partitions": "1",
        "default.replication.factor": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        # as Kafka's EmbeddedKafkaCluster: no session-timeout floor (failover tests use short sessions)
        "group.min.session.timeout.ms": "0",
        # timed-out transactions are aborted within a second (default 10 s)
        "transaction.abort.timed.out.transaction.cleanup.interval.ms": "1000",
        "auto.create.topics.enable": "true",
    }
    props.update(overrides or {})
    return "".join(f"{key}={value}\n" for key, value in props.items())


def _die_with_parent(argv: list[str]) -> list[str]:
    """argv prefixed so the JVM gets SIGKILL when its parent dies (Linux PR_SET_PDEATHSIG, set
    by util-linux `setpriv` before it execs java; no preexec_fn, which is unsafe with threads)."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", *argv] if setpriv else argv


def _property(path: Path, key: str) -> str:
    for line in path.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip() == key:
            return value.strip()
    raise ReferenceKafkaError(f"{path} has no {key}")


class ReferenceKafka:
    """A running single-node KRaft Apache Kafka; a context manager that always cleans up."""

    def __init__(self, *, port: int | None = None, controller_port: int | None = None,
                 data_dir: Path | None = None, overrides: dict[str, str] | None = None,
                 heap: str = "768m", fast_start: bool = True, startup_timeout: float = 60.0,
                 stop_timeout: float = 15.0) -> None:
        self._fixed_ports = (port, controller_port)
        self._given_dir = data_dir
        self.overrides = dict(overrides or {})
        self.heap = heap
        self.fast_start = fast_start
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.port = 0
        self.controller_port = 0
        self.dir: Path | None = None
        self.cluster_id = ""
        self.startup_seconds = 0.0
        self.format_seconds = 0.0
        self._process: subprocess.Popen[bytes] | None = None
        self._archive: cds.Archive | None = None

    # -- public -----------------------------------------------------------------------------------

    @property
    def bootstrap_servers(self) -> str:
        """What clients put in bootstrap.servers."""
        if not self.port:
            raise ReferenceKafkaError("reference Kafka is not started")
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        """The broker's log4j2 log file (server.log in its temp dir)."""
        assert self.dir is not None, "not started"
        return self.dir / "server.log"

    @property
    def data_dir(self) -> Path:
        """log.dirs: where the broker keeps its segments (for kafka-dump-log and friends)."""
        assert self.dir is not None, "not started"
        return self.dir / "data"

    @property
    def pid(self) -> int | None:
        """The JVM's process id while it runs."""
        return self._process.pid if self._process else None

    def start(self) -> "ReferenceKafka":
        """Format and start the broker, retrying on port clashes, and wait until it serves."""
        began = time.monotonic()
        self.dir = self._given_dir or Path(tempfile.mkdtemp(prefix="reference-kafka-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        try:
            for attempt in range(3):
                self.port = self._fixed_ports[0] or free_port()
                self.controller_port = self._fixed_ports[1] or free_port()
                while self.controller_port == self.port:
                    self.controller_port = free_port()
                try:
                    self._format()
                    self._launch()
                    self._wait_ready(began)
                    break
                except ReferenceKafkaError:
                    clash = "Address already in use" in self._log_tail()
                    self._kill()
                    if not clash or attempt == 2 or all(self._fixed_ports):
                        raise
                    if self._given_dir is None:  # never delete a caller's data
                        shutil.rmtree(self.data_dir, ignore_errors=True)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after stop_timeout; remove the temp dir (not a given data_dir)."""
        self._kill()
        if self.dir is not None and self._given_dir is None:
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None if self._given_dir is None else self.dir

    def __enter__(self) -> "ReferenceKafka":
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- steps ------------------------------------------------------------------------------------

    def _format(self) -> None:
        assert self.dir is not None
        config = self.dir / "server.properties"
        config.write_text(server_properties(self.port, self.controller_port, self.data_dir,
                                            self.overrides))
        jvm.file_log4j2(self.dir / "log4j2.properties", self.dir / "server.log")
        meta = self.data_dir / "meta.properties"
        if meta.exists():  # a reused --data-dir: already formatted, keeps its cluster id
            self.cluster_id = _property(meta, "cluster.id")
            return
        self.cluster_id = random_cluster_id()
        began = time.monotonic()
        archive = cds.archive_for("storage")
        result = subprocess.run(
            jvm.java_command("kafka.tools.StorageTool", "format", "--cluster-id", self.cluster_id,
                             "--config", str(config), "--ignore-formatted", heap="256m",
                             extra_flags=archive.flags),
            capture_output=True, text=True, timeout=60)
        archive.finish(result.returncode)
        self.format_seconds = time.monotonic() - began
        if result.returncode != 0:
            raise ReferenceKafkaError(f"kafka-storage format failed ({result.returncode}):\n"
                                      f"{result.stdout}{result.stderr}")


    def _launch(self) -> None:
        assert self.dir is not None
        flags = ["-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
                 "-XX:InitiatingHeapOccupancyPercent=35", "-Djava.net.preferIPv4Stack=true"]
        self._archive = cds.archive_for("broker" if self.fast_start else "broker-full-jit")
        argv = jvm.java_command("kafka.Kafka", str(self.dir / "server.properties"),
                                heap=self.heap, fast_start=self.fast_start,
                                log4j2=self.dir / "log4j2.properties", jvm_flags=flags,
                                extra_flags=self._archive.flags)
        with open(self.dir / "stdout.log", "ab") as out:
            self._process = subprocess.Popen(_die_with_parent(argv), stdin=subprocess.DEVNULL,
                                             stdout=out, stderr=subprocess.STDOUT, cwd=self.dir)

    def _wait_ready(self, began: float) -> None:
        from confluent_kafka.admin import AdminClient  # lazy: only the readiness probe needs it

        deadline = began + self.startup_timeout
        admin = None
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise ReferenceKafkaError(f"reference Kafka exited with {self._process.returncode}"
                                          f" during start-up:\n{self._log_tail()}")
            if not self._accepts():
                time.sleep(0.05)
                continue
            if admin is None:
                admin = AdminClient({"bootstrap.servers": self.bootstrap_servers,
                                     "socket.connection.setup.timeout.ms": 1000})
            try:
                metadata = admin.list_topics(timeout=1.0)
            except Exception:  # KafkaException while the broker finishes starting
                time.sleep(0.05)
                continue
            if 1 in metadata.brokers:
                return
        raise ReferenceKafkaError(f"reference Kafka not ready after {self.startup_timeout:.0f} s:"
                                  f"\n{self._log_tail()}")

    def _accepts(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(self.stop_timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        if self._archive is not None:
            self._archive.finish(process.returncode)
            self._archive = None

    def _log_tail(self, lines: int = 40) -> str:
        if self.dir is None:
            return ""
        text = ""
        for name in ("stdout.log", "server.log"):
            path = self.dir / name
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                text += f"--- {path} ---\n" + "\n".join(tail) + "\n"
        return text


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run one reference broker in the foreground until Ctrl-C (or SIGTERM)."""
    parser = argparse.ArgumentParser(prog="python -m tests.reference.kafka",
                                     description="Run a single-node KRaft Apache Kafka "
                                     f"{jvm.KAFKA_VERSION} on 127.0.0.1 in the foreground.")
    parser.add_argument("--port", type=int, help="PLAINTEXT port (default: a free one)")
    parser.add_argument("--controller-port", type=int, help="CONTROLLER port (default: free)")
    parser.add_argument("--data-dir", type=Path, help="keep data here (default: temp, removed)")
    parser.add_argument("--heap", default="768m", help="JVM -Xmx (default 768m)")
    parser.add_argument("--full-jit", action="store_true",
                        help="full JIT for throughput (bench/); default starts faster (C1 only)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="extra server.properties entry (repeatable)")
    args = parser.parse_args(argv)
    overrides = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--set needs KEY=VALUE, got {item!r}")
        overrides[key.strip()] = value.strip()
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)  # also when started from a shell that ignores it
    kafka = ReferenceKafka(port=args.port, controller_port=args.controller_port,
                           data_dir=args.data_dir, overrides=overrides, heap=args.heap,
                           fast_start=not args.full_jit)
    try:
        kafka.start()
        print(f"reference Kafka {jvm.KAFKA_VERSION} ready in {kafka.startup_seconds:.2f} s "
              f"(format {kafka.format_seconds:.2f} s), pid {kafka.pid}", flush=True)
        print(f"bootstrap servers: {kafka.bootstrap_servers}", flush=True)
        print(f"log: {kafka.log_path}  (Ctrl-C stops)", flush=True)
        while kafka._process is not None and kafka._process.poll() is None:
            time.sleep(0.5)
        print("reference Kafka exited on its own:\n" + kafka._log_tail(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopping reference Kafka", flush=True)
        return 0
    finally:
        kafka.stop()


if __name__ == "__main__":
    sys.exit(main())
