"""Random DSL programs (seeded) produce the same output records on our TopologyTestDriver as on Kafka
Streams 4.1.1's, including null keys, tombstones, repartitions, tables and optimization."""
from __future__ import annotations

import json
import os

import pytest

from tests.integration.oracle.fuzz_drive import generate_input, generate_program, run_ours
from tests.integration.oracle.java_oracle import compile_and_run, split_jsonl

pytestmark = [pytest.mark.integration, pytest.mark.reference]

PROGRAMS = [generate_program(seed) for seed in range(int(os.environ.get("S1_FUZZ_RUNS", "150")))]
INPUT = generate_input(seed=4)


@pytest.fixture(scope="module")
def java_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict]]:  # type: ignore[type-arg]
    work = tmp_path_factory.mktemp("s1-fuzz-drive")
    (work / "programs.json").write_text(json.dumps(PROGRAMS))
    (work / "input.jsonl").write_text("".join(json.dumps(r) + "\n" for r in INPUT))
    return split_jsonl(compile_and_run("S1FuzzDriveOracle", str(work / "programs.json"),
                                       str(work / "input.jsonl"), timeout=600))


def test_random_programs_output_like_kafka(java_outputs) -> None:  # type: ignore[no-untyped-def]
    assert len(java_outputs) == len(PROGRAMS)
    assert sum(len(v) for v in java_outputs.values()) > 20 * len(PROGRAMS), "programs must produce output"
    mismatches = [p["name"] for p in PROGRAMS if run_ours(p, INPUT) != java_outputs[p["name"]]]
    assert not mismatches, f"{len(mismatches)} of {len(PROGRAMS)} programs differ, first: {mismatches[:5]}"
