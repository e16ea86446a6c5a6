"""The command line every system process takes (stdlib only: Quix Streams runs in its own venv)."""
from __future__ import annotations

import argparse
import signal
import threading

#: Exit code of a system process that cannot run a workload at all (reported "not available").
NOT_AVAILABLE = 3


def parse_args(prog: str, argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--workload", required=True, choices=("stateless", "count", "window"))
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--app-id", required=True)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--commit-interval-ms", type=int, default=1000)
    parser.add_argument("--profile", default="", help="write cProfile stats of the processing thread here")
    return parser.parse_args(argv)


def stop_event() -> threading.Event:
    """Set on SIGTERM/SIGINT: the harness stops a system with SIGTERM and expects a clean close."""
    event = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: event.set())
    return event


def system_argv(module: str, python: str, *, workload: str, bootstrap: str, source: str, sink: str,
                app_id: str, state_dir: str, commit_interval_ms: int) -> list[str]:
    """argv that runs `python -m module` with the common arguments."""
    return [python, "-m", module, "--bootstrap", bootstrap, "--workload", workload, "--input", source,
            "--output", sink, "--app-id", app_id, "--state-dir", state_dir,
            "--commit-interval-ms", str(commit_interval_ms)]
