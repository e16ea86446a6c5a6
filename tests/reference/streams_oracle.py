"""The Java Kafka Streams oracle, from Python: real Kafka Streams decides the expected outputs.

    describe_java("wordcount")                       # Topology.describe() text
    drive_java("wordcount", [{"topic": "text-input", "value": "a b a", "timestamp": 5}])
    # -> [{"topic": "word-counts-output", "key": "a", "value": 1, "timestamp": 5, "headers": {}}, ...]

Topologies are Java classes in tests/reference/java/pystreams/oracle/topologies/ (one class
implementing OracleTopology each; see OracleTopology.java and WordCount.java). The sources are
compiled with javac against the cached jars and packed into
.cache/reference/oracle/<sha256 of sources>/oracle.jar, once per change of the sources (a jar,
not a directory, so class-data sharing can archive it: see cds.py). Every call is one JVM,
~0.3-0.7 s with the archive on an idle machine, 1-2.5 s under load.

Record and output JSON forms (documented in Driver.java): key/value typed by the codecs the Java
topology declares per topic (string, long, integer, double, bytes as base64 text, null as None);
bytes given here for key or value are base64-encoded for you. Outputs come in the order the
inputs caused them; records caused by one input are grouped per output topic in declaration order,
or, with config {"oracle.output.order": "global"}, in the exact order they were produced.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

from tests.reference import cds, jvm

JAVA_SOURCES = Path(__file__).resolve().parent / "java"
BUILDS = jvm.CACHE / "oracle"
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
    """The oracle's jar; runs javac only when the sources changed.

    Output goes to a directory named by the sources' digest, written under a temp name and renamed
    into place, so concurrent test runs never see half-compiled classes.
    """
    jvm.require_jars()
    target = BUILDS / sources_digest()
    if (target / "oracle.jar").exists():
        return target / "oracle.jar"
    sources = sorted(str(p) for p in JAVA_SOURCES.rglob("*.java"))
    if not sources:
        raise OracleError(f"no Java sources under {JAVA_SOURCES}")
    scratch = BUILDS / f"{target.name}.tmp-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    classes = scratch / "classes"
    result = subprocess.run([jvm.javac(), "-J-XX:TieredStopAtLevel=1", "-nowarn", "-encoding",
                             "UTF-8", "-d", str(classes), "-cp", jvm.CLASSPATH, *sources],
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        shutil.rmtree(scratch, ignore_errors=True)
        raise OracleError(f"javac failed on {JAVA_SOURCES}:\n{result.stdout}{result.stderr}")
    with zipfile.ZipFile(scratch / "oracle.jar", "w") as jar:
        for path in sorted(classes.rglob("*.class")):
            jar.write(path, path.relative_to(classes).as_posix())
    shutil.rmtree(classes)
    try:
        scratch.rename(target)
    except OSError:  # another run compiled the same sources first
        shutil.rmtree(scratch, ignore_errors=True)
    return target / "oracle.jar"


def _run(*args: str, stdin: str | None = None, timeout: float = 120.0) -> str:
    jar = compile_oracle()
    archive = cds.archive_for(f"oracle-{args[1] if len(args) > 1 else args[0]}", [jar])
    command = jvm.java_command(MAIN_CLASS, *args, heap="512m", extra_classpath=[jar],
                               extra_flags=archive.flags)
    returncode = None
    try:
        result = subprocess.run(command, input=stdin, capture_output=True, text=True,
                                timeout=timeout,
                                stdin=None if stdin is not None else subprocess.DEVNULL)
        returncode = result.returncode
    finally:
        archive.finish(returncode)
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
    """Run the named Java topology in a TopologyTestDriver over records (and the commands
    {"advance_wall_clock_ms": N} and {"read_store": NAME}); returns its output records, and a
    {"store": NAME, "entries": [...]} dict where a read_store command was, as dicts."""
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
