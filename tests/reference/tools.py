"""Apache Kafka's command-line tools, run from the reference jars against any bootstrap server.

Kafka's bin/*.sh scripts are thin wrappers over `java -cp libs/* <main class>`; this module is the
same wrapper without a Kafka distribution, so the Java tools can talk to the reference broker or
to ours:

    run_tool("kafka-topics", "--bootstrap-server", servers, "--list").stdout
    python -m tests.reference.tools kafka-topics --bootstrap-server 127.0.0.1:9092 --list

Tools log WARN and above to stderr (jvm.tools_log4j2), so stdout is only the tool's output.
Perf-test tools get the full JIT; the others start in C1-only mode to start faster.
"""
from __future__ import annotations

import subprocess
import sys

from tests.reference import cds, jvm

# bin/<name>.sh -> main class, as in Kafka 4.1.1's scripts (checked against the jars' contents).
TOOLS: dict[str, str] = {
    "kafka-console-producer": "org.apache.kafka.tools.ConsoleProducer",
    "kafka-console-consumer": "org.apache.kafka.tools.consumer.ConsoleConsumer",
    "kafka-topics": "org.apache.kafka.tools.TopicCommand",
    "kafka-consumer-groups": "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
    "kafka-share-groups": "org.apache.kafka.tools.consumer.group.ShareGroupCommand",
    "kafka-streams-groups": "org.apache.kafka.tools.streams.StreamsGroupCommand",
    "kafka-groups": "org.apache.kafka.tools.GroupsCommand",
    "kafka-producer-perf-test": "org.apache.kafka.tools.ProducerPerformance",
    "kafka-consumer-perf-test": "org.apache.kafka.tools.ConsumerPerformance",
    "kafka-dump-log": "kafka.tools.DumpLogSegments",
    "kafka-storage": "kafka.tools.StorageTool",
    "kafka-configs": "kafka.admin.ConfigCommand",
    "kafka-get-offsets": "org.apache.kafka.tools.GetOffsetShell",
    "kafka-delete-records": "org.apache.kafka.tools.DeleteRecordsCommand",
    "kafka-log-dirs": "org.apache.kafka.tools.LogDirsCommand",
    "kafka-transactions": "org.apache.kafka.tools.TransactionsCommand",
    "kafka-metadata-quorum": "org.apache.kafka.tools.MetadataQuorumCommand",
    "kafka-features": "org.apache.kafka.tools.FeatureCommand",
    "kafka-cluster": "org.apache.kafka.tools.ClusterTool",
    "kafka-broker-api-versions": "org.apache.kafka.tools.BrokerApiVersionsCommand",
    "kafka-leader-election": "org.apache.kafka.tools.LeaderElectionCommand",
    "kafka-acls": "org.apache.kafka.tools.AclCommand",
}

# Throughput tools: the full JIT and a bigger heap, as in bin/kafka-*-perf-test.sh.
PERF_TOOLS = {"kafka-producer-perf-test", "kafka-consumer-perf-test"}


class UnknownToolError(ValueError):
    """The tool name is not one of Kafka's bin/ scripts that TOOLS knows."""


def tool_command(name: str, *args: str, archive: cds.Archive | None = None) -> list[str]:
    """The argv that runs Kafka's bin/<name>.sh equivalent with args."""
    name = name.removesuffix(".sh")
    if name not in TOOLS:
        raise UnknownToolError(f"unknown Kafka tool {name!r}; known: {', '.join(sorted(TOOLS))}")
    perf = name in PERF_TOOLS
    return jvm.java_command(TOOLS[name], *args, heap="1g" if perf else "512m",
                            fast_start=not perf,
                            jvm_flags=["-XX:+UseG1GC"] if perf else None,
                            extra_flags=archive.flags if archive else None)


def run_tool(name: str, *args: str, input: str | bytes | None = None, timeout: float = 120.0,
             check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run a Kafka tool to completion; stdout/stderr captured as text.

    input is written to its stdin (kafka-console-producer reads records from there); check=True
    raises CalledProcessError on a non-zero exit, with stderr in the exception.
    """
    data = input.decode() if isinstance(input, bytes) else input
    archive = cds.archive_for(f"tool-{name.removesuffix('.sh')}")
    returncode = None
    try:
        result = subprocess.run(tool_command(name, *args, archive=archive), input=data,
                                capture_output=True, text=True, timeout=timeout,
                                stdin=None if data is not None else subprocess.DEVNULL)
        returncode = result.returncode
    finally:
        archive.finish(returncode)
    if check:
        result.check_returncode()
    return result


def main(argv: list[str] | None = None) -> int:
    """`python -m tests.reference.tools <tool> [args]`: stdin, stdout and stderr pass through."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m tests.reference.tools <tool> [tool args...]\ntools:\n  "
              + "\n  ".join(f"{name:28} {cls}" for name, cls in sorted(TOOLS.items())))
        return 0 if argv else 2
    archive = cds.archive_for(f"tool-{argv[0].removesuffix('.sh')}")
    try:
        command = tool_command(argv[0], *argv[1:], archive=archive)
    except (UnknownToolError, jvm.ReferenceSetupError) as exc:
        print(exc, file=sys.stderr)
        return 2
    returncode = None
    try:
        returncode = subprocess.call(command)
        return returncode
    except KeyboardInterrupt:
        return 130
    finally:
        archive.finish(returncode)


if __name__ == "__main__":
    sys.exit(main())
