"""Compiling and running the S1 Java oracles (java/S1*.java) against the reference jars.

Every oracle prints "=== <name>" before each case's output; the splitters here turn that stdout
into one entry per case, so the tests compare ours with Java's case by case.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

JAVA_DIR = Path(__file__).with_name("java")


def compile_and_run(source: str, *args: str, timeout: float) -> str:
    """Run java/<source>.java's main with `args` against the reference jars; skip without Java.

    One JVM runs every case because its start-up dominates the run. The classes are compiled once
    per change of the source (or of the Kafka version) into .cache/reference/s1-oracle, as the
    EOS tests' Java clients are, not by a javac run (seconds) in every session.
    """
    jvm = pytest.importorskip("tests.reference.jvm")
    try:
        jvm.require_jars()
        javac = jvm.javac()
    except jvm.ReferenceSetupError as exc:
        pytest.skip(str(exc))
    java_file = JAVA_DIR / f"{source}.java"
    digest = hashlib.sha256(java_file.read_bytes() + jvm.KAFKA_VERSION.encode()).hexdigest()[:16]
    classes = jvm.CACHE / "s1-oracle" / f"{source}-{digest}"
    if not (classes / f"{source}.class").exists():
        scratch = classes.with_name(f"{classes.name}.tmp-{os.getpid()}")
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        subprocess.run([javac, "-nowarn", "-cp", jvm.CLASSPATH, "-d", str(scratch), str(java_file)],
                       check=True, capture_output=True, text=True, timeout=120)
        try:
            scratch.rename(classes)  # whole, or not at all: a concurrent run never sees half of it
        except OSError:  # another run compiled the same source first
            shutil.rmtree(scratch, ignore_errors=True)
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
