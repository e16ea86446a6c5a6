"""Compiling and running the S1 Java oracles (java/S1*.java) against the reference jars.

Every oracle prints "=== <name>" before each case's output; the splitters here turn that stdout
into one entry per case, so the tests compare ours with Java's case by case.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

JAVA_DIR = Path(__file__).with_name("java")


def compile_and_run(source: str, classes: Path, *args: str, timeout: float) -> str:
    """Compile java/<source>.java into `classes` and run its main with `args`; skip without Java.

    One JVM runs every case because its start-up dominates the run.
    """
    jvm = pytest.importorskip("tests.reference.jvm")
    try:
        jvm.require_jars()
        javac = jvm.javac()
    except jvm.ReferenceSetupError as exc:
        pytest.skip(str(exc))
    subprocess.run([javac, "-nowarn", "-cp", jvm.CLASSPATH, "-d", str(classes),
                    str(JAVA_DIR / f"{source}.java")],
                   check=True, capture_output=True, text=True, timeout=120)
    done = subprocess.run(jvm.java_command(source, *args, extra_classpath=[classes]),
                          check=True, capture_output=True, text=True, timeout=timeout)
    return str(done.stdout)


def split_text(stdout: str) -> dict[str, str]:
    """Each case's text (lines kept whole, newlines included) by its "=== <name>" header."""
    cases: dict[str, str] = {}
    name: str | None = None
    for line in stdout.splitlines(keepends=True):
        if line.startswith("=== "):
            name = line[4:].strip()
            if name in cases:
                raise AssertionError(f"the Java oracle printed case {name!r} twice")
            cases[name] = ""
        elif name is not None:
            cases[name] += line
        elif line.strip():
            raise AssertionError(f"the Java oracle printed before its first case: {line!r}")
    return cases


def split_jsonl(stdout: str) -> dict[str, list[dict[str, Any]]]:
    """Each case's output records (one JSON object a line) by its "=== <name>" header."""
    return {name: [json.loads(line) for line in text.splitlines() if line.strip()]
            for name, text in split_text(stdout).items()}
