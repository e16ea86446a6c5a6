"""Kafka Streams 4.1.1 (Java): compile bench/streams/java/ with javac against the reference jars
(.cache/reference/lib, `scripts/reference.sh fetch`) into a jar keyed by the sources' digest, and
the command that runs it (full JIT, G1, 1 GiB heap: a throughput run, not a short-lived tool)."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SOURCES = ROOT / "bench" / "streams" / "java"
BUILDS = ROOT / ".cache" / "bench" / "java"
MAIN_CLASS = "pystreams.bench.StreamsBench"


def _jvm():  # type: ignore[no-untyped-def]
    import sys

    sys.path.insert(0, str(ROOT))
    from tests.reference import jvm

    return jvm


def compile_bench() -> Path:
    """The bench jar; javac runs only when the sources (or the Kafka version) changed."""
    jvm = _jvm()
    jvm.require_jars()
    digest = hashlib.sha256(jvm.KAFKA_VERSION.encode())
    sources = sorted(SOURCES.rglob("*.java"))
    for path in sources:
        digest.update(str(path.relative_to(SOURCES)).encode() + b"\0" + path.read_bytes() + b"\0")
    target = BUILDS / digest.hexdigest()[:16] / "streams-bench.jar"
    if target.exists():
        return target
    scratch = target.parent.with_name(f"{target.parent.name}.tmp-{os.getpid()}")
    shutil.rmtree(scratch, ignore_errors=True)
    classes = scratch / "classes"
    classes.mkdir(parents=True)
    result = subprocess.run([jvm.javac(), "-nowarn", "-encoding", "UTF-8", "-d", str(classes), "-cp",
                             jvm.CLASSPATH, *map(str, sources)], capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        shutil.rmtree(scratch, ignore_errors=True)
        raise RuntimeError(f"javac failed on {SOURCES}:\n{result.stdout}{result.stderr}")
    with zipfile.ZipFile(scratch / "streams-bench.jar", "w") as jar:
        for path in sorted(classes.rglob("*.class")):
            jar.write(path, path.relative_to(classes).as_posix())
    shutil.rmtree(classes)
    try:
        scratch.rename(target.parent)
    except OSError:  # compiled concurrently by another run
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def command(*, workload: str, bootstrap: str, source: str, sink: str, app_id: str, state_dir: str,
            commit_interval_ms: int) -> list[str]:
    jvm = _jvm()
    return jvm.java_command(MAIN_CLASS, "--bootstrap", bootstrap, "--workload", workload, "--input", source,
                            "--output", sink, "--app-id", app_id, "--state-dir", state_dir,
                            "--commit-interval-ms", str(commit_interval_ms), heap="1g", fast_start=False,
                            extra_classpath=[compile_bench()], jvm_flags=["-XX:+UseG1GC"])
