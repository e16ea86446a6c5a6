"""Which process runs each system, and the one-time preparation (javac, Quix Streams' venv)."""
from __future__ import annotations

import sys
from pathlib import Path

from bench.streams.harness import SystemSpec
from bench.streams.systems.common import system_argv

SYSTEMS = ("pystreams", "kafka-streams", "quix", "faust", "handwritten")
ROOT = Path(__file__).resolve().parents[3]
_MODULES = {"pystreams": "bench.streams.systems.pystreams_app", "faust": "bench.streams.systems.faust_app",
            "handwritten": "bench.streams.systems.handwritten", "quix": "bench.streams.systems.quix_app"}


def prepare(system: str) -> str:
    """Build what a system needs before the clock runs; returns a note for the log ("" if none)."""
    if system == "kafka-streams":
        from bench.streams.systems import kstreams

        return f"compiled {kstreams.compile_bench()}"
    if system == "quix":
        from bench.streams.systems import quix_venv

        return f"Quix Streams venv {quix_venv.ensure()}"
    return ""


def build_spec(system: str, *, profile: str = "", **kwargs: object) -> SystemSpec:
    """The argv for system on one workload (kwargs: workload, bootstrap, source, sink, app_id,
    state_dir, commit_interval_ms)."""
    env = {"PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    if system == "kafka-streams":
        from bench.streams.systems import kstreams

        return SystemSpec(system, kstreams.command(**kwargs), {})  # type: ignore[arg-type]
    if system == "quix":
        from bench.streams.systems import quix_venv

        python = str(quix_venv.python())
    else:
        python = sys.executable
    argv = system_argv(_MODULES[system], python, **kwargs)  # type: ignore[arg-type]
    if profile:
        argv += ["--profile", profile]
    return SystemSpec(system, argv, env)
