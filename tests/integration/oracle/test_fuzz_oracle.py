"""Random DSL programs (seeded): our describe() equals Kafka Streams 4.1.1's for every one of them,
and a program Kafka refuses is refused by us too."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.integration.oracle.fuzz_programs import describe_program, generate_program

pytestmark = [pytest.mark.integration, pytest.mark.reference]

JAVA_SOURCE = Path(__file__).with_name("java") / "S1FuzzOracle.java"
PROGRAMS = [generate_program(seed) for seed in range(int(__import__("os").environ.get("S1_FUZZ_PROGRAMS", "3000")))]


@pytest.fixture(scope="module")
def java_texts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    jvm = pytest.importorskip("tests.reference.jvm")
    try:
        jvm.require_jars()
        javac = jvm.javac()
    except jvm.ReferenceSetupError as exc:
        pytest.skip(str(exc))
    work = tmp_path_factory.mktemp("s1-fuzz")
    subprocess.run([javac, "-nowarn", "-cp", jvm.CLASSPATH, "-d", str(work), str(JAVA_SOURCE)],
                   check=True, capture_output=True, text=True, timeout=120)
    (work / "programs.json").write_text(json.dumps(PROGRAMS))
    done = subprocess.run(jvm.java_command("S1FuzzOracle", str(work / "programs.json"), extra_classpath=[work]),
                          check=True, capture_output=True, text=True, timeout=240)
    texts: dict[str, str] = {}
    name = ""
    for line in done.stdout.splitlines(keepends=True):
        if line.startswith("=== "):
            name = line[4:].strip()
            texts[name] = ""
        else:
            texts[name] += line
    return texts


def test_random_programs_describe_like_kafka(java_texts: dict[str, str]) -> None:
    assert len(java_texts) == len(PROGRAMS)
    mismatches = []
    for program in PROGRAMS:
        java = java_texts[program["name"]]
        ours = describe_program(program)
        if java.startswith("ERROR"):
            java = "ERROR\n"
        if ours != java:
            mismatches.append(program["name"])
    refused = sum(1 for t in java_texts.values() if t.startswith("ERROR"))
    assert refused < len(PROGRAMS) // 4, "most programs must be valid for the test to mean something"
    assert not mismatches, f"{len(mismatches)} programs differ, first: {mismatches[:5]}"
