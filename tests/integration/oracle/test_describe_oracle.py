"""describe() of DSL topologies equals Java Kafka Streams 4.1.1's, byte for byte.

The Java side (java/S1DescribeOracle.java) is compiled against the reference jars once per session
and prints every case in one JVM run; each case is then compared with our text.
"""
from __future__ import annotations

import pytest

from tests.integration.oracle.java_oracle import compile_and_run, split_text
from tests.integration.oracle.topologies import CASES, PAPI_CASES, describe

ALL = [*CASES, *PAPI_CASES]

pytestmark = [pytest.mark.integration, pytest.mark.reference]


@pytest.fixture(scope="module")
def java_describe() -> dict[str, str]:
    return split_text(compile_and_run("S1DescribeOracle", *ALL, timeout=120))


@pytest.mark.parametrize("name", ALL)
def test_describe_equals_java(java_describe: dict[str, str], name: str) -> None:
    assert name in java_describe, f"the Java oracle printed no case {name}"
    assert describe(name) == java_describe[name]
