"""`pystreams run app.py`: run the KafkaStreams / Topology / StreamsBuilder a script defines at module level.

Config, lowest to highest precedence: the script's KafkaStreams config, PYSTREAMS_<KEY> environment variables
(PYSTREAMS_BOOTSTRAP_SERVERS -> bootstrap.servers), `--set key=value`. application.id defaults to the script's
name. Without bootstrap.servers an embedded pystreams broker is started first (and missing source/sink topics
are created on it, GlobalKTable topics included). SIGINT/SIGTERM close the app cleanly (final commit,
checkpoints). A script's module-level KafkaStreams is run itself (its handler and listeners stay), with the
merged config applied before start(). `--instances N` runs N processes of the same app (one consumer group),
the unit of parallel work under the GIL, each with its own state.dir and application.server port
(pystreams/cli/run_instances.py).
"""
from __future__ import annotations

import os
import runpy
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Optional

import typer

from pystreams.cli.run_display import LiveDisplay, RestoreProgress, Summary
from pystreams.cli.run_instances import (
    check_instances,
    instance_overrides,
    parse_instances,
    run_instances,
)
from pystreams.errors import ConfigError, PystreamsError

ENV_PREFIX = "PYSTREAMS_"
#: set by `--instances N` for its children: the instance number and the parent's pid (not config keys)
_NOT_CONFIG = {"PYSTREAMS_INSTANCE", "PYSTREAMS_INSTANCE_PARENT"}


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


#: what a script that starts its KafkaStreams while `pystreams run` imports it is told
START_AT_IMPORT = ("the script calls KafkaStreams.start() when imported: `pystreams run` starts and closes the app "
                   "itself, with the merged config (--set, PYSTREAMS_*, the embedded broker); move start() under "
                   "`if __name__ == \"__main__\":` (that block does not run under `pystreams run`)")


def import_script(path: Path) -> dict[str, Any]:
    """Run the script once as a module (its `if __name__ == "__main__"` block does not run); a KafkaStreams.start()
    during the import is refused with START_AT_IMPORT before it connects anywhere."""
    from pystreams.runtime.kafka_streams import refusing_start

    sys.path.insert(0, str(path.resolve().parent))
    with refusing_start(START_AT_IMPORT):
        return runpy.run_path(str(path), run_name="__pystreams_run__")


class ScriptAppError(PystreamsError):
    """The script's KafkaStreams cannot be run by `pystreams run` as it is (e.g. it was started at import)."""


def script_apps(namespace: dict[str, Any]) -> list[Any]:
    """The script's module-level KafkaStreams objects (names starting with _ excluded), each once."""
    from pystreams.runtime import KafkaStreams

    return list({id(v): v for k, v in namespace.items()
                 if isinstance(v, KafkaStreams) and not k.startswith("_")}.values())


def script_config(namespace: dict[str, Any]) -> dict[str, Any]:
    """The config of the script's module-level KafkaStreams (empty when it only has a Topology)."""
    apps = script_apps(namespace)
    if len(apps) > 1:
        raise ScriptAppError(f"the script defines {len(apps)} KafkaStreams objects at module level; keep one "
                             "(or name the others with a leading _)")
    return dict(apps[0].config.originals) if apps else {}


