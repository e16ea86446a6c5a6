"""`pystreams run app.py`: run the KafkaStreams / Topology / StreamsBuilder a script defines at module level.

Config, lowest to highest precedence: the script's KafkaStreams config, PYSTREAMS_<KEY> environment variables
(PYSTREAMS_BOOTSTRAP_SERVERS -> bootstrap.servers), `--set key=value`. application.id defaults to the script's
name. Without bootstrap.servers an embedded pystreams broker is started first (and missing source/sink topics
are created on it). SIGINT/SIGTERM close the app cleanly (final commit, checkpoints). `--instances N` runs N
processes of the same app (one consumer group), the unit of parallel work under the GIL.
"""
from __future__ import annotations

import os
import runpy
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Optional

import typer

from pystreams.errors import ConfigError, PystreamsError

ENV_PREFIX = "PYSTREAMS_"
_NOT_CONFIG = {"PYSTREAMS_INSTANCE"}


def parse_sets(items: list[str]) -> dict[str, str]:
    """`key=value` pairs from --set flags."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value (e.g. --set num.stream.threads=2), got {item!r}")
        out[key.strip()] = value.strip()
    return out


def env_config(environ: dict[str, str]) -> dict[str, str]:
    """PYSTREAMS_BOOTSTRAP_SERVERS=... -> {"bootstrap.servers": ...} (underscores become dots)."""
    return {k[len(ENV_PREFIX):].lower().replace("_", "."): v for k, v in environ.items()
            if k.startswith(ENV_PREFIX) and k not in _NOT_CONFIG and v != ""}


def import_script(path: Path) -> dict[str, Any]:
    """Run the script once as a module (its `if __name__ == "__main__"` block does not run)."""
    sys.path.insert(0, str(path.resolve().parent))
    return runpy.run_path(str(path), run_name="__pystreams_run__")


def script_config(namespace: dict[str, Any]) -> dict[str, Any]:
    """The config of the script's module-level KafkaStreams (empty when it only has a Topology)."""
    from pystreams.runtime import KafkaStreams

    apps = {id(v): v for k, v in namespace.items() if isinstance(v, KafkaStreams) and not k.startswith("_")}
    if len(apps) > 1:
        raise PystreamsError(f"the script defines {len(apps)} KafkaStreams objects at module level; keep one")
    return dict(next(iter(apps.values())).config.originals) if apps else {}


def build_app(path: Path, namespace: dict[str, Any], overrides: dict[str, Any]) -> Any:
    """A (not started) KafkaStreams for the script's topology with the merged config."""
    from pystreams.runtime import KafkaStreams

    config: dict[str, Any] = {"application.id": path.stem.replace("_", "-")}
    config.update(script_config(namespace))
    config.update(overrides)
    apps = [v for v in namespace.values() if isinstance(v, KafkaStreams)]
    if apps:
        return KafkaStreams(apps[0].topology, config)
    from pystreams.cli.describe_cmd import find_topology

    return KafkaStreams(find_topology(namespace, config), config)


def start_embedded_broker() -> Any:
    """An EmbeddedBroker (in its own session, so Ctrl-C reaches only the app, which stops it after closing)."""
    from pystreams.broker import EmbeddedBroker

    return EmbeddedBroker(config={"group.initial.rebalance.delay.ms": "0"}).start()


