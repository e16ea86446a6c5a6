"""Random DSL programs (seeded): our describe() equals Kafka Streams 4.1.1's for every one of them,
and a program Kafka refuses is refused by us too."""
from __future__ import annotations

import json
import os

import pytest

from tests.integration.oracle.fuzz_programs import describe_program, generate_program
from tests.integration.oracle.java_oracle import compile_and_run, split_text

pytestmark = [pytest.mark.integration, pytest.mark.reference]

PROGRAMS = [generate_program(seed) for seed in range(int(os.environ.get("S1_FUZZ_PROGRAMS", "3000")))]


@pytest.fixture(scope="module")
def java_texts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    work = tmp_path_factory.mktemp("s1-fuzz")
    (work / "programs.json").write_text(json.dumps(PROGRAMS))
    return split_text(compile_and_run("S1FuzzOracle", str(work / "programs.json"), timeout=240))


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
