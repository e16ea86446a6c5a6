"""Outputs of DSL topologies equal Java Kafka Streams 4.1.1's TopologyTestDriver record for record,
on seeded generated input (hundreds of records, random keys, null keys, tombstones)."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.integration.oracle.drive_cases import CASES, generate, run_ours

pytestmark = [pytest.mark.integration, pytest.mark.reference]

JAVA_SOURCE = Path(__file__).with_name("java") / "S1DriveOracle.java"
INPUT_TOPICS = {"split_merge": ("in", "in2")}


def _inputs(name: str) -> list[dict]:  # type: ignore[type-arg]
    return generate(seed=sum(map(ord, name)), n=300, topics=INPUT_TOPICS.get(name, ("in",)))


@pytest.fixture(scope="module")
def java_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict]]:  # type: ignore[type-arg]
    """Every case through Java's TopologyTestDriver in ONE JVM (start-up dominates)."""
    jvm = pytest.importorskip("tests.reference.jvm")
    try:
        jvm.require_jars()
        javac = jvm.javac()
    except jvm.ReferenceSetupError as exc:
        pytest.skip(str(exc))
    classes = tmp_path_factory.mktemp("s1-drive-classes")
    subprocess.run([javac, "-nowarn", "-cp", jvm.CLASSPATH, "-d", str(classes), str(JAVA_SOURCE)],
                   check=True, capture_output=True, text=True, timeout=120)

    args: list[str] = []
    for name in CASES:
        path = classes / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in _inputs(name)))
        args += [name, str(path)]
    done = subprocess.run(jvm.java_command("S1DriveOracle", *args, extra_classpath=[classes]),
                          check=True, capture_output=True, text=True, timeout=240)
    outputs: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    current: list[dict] = []  # type: ignore[type-arg]
    for line in done.stdout.splitlines():
        if line.startswith("=== "):
            current = outputs.setdefault(line[4:].strip(), [])
        elif line.strip():
            current.append(json.loads(line))
    return outputs


@pytest.mark.parametrize("name", list(CASES))
def test_outputs_equal_java(java_outputs, name: str) -> None:  # type: ignore[no-untyped-def]
    expected = java_outputs.get(name)
    assert expected, f"the Java oracle produced no output for {name}: the case tests nothing"
    assert run_ours(name, _inputs(name)) == expected
