"""describe() of DSL topologies equals Java Kafka Streams 4.1.1's, byte for byte.

The Java side (java/S1DescribeOracle.java) is compiled against the reference jars once per session
and prints every case in one JVM run; each case is then compared with our text.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.integration.oracle.topologies import CASES, PAPI_CASES, describe

ALL = [*CASES, *PAPI_CASES]

pytestmark = [pytest.mark.integration, pytest.mark.reference]

JAVA_SOURCE = Path(__file__).with_name("java") / "S1DescribeOracle.java"


def _split(text: str) -> dict[str, str]:
    cases: dict[str, str] = {}
    name = None
    for line in text.splitlines(keepends=True):
        if line.startswith("=== "):
            name = line[4:].strip()
            cases[name] = ""
        elif name is not None:
            cases[name] += line
    return cases


@pytest.fixture(scope="module")
def java_describe(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    jvm = pytest.importorskip("tests.reference.jvm")
    try:
        jvm.require_jars()
        javac = jvm.javac()
    except jvm.ReferenceSetupError as exc:
        pytest.skip(str(exc))
    classes = tmp_path_factory.mktemp("s1-oracle-classes")
    subprocess.run([javac, "-nowarn", "-cp", jvm.CLASSPATH, "-d", str(classes), str(JAVA_SOURCE)],
                   check=True, capture_output=True, text=True, timeout=120)
    argv = jvm.java_command("S1DescribeOracle", *ALL, extra_classpath=[classes])
    result = subprocess.run(argv, check=True, capture_output=True, text=True, timeout=120)
    return _split(result.stdout)


@pytest.mark.parametrize("name", ALL)
def test_describe_equals_java(java_describe: dict[str, str], name: str) -> None:
    assert name in java_describe, f"the Java oracle printed no case {name}"
    assert describe(name) == java_describe[name]
