"""`pystreams run --instances N`: N processes of one app (one consumer group), each a `pystreams run` child.

Kafka Streams refuses two instances on one state directory, and two HTTP servers cannot share a port, so child i
(0-based) of N > 1 gets `state.dir=<state.dir>/instance-<i>` and, when application.server is host:port,
`application.server=host:<port+i>` (and `metrics.http.port=<port+i>` when that is set and not 0). The names are stable, so restarting with the same N finds each instance's
state (checkpoints, standbys) again. A single instance (N = 1) keeps state.dir and application.server as set.
A child whose parent is gone (killed) closes cleanly by itself instead of running on unsupervised.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import typer

from pystreams.cli.run_display import InstancesView, LiveDisplay
from pystreams.errors import ConfigError

INSTANCE_DIR = "instance-{}"  # under the configured state.dir
_MAX_PORT = 65535


class InstancesError(ConfigError):
    """A bad --instances value, or one the app's config cannot be split into (e.g. ports past 65535)."""


def parse_instances(value: str) -> int:
    """--instances: a whole number >= 1 (the number of processes to run)."""
    try:
        n = int(str(value).strip())
    except ValueError:
        raise InstancesError(f"--instances expects a whole number of processes (e.g. --instances 3), "
                             f"got {value!r}") from None
    if n < 1:
        raise InstancesError(f"--instances must be at least 1 (the number of processes of the app to run), got {n}")
    return n


def instance_overrides(config: Any, n: int, i: int) -> dict[str, str]:
    """The keys child i of n runs with on top of the app's config (a StreamsConfig): its own state.dir, and its
    own application.server and metrics.http.port (port+i; metrics.http.port 0 already means a free port each)."""
    if n == 1:
        return {}
    out = {"state.dir": os.path.join(config.state_dir, INSTANCE_DIR.format(i))}
    if config.application_server:
        host, port = _host_port(config.application_server)
        out["application.server"] = f"{host}:{port + i}"
    metrics = _metrics_port(config)
    if metrics:
        out["metrics.http.port"] = str(metrics + i)
    return out


def check_instances(config: Any, n: int) -> None:
    """Refuse an --instances value the app's ports cannot be split into (instance i listens on port+i)."""
    if n == 1:
        return
    if config.application_server:
        _host, port = _host_port(config.application_server)
        if port == 0:
            raise InstancesError("application.server port 0 cannot be told to other instances: set a real port "
                                 "(instance i of --instances N listens on port+i)")
        _check_range("application.server", config.application_server, port, n)
    metrics = _metrics_port(config)
    if metrics:
        _check_range("metrics.http.port", str(metrics), metrics, n)


def _check_range(key: str, value: str, port: int, n: int) -> None:
    if port + n - 1 > _MAX_PORT:
        raise InstancesError(f"--instances {n} with {key}={value} needs ports {port}..{port + n - 1}, past "
                             f"{_MAX_PORT}: set a lower {key} port (instance i listens on port+i)")


def _metrics_port(config: Any) -> int:
    """metrics.http.port as a number (0 when unset or 0); the runtime refuses bad values with its own error."""
    value = config.get("metrics.http.port")
    try:
        return int(value) if value not in (None, "") else 0
    except (TypeError, ValueError):
        return 0


def _host_port(server: str) -> tuple[str, int]:
    host, _, port = server.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"application.server must be host:port (e.g. 127.0.0.1:7070), got {server!r}")
    return host, int(port)


def run_instances(app_path: Path, sets: list[str], per_instance: list[dict[str, str]],
                  summary_interval: float) -> int:
    """Start one `pystreams run` child per entry of per_instance and wait for all; SIGINT/SIGTERM go to every
    child (each closes cleanly). A child that stops early is reported; the others keep running (the group gives
    them its tasks). Exit code: 0 when every child exited 0, else a failed child's (1 when a signal killed it)."""
    children: list[subprocess.Popen[bytes]] = []
    lock = threading.Lock()

    def forward(signum: int, _frame: Any) -> None:
        with lock:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
    old = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    display = LiveDisplay.for_this_process()  # a terminal: one summary line per instance at the bottom
    view = InstancesView(display, len(per_instance)) if display is not None else None
    pipe = subprocess.PIPE if view is not None else None
    if display is not None:
        display.start()
    try:
        for i, extra in enumerate(per_instance):
            cmd = [sys.executable, "-c", "from pystreams.cli import main; main()", "run", str(app_path),
                   "--instances", "1", "--summary-interval", str(summary_interval)]
            for item in sets + [f"{k}={v}" for k, v in extra.items()]:  # the instance's own keys last: they win
                cmd += ["--set", item]
            with lock:
                env = {**os.environ, "PYSTREAMS_INSTANCE": str(i), "PYSTREAMS_INSTANCE_PARENT": str(os.getpid())}
                children.append(subprocess.Popen(cmd, env=env, stdout=pipe, stderr=pipe))
            if view is not None:
                view.pump(children[-1].stdout)
                view.pump(children[-1].stderr)
        codes: dict[int, int] = {}
        while len(codes) < len(children):
            for i, child in enumerate(children):
                if i not in codes and child.poll() is not None:
                    codes[i] = child.returncode
                    live = len(children) - len(codes)
                    if child.returncode != 0 and live:
                        typer.echo(f"instance {i} exited with code {child.returncode}; {live} other instance(s) "
                                   "keep running", err=True)
            time.sleep(0.2)
        return next((code if code > 0 else 1 for code in codes.values() if code), 0)
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait(10)
        if view is not None:
            view.drain()
        if display is not None:
            display.stop()
        for sig, handler in old.items():
            signal.signal(sig, handler)