def _create_dev_topics(app: Any, bootstrap: str, partitions: int) -> list[str]:
    """On the embedded broker only: create the app's missing source and sink topics (a dev convenience)."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    existing = set(admin.list_topics(timeout=10).topics)
    topology = app.topology
    wanted: list[str] = []
    for sub in topology.subtopologies():
        for topic in list(sub.source_topics) + list(sub.sink_topics):
            if not topology.is_internal_topic(topic) and topic not in existing and topic not in wanted:
                wanted.append(topic)
    if wanted:
        for fut in admin.create_topics([NewTopic(t, partitions, 1) for t in wanted]).values():
            fut.result(15)
    return wanted


class Summary:
    """The live one-line summary: state, records/s processed, lag, tasks, restored records."""

    def __init__(self, app: Any, prefix: str, interval: float, restore: Any = None) -> None:
        self.app = app
        self.restore = restore  # while its progress bar shows on a terminal, the summary line waits
        self.prefix = prefix
        self.interval = interval
        self.tty = sys.stderr.isatty()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="pystreams-summary")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        if self.tty:
            sys.stderr.write("\n")

    def line(self, rate: float) -> str:
        m = self.app.metrics()
        return (f"{self.prefix}{self.app.state.name:<12} {rate:>10,.0f} records/s  processed {m['process-total']:,}  "
                f"lag {m['records-lag']:,}  tasks {m['active-tasks']}  standbys {m['standby-tasks']}  "
                f"restored {m['restore-total']:,}  "
                f"commits {m['commit-total']:,}")

    def _run(self) -> None:
        last, last_t = 0, time.monotonic()
        while not self._stop.wait(self.interval):
            try:
                now = time.monotonic()
                total = sum(t.metrics.processed for t in self.app.threads)
                rate = (total - last) / max(now - last_t, 1e-6)
                last, last_t = total, now
                text = self.line(rate)
            except Exception as e:  # noqa: BLE001 - a summary must never stop the app
                text = f"{self.prefix}(summary unavailable: {e})"
            if self.tty:
                if self.restore is not None and self.restore.active and self.restore.tty:
                    continue
                sys.stderr.write("\r\x1b[2K" + text)
            else:
                sys.stderr.write(text + "\n")
            sys.stderr.flush()


class RestoreProgress:
    """Changelog restore progress (records done/total and records/s): a rich progress bar per stream thread on a
    terminal, one line per restored batch otherwise (logs, pipes). Called from the stream threads."""

    def __init__(self, prefix: str, stream: Any = None, tty: bool | None = None) -> None:
        self.prefix = prefix
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self._lock = threading.Lock()
        self._runs: dict[str, list[float]] = {}  # thread -> [started, last done, last update]
        self._progress: Any = None
        self._bars: dict[str, Any] = {}

    @property
    def active(self) -> bool:
        return bool(self._runs)

    def __call__(self, thread: str, done: int, total: int) -> None:
        now = time.monotonic()
        with self._lock:
            run = self._runs.get(thread)
            if run is None or done < run[1]:  # a new restore (first batch): measure from here
                run = self._runs[thread] = [now - 0.001, 0, now]
            run[1], run[2] = done, now
            rate = done / max(now - run[0], 1e-6)
            if self.tty:
                self._show_bar(thread, done, total, rate)
            else:
                self.stream.write(f"{self.prefix}restoring state: {done:,}/{total:,} records "
                                  f"({rate:,.0f} records/s)\n")
                self.stream.flush()
            if done >= total:
                self._finish(thread, now)

    def _show_bar(self, thread: str, done: int, total: int, rate: float) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        if self._progress is None:
            self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                      TextColumn("{task.fields[rate]:>12,.0f} records/s"), TimeElapsedColumn(),
                                      console=Console(file=self.stream, force_terminal=True))
            self._progress.start()
        bar = self._bars.get(thread)
        if bar is None:
            bar = self._bars[thread] = self._progress.add_task(f"{self.prefix}restoring {thread}", total=total,
                                                               rate=rate)
        self._progress.update(bar, completed=done, total=max(total, done), rate=rate)

    def _finish(self, thread: str, now: float) -> None:
        started, done, _ = self._runs.pop(thread)
        if self.tty and thread in self._bars:
            self._progress.update(self._bars.pop(thread), completed=done, total=done)
            if not self._bars:
                self._progress.stop()
                self._progress = None
        elapsed = max(now - started, 1e-6)
        self.stream.write(f"{self.prefix}restore done: {int(done):,} records in {elapsed:.1f} s "
                          f"({done / elapsed:,.0f} records/s)\n")
        self.stream.flush()

    def tick(self, running: bool, idle: float = 1.0) -> None:
        """Close restores that went quiet once the app runs (a total may be an estimate it never reaches)."""
        if not running or not self._runs:
            return
        now = time.monotonic()
        with self._lock:
            for thread in [t for t, run in self._runs.items() if now - run[2] >= idle]:
                self._finish(thread, now)


def _run_one(app: Any, summary_interval: float, prefix: str) -> int:
    from pystreams.runtime import State

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    restore = app.restore_listener = RestoreProgress(prefix)
    app.start()
    typer.echo(f"{prefix}running application.id={app.config.application_id} on {app.config.bootstrap_servers} "
               f"({app.config.processing_guarantee}, {app.config.num_stream_threads} thread(s), "
               f"state.dir={app.config.state_dir}); Ctrl-C stops", err=True)
    summary = Summary(app, prefix, summary_interval, restore)
    if summary_interval > 0:
        summary.start()
    try:
        while not stop.wait(0.2):
            restore.tick(app.state is State.RUNNING)
            if app.state in (State.ERROR, State.PENDING_ERROR, State.NOT_RUNNING):
                break
    finally:
        if summary_interval > 0:
            summary.stop()
        closed = app.close(60)
    failed = app.state is State.ERROR or bool(app.errors)
    if failed:
        typer.echo(f"{prefix}error: the application stopped after: {app.errors[0] if app.errors else 'an error'}",
                   err=True)
        return 1
    typer.echo(f"{prefix}closed cleanly ({app.metrics()['process-total']:,} records processed)"
               if closed else f"{prefix}close timed out", err=True)
    return 0 if closed else 1


def _run_instances(app_path: Path, sets: list[str], n: int, summary_interval: float) -> int:
    children: list[subprocess.Popen[bytes]] = []
    stopping = threading.Event()

    def forward(signum: int, _frame: Any) -> None:
        stopping.set()
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    try:
        for i in range(n):
            cmd = [sys.executable, "-c", "from pystreams.cli import main; main()", "run", str(app_path),
                   "--instances", "1",
                   "--summary-interval", str(summary_interval)]
            for item in sets:
                cmd += ["--set", item]
            children.append(subprocess.Popen(cmd, env={**os.environ, "PYSTREAMS_INSTANCE": str(i)}))
        codes = []
        for child in children:
            while child.poll() is None:
                time.sleep(0.2)
            codes.append(child.returncode)
        return max(codes) if any(codes) else 0
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait(10)


def run(app: Path = typer.Argument(..., exists=True, dir_okay=False, help="The Python script."),
        set_: Optional[list[str]] = typer.Option(None, "--set", help="A config key=value (repeatable)."),
        instances: int = typer.Option(1, "--instances", min=1, help="Processes of the app to run (one group)."),
        partitions: int = typer.Option(3, "--partitions", min=1,
                                       help="Partitions of topics created on the embedded broker."),
        summary_interval: float = typer.Option(1.0, "--summary-interval",
                                               help="Seconds between summary lines (0 = none).")) -> None:
    """Run the streams app of APP until Ctrl-C / SIGTERM (embedded broker when no bootstrap.servers)."""
    sets = list(set_ or [])
    broker = None
    try:
        overrides: dict[str, Any] = {**env_config(dict(os.environ)), **parse_sets(sets)}
        namespace = import_script(app)
        if not overrides.get("bootstrap.servers") and not script_config(namespace).get("bootstrap.servers"):
            broker = start_embedded_broker()
            typer.echo(f"no bootstrap.servers configured: started an embedded pystreams broker at "
                       f"{broker.bootstrap_servers} (data in {broker.data_dir})", err=True)
            overrides["bootstrap.servers"] = broker.bootstrap_servers
            sets.append(f"bootstrap.servers={broker.bootstrap_servers}")
            created = _create_dev_topics(build_app(app, namespace, overrides), broker.bootstrap_servers, partitions)
            if created:
                typer.echo(f"created topics {', '.join(created)} ({partitions} partitions) on the embedded "
                           "broker", err=True)
        instance = os.environ.get("PYSTREAMS_INSTANCE")
        prefix = f"[instance {instance}] " if instance is not None else ""
        if instances > 1:
            code = _run_instances(app, sets, instances, summary_interval)
        else:
            code = _run_one(build_app(app, namespace, overrides), summary_interval, prefix)
    except PystreamsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    finally:
        if broker is not None:
            broker.close()
    raise typer.Exit(code)