def merged_config(path: Path, namespace: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """application.id from the script's name < the script's KafkaStreams config < overrides (env, --set)."""
    config: dict[str, Any] = {"application.id": path.stem.replace("_", "-")}
    config.update(script_config(namespace))
    config.update(overrides)
    return config


def adopt_app(app: Any, config: dict[str, Any]) -> Any:
    """The script's own KafkaStreams, with the merged config applied before start() (KafkaStreams.reconfigure
    validates it and checks the serdes): everything the script set on it (uncaught-exception handler, state
    listener, restore listener, ...) stays."""
    from pystreams.runtime import State

    if app.state is not State.CREATED:
        raise ScriptAppError(f"the script's KafkaStreams is already {app.state.name} after import: `pystreams "
                             "run` starts and closes it itself; move start() under `if __name__ == "
                             "\"__main__\":` (that block does not run under `pystreams run`)")
    app.reconfigure(config)
    return app


def build_app(path: Path, namespace: dict[str, Any], overrides: dict[str, Any]) -> Any:
    """The (not started) KafkaStreams to run: the script's own one with the merged config, or a new one for the
    script's Topology / StreamsBuilder."""
    from pystreams.runtime import KafkaStreams

    config = merged_config(path, namespace, overrides)
    apps = script_apps(namespace)
    if apps:
        # reconfigure() checks the config against the topology, ensure.explicit.internal.resource.naming included
        return adopt_app(apps[0], config)
    from pystreams.cli.describe_cmd import find_topology

    return KafkaStreams(find_topology(namespace, config), config)


def start_embedded_broker() -> Any:
    """An EmbeddedBroker (in its own session, so Ctrl-C reaches only the app, which stops it after closing)."""
    from pystreams.broker import EmbeddedBroker

    return EmbeddedBroker(config={"group.initial.rebalance.delay.ms": "0"}).start()


def dev_topics(topology: Any) -> list[str]:
    """The app's own (not internal) topics in topology order: every sub-topology's sources and sinks and every
    global store's (GlobalKTable's) source topic."""
    wanted: list[str] = []
    for sub in topology.subtopologies():
        wanted.extend(list(sub.source_topics) + list(sub.sink_topics))
    for source, _processor, _store in topology.global_subtopology_nodes():
        wanted.extend(topology.node(source).topics)
    return [t for i, t in enumerate(wanted) if t not in wanted[:i] and not topology.is_internal_topic(t)]


def _create_dev_topics(app: Any, bootstrap: str, partitions: int) -> list[str]:
    """On the embedded broker only: create the app's missing source, sink and global topics (a dev convenience)."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    existing = set(admin.list_topics(timeout=10).topics)
    wanted = [t for t in dev_topics(app.topology) if t not in existing]
    if wanted:
        for fut in admin.create_topics([NewTopic(t, partitions, 1) for t in wanted]).values():
            fut.result(15)
    return wanted


class _BothRestoreListeners:
    """The CLI's restore progress and the script's own restore listener, both told of every restored batch."""

    def __init__(self, progress: RestoreProgress, own: Any) -> None:
        self.progress, self.own = progress, own

    def __call__(self, thread: str, done: int, total: int) -> None:
        self.progress(thread, done, total)
        self.own(thread, done, total)


def _start(app: Any) -> None:
    """app.start(); a failed start closes what it opened (its admin client would log on after the broker is
    gone, and the HTTP server would keep its port)."""
    try:
        app.start()
    except BaseException:
        app.close(10)
        raise


def _run_one(app: Any, summary_interval: float, prefix: str) -> int:
    from pystreams.runtime import State

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    display = LiveDisplay.for_this_process()
    restore = RestoreProgress(prefix, display=display)
    own = app.restore_listener  # the script's own listener keeps being called
    app.restore_listener = restore if own is None else _BothRestoreListeners(restore, own)
    if display is not None:
        display.start()  # before start(): what the app's tasks print goes above the summary line
    try:
        closed, handled = _run_started(app, summary_interval, prefix, stop, restore, display)
    finally:
        if display is not None:
            display.stop()
    failed = app.state is State.ERROR or len(app.errors) > handled
    if failed:
        error = app.errors[handled] if len(app.errors) > handled else app.errors[-1] if app.errors else None
        typer.echo(f"{prefix}error: the application stopped after: {error or 'an error'}", err=True)
        return 1
    replaced = f"; {handled} stream thread(s) replaced after an error" if handled else ""
    try:
        processed = f"{app.metrics()['process-total']:,} records processed"
    except Exception as e:  # noqa: BLE001 - the app closed; a metrics failure must not turn that into a crash
        processed = f"records processed unknown: {e}"
    typer.echo(f"{prefix}closed cleanly ({processed}{replaced})" if closed else f"{prefix}close timed out", err=True)
    return 0 if closed else 1


def _run_started(app: Any, summary_interval: float, prefix: str, stop: threading.Event, restore: RestoreProgress,
                 display: LiveDisplay | None) -> tuple[bool, int]:
    """Start the app, run it until stop is set or it fails, close it: (closed in time, errors already handled)."""
    from pystreams.runtime import State

    _start(app)
    server = f", application.server={app.config.application_server}" if app.config.application_server else ""
    typer.echo(f"{prefix}running application.id={app.config.application_id} on {app.config.bootstrap_servers} "
               f"({app.config.processing_guarantee}, {app.config.num_stream_threads} thread(s), "
               f"state.dir={app.config.state_dir}{server}); Ctrl-C stops", err=True)
    summary = Summary(app, prefix, summary_interval, restore, display)
    if summary_interval > 0:
        summary.start()
    handled = 0
    parent = int(os.environ.get("PYSTREAMS_INSTANCE_PARENT") or 0)
    try:
        while not stop.wait(0.2):
            restore.tick(app.state is State.RUNNING)
            if app.state in (State.ERROR, State.PENDING_ERROR, State.NOT_RUNNING):
                break
            if parent and os.getppid() != parent:  # an --instances child outlives no killed parent
                typer.echo(f"{prefix}the `pystreams run --instances` process that started this instance is gone: "
                           "closing", err=True)
                break
    finally:
        if summary_interval > 0:
            summary.stop()
        # errors so far left the client running: the uncaught-exception handler replaced their threads
        handled = len(app.errors) if app.state.is_running_or_rebalancing() else 0
        closed = app.close(60)
    return closed, handled


def run(app: Path = typer.Argument(..., exists=True, dir_okay=False, metavar="APP",
                                   help="The Python script defining a KafkaStreams, Topology or StreamsBuilder."),
        set_: Optional[list[str]] = typer.Option(
            None, "--set", metavar="KEY=VALUE",
            help="A Kafka Streams config key (repeatable), e.g. --set bootstrap.servers=HOST:PORT; wins over "
                 "PYSTREAMS_<KEY> environment variables and the script's own config."),
        instances: str = typer.Option(
            "1", "--instances", metavar="N",
            help="Processes of the app to run (one consumer group). With N > 1, instance i (0-based) uses "
                 "state.dir <state.dir>/instance-<i> and, when application.server is host:port, host:port+i "
                 "(a metrics.http.port P: P+i)."),
        partitions: int = typer.Option(3, "--partitions", min=1, metavar="N",
                                       help="Partitions of topics created on the embedded broker."),
        summary_interval: float = typer.Option(1.0, "--summary-interval", metavar="SECONDS",
                                               help="Seconds between summary lines (0 = none).")) -> None:
    """Run the streams app of APP until Ctrl-C / SIGTERM (embedded broker when no bootstrap.servers)."""
    sets = list(set_ or [])
    broker = None
    instance = os.environ.get("PYSTREAMS_INSTANCE")
    prefix = f"[instance {instance}] " if instance is not None else ""
    try:
        n = parse_instances(instances)
        overrides: dict[str, Any] = {**env_config(dict(os.environ)), **parse_sets(sets)}
        namespace = import_script(app)
        if not overrides.get("bootstrap.servers") and not script_config(namespace).get("bootstrap.servers"):
            broker = start_embedded_broker()
            typer.echo(f"no bootstrap.servers configured: started an embedded pystreams broker at "
                       f"{broker.bootstrap_servers} (data in {broker.data_dir}; it stops with this command). "
                       f"Clients reach it with bootstrap.servers={broker.bootstrap_servers}, e.g. `pystreams "
                       f"produce -b {broker.bootstrap_servers} <topic>`", err=True)
            overrides["bootstrap.servers"] = broker.bootstrap_servers
            sets.append(f"bootstrap.servers={broker.bootstrap_servers}")
            created = _create_dev_topics(build_app(app, namespace, overrides), broker.bootstrap_servers, partitions)
            if created:
                typer.echo(f"created topics {', '.join(created)} ({partitions} partitions) on the embedded "
                           "broker", err=True)
        if n > 1:
            code = _run_many(app, namespace, overrides, sets, n, summary_interval)
        else:
            code = _run_one(build_app(app, namespace, overrides), summary_interval, prefix)
    except PystreamsError as exc:
        typer.echo(f"{prefix}error: {exc}", err=True)
        raise typer.Exit(2) from exc
    finally:
        if broker is not None:
            broker.close()
    raise typer.Exit(code)


def _run_many(app: Path, namespace: dict[str, Any], overrides: dict[str, Any], sets: list[str], n: int,
              summary_interval: float) -> int:
    """--instances N > 1: validate the merged config here, then one child per instance with its own keys."""
    config = build_app(app, namespace, overrides).config
    check_instances(config, n)
    per_instance = [instance_overrides(config, n, i) for i in range(n)]
    for i, extra in enumerate(per_instance):
        typer.echo(f"instance {i}: " + ", ".join(f"{k}={v}" for k, v in extra.items()), err=True)
    return run_instances(app, sets, per_instance, summary_interval)
