"""`pystreams run` refuses bad --set / --instances input with one clear line and exit code 2, before it starts a
broker or connects anywhere (bootstrap.servers points at a closed port: reaching it would be a different error)."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pystreams.cli import app

pytestmark = pytest.mark.unit

WORDCOUNT = str(Path(__file__).resolve().parents[3] / "examples" / "wordcount.py")


def _run(*args: str):
    result = CliRunner().invoke(app, ["run", WORDCOUNT, "--set", "bootstrap.servers=127.0.0.1:1", *args],
                                env={"COLUMNS": "200", "NO_COLOR": "1"})
    return result.exit_code, result.output  # stderr included


@pytest.mark.parametrize("item, message", [
    ("nonsense", "error: --set expects key=value (e.g. --set num.stream.threads=2), got 'nonsense'"),
    ("=2", "error: --set expects key=value (e.g. --set num.stream.threads=2), got '=2'"),
    (" =x", "error: --set expects key=value"),
    ("num.stream.threads=abc", "error: num.stream.threads must be an integer, got 'abc'"),
    ("processing.guarantee=maybe", "error: processing.guarantee must be one of at_least_once, exactly_once_v2"),
    ("commit.interval.ms=-5", "error: commit.interval.ms must be >= 0, got -5"),
])
def test_a_bad_set_is_one_clear_error(item, message):
    code, out = _run("--set", item)
    assert code == 2, out
    assert message in out, out
    assert "Traceback" not in out and "embedded pystreams broker" not in out and "no broker reachable" not in out


@pytest.mark.parametrize("value, message", [("0", "--instances must be at least 1"),
                                            ("two", "--instances expects a whole number of processes")])
def test_a_bad_instances_value_is_one_clear_error(value, message):
    code, out = _run("--instances", value)
    assert code == 2 and f"error: {message}" in out and "Traceback" not in out, out


def test_a_later_set_of_the_same_key_wins():
    from pystreams.cli.run_cmd import parse_sets

    assert parse_sets(["a.b=1", " a.b = 2 ", "c=x=y", "d="]) == {"a.b": "2", "c": "x=y", "d": ""}
