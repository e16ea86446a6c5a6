"""Random DSL programs (seeded) produce the same output records on our TopologyTestDriver as on Kafka
Streams 4.1.1's, including null keys, tombstones, repartitions, tables and optimization."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.integration.oracle.fuzz_drive import generate_input, generate_program, run_ours

pytestmark = [pytest.mark.integration, pytest.mark.reference]

JAVA_SOURCE = Path(__file__).with_name("java") / "S1FuzzDriveOracle.java"
PROGRAMS = [generate_program(seed) for seed in range(int(os.environ.get("S1_FUZZ_RUNS", "150")))]
INPUT = generate_input(seed=4)


@pytest.fixture(scope="module")
def java_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict]]:  # type: ignore[type-arg]
    jvm = pytest.importorskip("tests.reference.jvm")
    try:
        jvm.require_jars()
        javac = jvm.javac()
    except jvm.ReferenceSetupError as exc:
        pytest.skip(str(exc))
    work = tmp_path_factory.mktemp("s1-fuzz-drive")
    subprocess.run([javac, "-nowarn", "-cp", jvm.CLASSPATH, "-d", str(work), str(JAVA_SOURCE)],
                   check=True, capture_output=True, text=True, timeout=120)
    (work / "programs.json").write_text(json.dumps(PROGRAMS))
    (work / "input.jsonl").write_text("".join(json.dumps(r) + "\n" for r in INPUT))
    done = subprocess.run(jvm.java_command("S1FuzzDriveOracle", str(work / "programs.json"),
                                           str(work / "input.jsonl"), extra_classpath=[work]),
                          check=True, capture_output=True, text=True, timeout=600)
    outputs: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    current: list[dict] = []  # type: ignore[type-arg]
    for line in done.stdout.splitlines():
        if line.startswith("=== "):
            current = outputs.setdefault(line[4:].strip(), [])
        elif line.strip():
            current.append(json.loads(line))
    return outputs


def test_random_programs_output_like_kafka(java_outputs) -> None:  # type: ignore[no-untyped-def]
    assert len(java_outputs) == len(PROGRAMS)
    assert sum(len(v) for v in java_outputs.values()) > 20 * len(PROGRAMS), "programs must produce output"
    mismatches = [p["name"] for p in PROGRAMS if run_ours(p, INPUT) != java_outputs[p["name"]]]
    assert not mismatches, f"{len(mismatches)} of {len(PROGRAMS)} programs differ, first: {mismatches[:5]}"
