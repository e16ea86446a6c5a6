"""Which process runs each system, and the one-time preparation (javac, Quix Streams' venv)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench.streams.harness import SystemSpec
from bench.streams.systems.common import system_argv

SYSTEMS = ("pystreams", "kafka-streams", "quix", "quix-fqb50", "faust", "handwritten")
ROOT = Path(__file__).resolve().parents[3]
# Installed packages (confluent-kafka, Quix Streams, Faust) start from their .pyc files; our editable checkout
# would be compiled from source on every start when PYTHONDONTWRITEBYTECODE is set (as on the shared dev
# machine: ~0.2 s of pystreams' start-up). So every Python system runs with bytecode cached here, compiled
# before the clock runs, as a pip-installed pystreams would be.
PYCACHE = ROOT / ".cache" / "bench" / "pycache"
PYTHON_ENV = {"PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "",
              "PYTHONPYCACHEPREFIX": str(PYCACHE)}
_MODULES = {"pystreams": "bench.streams.systems.pystreams_app", "faust": "bench.streams.systems.faust_app",
            "handwritten": "bench.streams.systems.handwritten", "quix": "bench.streams.systems.quix_app",
            "quix-fqb50": "bench.streams.systems.quix_app"}
#: quix-fqb50: Quix Streams with its consumer's fetch.queue.backoff.ms at 50 ms, as pystreams and the loop run
#: (librdkafka's default 1000 ms idles a consumer whose prefetch queue filled; docs/benchmarks.md)
_ENV = {"quix-fqb50": {"BENCH_FETCH_QUEUE_BACKOFF_MS": "50"}}


def prepare(system: str) -> str:
    """Build what a system needs before the clock runs; returns a note for the log ("" if none)."""
    if system == "kafka-streams":
        from bench.streams.systems import kstreams

        return f"compiled {kstreams.compile_bench()}"
    if system in ("quix", "quix-fqb50"):
        from bench.streams.systems import quix_venv

        note = f"Quix Streams venv {quix_venv.ensure()}"
        _compile_sources(str(quix_venv.python()))
        return note
    _compile_sources(sys.executable)
    if system == "pystreams":
        _compile_codecs(sys.executable)
    return ""


def _compile_sources(python: str) -> None:
    """Byte-compile pystreams and bench/ into PYCACHE for python (what pip does for an installed package)."""
    env = {**os.environ, **PYTHON_ENV}
    code = ("import compileall; [compileall.compile_dir(d, quiet=2, workers=1) "
            f"for d in ({str(ROOT / 'pystreams')!r}, {str(ROOT / 'bench')!r})]")
    subprocess.run([python, "-c", code], env=env, check=False, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=600)


def _compile_codecs(python: str) -> None:
    """Fill pystreams' Kafka codec cache (broker/protocol/code_cache.py, under PYCACHE like the bytecode) for
    the client side, so no measured run pays for generating codecs: the same footing as compiled bytecode."""
    env = {**os.environ, **PYTHON_ENV}
    code = ("from pystreams.broker.protocol import registry as r\n"
            "for k, (lo, hi) in r.SUPPORTED_VERSIONS.items():\n"
            "    for v in range(lo, hi + 1):\n"
            "        r.request_encoder(k, v); r.response_decoder(k, v)\n")
    subprocess.run([python, "-c", code], env=env, check=False, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=600)


def build_spec(system: str, *, profile: str = "", **kwargs: object) -> SystemSpec:
    """The argv for system on one workload (kwargs: workload, bootstrap, source, sink, app_id,
    state_dir, commit_interval_ms)."""
    env = {**PYTHON_ENV, **_ENV.get(system, {})}
    if system == "kafka-streams":
        from bench.streams.systems import kstreams

        return SystemSpec(system, kstreams.command(**kwargs), {})  # type: ignore[arg-type]
    if system in ("quix", "quix-fqb50"):
        from bench.streams.systems import quix_venv

        python = str(quix_venv.python())
    else:
        python = sys.executable
    argv = system_argv(_MODULES[system], python, **kwargs)  # type: ignore[arg-type]
    if profile:
        argv += ["--profile", profile]
    return SystemSpec(system, argv, env)
