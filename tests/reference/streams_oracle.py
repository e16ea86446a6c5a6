"""The Java Kafka Streams oracle, from Python: real Kafka Streams decides the expected outputs.

    describe_java("wordcount")                       # Topology.describe() text
    drive_java("wordcount", [{"topic": "text-input", "value": "a b a", "timestamp": 5}])
    # -> [{"topic": "word-counts-output", "key": "a", "value": 1, "timestamp": 5, "headers": {}}, ...]

Topologies are Java classes in tests/reference/java/pystreams/oracle/topologies/ (one class
implementing OracleTopology each; see OracleTopology.java and WordCount.java). The sources are
compiled with javac against the cached jars and packed into
.cache/reference/oracle/<sha256 of sources>/oracle.jar, once per change of the sources (a jar,
not a directory, so class-data sharing can archive it: see cds.py). The calls of a process go to
one JVM running `Oracle serve` (started at the first call, ended when the process exits or its
stdin closes): a JVM per call took ~0.3-0.7 s with the archive on an idle machine, 1-2.5 s under
load, a request to the running one takes milliseconds. Each request gets the exit status and
output the command would have had on its own; PYSTREAMS_ORACLE_SERVER=0 runs a JVM per call.

Record and output JSON forms (documented in Driver.java): key/value typed by the codecs the Java
topology declares per topic (string, long, integer, double, bytes as base64 text, null as None);
bytes given here for key or value are base64-encoded for you. Outputs come in the order the
inputs caused them; records caused by one input are grouped per output topic in declaration order,
or, with config {"oracle.output.order": "global"}, in the exact order they were produced.
"""
from __future__ import annotations

import atexit
import base64
import hashlib
import json
import os
import select
import shutil
import subprocess
import tempfile
import threading
import time
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


class _Server:
    """One `Oracle serve` JVM: a request line in, a response line out, one request at a time."""

    def __init__(self) -> None:
        jar = compile_oracle()
        self.archive = cds.archive_for("oracle-serve", [jar])
        self.log = tempfile.TemporaryFile()  # the JVM's own stderr (log4j, JVM warnings)
        self.process = subprocess.Popen(
            jvm.java_command(MAIN_CLASS, "serve", heap="512m", extra_classpath=[jar],
                             extra_flags=self.archive.flags),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log)

    def request(self, args: tuple[str, ...], stdin: str | None, timeout: float) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        line = json.dumps({"args": list(args), "stdin": stdin}, separators=(",", ":")) + "\n"
        self.process.stdin.write(line.encode())
        self.process.stdin.flush()
        deadline = time.monotonic() + timeout
        while not select.select([self.process.stdout], [], [], max(0.0, deadline - time.monotonic()))[0]:
            if time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(["Oracle serve", *args], timeout)
        answer = self.process.stdout.readline()
        if not answer:
            raise OracleError(f"oracle serve exited with {self.process.wait(10)} during "
                              f"{' '.join(args[:2])}:\n{self.log_tail()}")
        response: dict[str, Any] = json.loads(answer)
        return response

    def log_tail(self, size: int = 4000) -> str:
        self.log.seek(0, os.SEEK_END)
        self.log.seek(max(0, self.log.tell() - size))
        return self.log.read().decode(errors="replace")

    def close(self) -> None:
        """End of stdin ends the JVM (which then dumps its class-data archive, the first time)."""
        if self.process.poll() is None:
            try:
                assert self.process.stdin is not None
                self.process.stdin.close()
                self.process.wait(30)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait(10)
        self.archive.finish(self.process.returncode)
        self.log.close()


_server: _Server | None = None
_server_lock = threading.Lock()


@atexit.register
def _stop_server() -> None:
    global _server
    with _server_lock:
        if _server is not None:
            _server.close()
            _server = None


def _serve(args: tuple[str, ...], stdin: str | None, timeout: float) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of the command, from this process's oracle JVM."""
    global _server
    with _server_lock:
        if _server is not None and _server.process.poll() is not None:
            _server.close()
            _server = None
        if _server is None:
            _server = _Server()
        try:
            response = _server.request(args, stdin, timeout)
        except BaseException:
            _server.process.kill()  # its state is unknown (a timeout, a broken pipe): the next call starts anew
            _server.close()
            _server = None
            raise
    return int(response["code"]), str(response["stdout"]), str(response["stderr"])


def _run_once(args: tuple[str, ...], stdin: str | None, timeout: float) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of the command in a JVM of its own."""
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
    return result.returncode, result.stdout, result.stderr


def _run(*args: str, stdin: str | None = None, timeout: float = 120.0) -> str:
    one_jvm_per_call = os.environ.get("PYSTREAMS_ORACLE_SERVER", "1") == "0"
    code, out, err = (_run_once if one_jvm_per_call else _serve)(args, stdin, timeout)
    if code == 2:
        raise OracleInputError(err.strip())
    if code != 0:
        raise OracleError(f"oracle {' '.join(args[:2])} exited with {code}:\n{err}")
    return out


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
