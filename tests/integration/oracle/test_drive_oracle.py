"""Outputs of DSL topologies equal Java Kafka Streams 4.1.1's TopologyTestDriver record for record,
on seeded generated input (hundreds of records, random keys, null keys, tombstones)."""
from __future__ import annotations

import json

import pytest

from tests.integration.oracle.drive_cases import CASES, generate, run_ours
from tests.integration.oracle.java_oracle import compile_and_run, split_jsonl

pytestmark = [pytest.mark.integration, pytest.mark.reference]

INPUT_TOPICS = {"split_merge": ("in", "in2")}


def _inputs(name: str) -> list[dict]:  # type: ignore[type-arg]
    return generate(seed=sum(map(ord, name)), n=300, topics=INPUT_TOPICS.get(name, ("in",)))


@pytest.fixture(scope="module")
def java_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict]]:  # type: ignore[type-arg]
    """Every case through Java's TopologyTestDriver in ONE JVM (start-up dominates)."""
    classes = tmp_path_factory.mktemp("s1-drive-classes")
    args: list[str] = []
    for name in CASES:
        path = classes / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in _inputs(name)))
        args += [name, str(path)]
    return split_jsonl(compile_and_run("S1DriveOracle", *args, timeout=240))


@pytest.mark.parametrize("name", list(CASES))
def test_outputs_equal_java(java_outputs, name: str) -> None:  # type: ignore[no-untyped-def]
    expected = java_outputs.get(name)
    assert expected, f"the Java oracle produced no output for {name}: the case tests nothing"
    assert run_ours(name, _inputs(name)) == expected
