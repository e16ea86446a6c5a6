"""The Java Kafka Streams oracle, from Python: real Kafka Streams decides the expected outputs.

    describe_java("wordcount")                       # Topology.describe() text
    drive_java("wordcount", [{"topic": "text-input", "value": "a b a", "timestamp": 5}])
    # -> [{"topic": "word-counts-output", "key": "a", "value": 1, "timestamp": 5, "headers": {}}, ...]

Topologies are Java classes in tests/reference/java/pystreams/oracle/topologies/ (one class
implementing OracleTopology each; see OracleTopology.java and WordCount.java). The sources are
compiled with javac against the cached jars into .cache/reference/classes/<sha256 of sources>/,
once per change of the sources; every call is one JVM (about a second).

Record and output JSON forms (documented in Driver.java): key/value typed by the codecs the Java
topology declares per topic (string, long, integer, double, bytes as base64 text, null as None);
bytes given here for key or value are base64-encoded for you. Outputs come in the order the
inputs caused them; records caused by one input are grouped per output topic in declaration order.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.reference import jvm

JAVA_SOURCES = Path(__file__).resolve().parent / "java"
CLASSES = jvm.CACHE / "classes"
MAIN_CLASS = "pystreams.oracle.Oracle"


class OracleError(RuntimeError):
    """The Java oracle failed (compile error, exception in the topology); carries its stderr."""


class OracleInputError(OracleError, ValueError):
    """The oracle refused its input (unknown topology or topic, bad JSON, wrong type for a codec)."""


def sources_digest() -> str:
    """sha256 over the Java sources' paths and contents, plus the Kafka version compiled against."""
    digest = hashlib.sha256(jvm.KAFKA_VERSION.encode())
    for path in sorted(JAVA_SOURCES.rglob("*.java")):
        digest.update(str(path.relative_to(JAVA_SOURCES)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def compile_oracle() -> Path:
    """The compiled classes directory; runs javac only when the sources changed.

    Output goes to a directory named by the sources' digest, written under a temp name and renamed
    into place, so concurrent test runs never see half-compiled classes.
    """
    jvm.require_jars()
    target = CLASSES / sources_digest()
    if (target / ".complete").exists():
        return target
    sources = sorted(str(p) for p in JAVA_SOURCES.rglob("*.java"))
    if not sources:
        raise OracleError(f"no Java sources under {JAVA_SOURCES}")
    scratch = CLASSES / f"{target.name}.tmp-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    result = subprocess.run([jvm.javac(), "-J-XX:TieredStopAtLevel=1", "-nowarn", "-encoding",
                             "UTF-8", "-d", str(scratch), "-cp", jvm.CLASSPATH, *sources],
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        shutil.rmtree(scratch, ignore_errors=True)
        raise OracleError(f"javac failed on {JAVA_SOURCES}:\n{result.stdout}{result.stderr}")
    (scratch / ".complete").touch()
    try:
        scratch.rename(target)
    except OSError:  # another run compiled the same sources first
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def _run(*args: str, stdin: str | None = None, timeout: float = 120.0) -> str:
    classes = compile_oracle()
    command = jvm.java_command(MAIN_CLASS, *args, heap="512m", extra_classpath=[classes])
    result = subprocess.run(command, input=stdin, capture_output=True, text=True,
                            timeout=timeout, stdin=None if stdin is not None else subprocess.DEVNULL)
    if result.returncode == 2:
        raise OracleInputError(result.stderr.strip())
    if result.returncode != 0:
        raise OracleError(f"oracle {' '.join(args[:2])} exited with {result.returncode}:\n"
                          f"{result.stderr}")
    return result.stdout


def list_java() -> list[str]:
    """Names of the Java topologies the oracle knows."""
    return _run("list").split()


def describe_java(name: str, config: dict[str, Any] | None = None) -> str:
    """Kafka Streams' Topology.describe() of the named Java topology, verbatim."""
    return _run(name, "describe", json.dumps(config or {}))


def topics_java(name: str) -> dict[str, list[dict[str, str]]]:
    """The topology's declared topics: {"inputs": [{"topic", "key", "value"}], "outputs": [...]}."""
    result: dict[str, list[dict[str, str]]] = json.loads(_run(name, "topics"))
    return result


def drive_java(name: str, records: list[dict[str, Any]],
               config: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Run the named Java topology in a TopologyTestDriver over records (and commands such as
    {"advance_wall_clock_ms": N}); returns its output records as dicts."""
    lines = "".join(json.dumps(_encode(record), separators=(",", ":")) + "\n"
                    for record in records)
    out = _run(name, "drive", json.dumps(config or {}), stdin=lines)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def _encode(record: dict[str, Any]) -> dict[str, Any]:
    if not any(isinstance(record.get(f), (bytes, bytearray)) for f in ("key", "value")):
        return record
    encoded = dict(record)
    for field in ("key", "value"):
        if isinstance(record.get(field), (bytes, bytearray)):
            encoded[field] = base64.b64encode(record[field]).decode("ascii")
    return encoded
