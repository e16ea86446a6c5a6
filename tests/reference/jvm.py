"""Running the reference jars: where they are, the JVM flags, and the log4j2 configs.

Shared by the broker launcher (kafka.py), the client tools (tools.py) and the Kafka Streams oracle
(streams_oracle.py). The jars are fetched once by `scripts/reference.sh fetch` (tests/reference/
pom.xml) into the git-ignored .cache/reference/lib.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "reference"
LIB = CACHE / "lib"
CLASSPATH = f"{LIB}{os.sep}*"
KAFKA_VERSION = "4.1.1"

# A short-lived JVM (a tool, the oracle, a test broker) spends most of its life in class loading
# and the JIT; C1 only (TieredStopAtLevel=1) and the CDS archive of the JDK's classes start it
# noticeably faster (measured in kafka.py's docstring). Throughput runs (bench/, perf tools) omit
# these and get the full JIT.
FAST_START_FLAGS = ["-XX:TieredStopAtLevel=1", "-Xshare:auto"]

_TOOLS_LOG4J2 = """\
# Written by tests/reference/jvm.py: client tools log warnings and errors to stderr only.
status = error
appender.stderr.type = Console
appender.stderr.name = STDERR
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stderr.ref = STDERR
# the Streams oracle keeps its TopologyTestDriver state in a temp dir on purpose
logger.statedir.name = org.apache.kafka.streams.processor.internals.StateDirectory
logger.statedir.level = ERROR
"""

_FILE_LOG4J2 = """\
# Written by tests/reference/jvm.py: the reference broker logs to a file in its temp dir.
status = error
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = {path}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.controller.name = org.apache.kafka.controller
logger.controller.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
"""


class ReferenceSetupError(RuntimeError):
    """The reference systems cannot run here (no Java, jars not fetched); the message says the fix."""


def java() -> str:
    """The `java` executable (JAVA_HOME first), or a clear error saying how to get one."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    found = shutil.which("java")
    if not found:
        raise ReferenceSetupError("reference: no `java` on PATH; install a JDK 17+ "
                                  "(apt-get install openjdk-17-jdk-headless)")
    return found


def javac() -> str:
    """The `javac` executable next to `java`, needed to compile the Kafka Streams oracle."""
    candidate = Path(java()).resolve().parent / "javac"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("javac")
    if not found:
        raise ReferenceSetupError("reference: no `javac`; install a JDK, not only a JRE "
                                  "(apt-get install openjdk-17-jdk-headless)")
    return found


def require_jars() -> Path:
    """The jar directory, after checking the broker, tools and streams jars are all there."""
    needed = [f"kafka_2.13-{KAFKA_VERSION}.jar", f"kafka-tools-{KAFKA_VERSION}.jar",
              f"kafka-clients-{KAFKA_VERSION}.jar", f"kafka-streams-{KAFKA_VERSION}.jar",
              f"kafka-streams-test-utils-{KAFKA_VERSION}.jar"]
    missing = [name for name in needed if not (LIB / name).exists()]
    if missing:
        raise ReferenceSetupError(f"reference: jars missing from {LIB}: {', '.join(missing)}; "
                                  "run `scripts/reference.sh fetch` (or `make setup`)")
    return LIB


def tools_log4j2() -> Path:
    """A log4j2 config that keeps tool output clean: WARN and above, to stderr."""
    return _write_once(CACHE / "log4j2-tools.properties", _TOOLS_LOG4J2)


def file_log4j2(config_path: Path, log_path: Path) -> Path:
    """Write a log4j2 config at config_path that sends INFO and above to log_path."""
    config_path.write_text(_FILE_LOG4J2.format(path=log_path))
    return config_path


def java_command(main_class: str, *args: str, heap: str = "512m", fast_start: bool = True,
                 log4j2: Path | None = None, extra_classpath: list[Path] | None = None,
                 jvm_flags: list[str] | None = None,
                 extra_flags: list[str] | None = None) -> list[str]:
    """The argv that runs main_class from the reference jars with the given JVM settings.

    jvm_flags defaults to the serial GC, the quickest to start for a short-lived client JVM;
    extra_flags are added to it (e.g. a class-data-sharing archive from cds.py).
    """
    require_jars()
    # extra entries go after the jars: a class-data-sharing archive made for the jars alone
    # stays valid when the runtime classpath only appends to it
    classpath = [CLASSPATH] + [str(p) for p in (extra_classpath or [])]
    argv = [java(), f"-Xmx{heap}"]
    if fast_start:
        argv += FAST_START_FLAGS
    argv += list(jvm_flags if jvm_flags is not None else ["-XX:+UseSerialGC"])
    argv += list(extra_flags or [])
    argv += [f"-Dlog4j2.configurationFile={log4j2 or tools_log4j2()}",
             "-Djava.awt.headless=true", "-cp", os.pathsep.join(classpath), main_class, *args]
    return argv


def _write_once(path: Path, text: str) -> Path:
    if not path.exists() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text)
        tmp.replace(path)
    return path
