"""`pystreams reset` refuses bad options as Kafka's tool does (exit code 1, one clear line) before it connects
anywhere: bootstrap.servers points at a closed port, so reaching it would be a different error ("no broker
reachable"), and the tests stay socket-free."""
from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pystreams.cli import app

pytestmark = pytest.mark.unit


def _reset(*args: str):
    result = CliRunner().invoke(app, ["reset", "--bootstrap-server", "127.0.0.1:1", *args],
                                env={"COLUMNS": "200", "NO_COLOR": "1"})
    return result.exit_code, result.output  # stderr included


@pytest.mark.parametrize("args, message", [
    (["--to-offset", "3", "--shift-by", "2"], 'Option "[to-offset]" can\'t be used with option "[shift-by]"'),
    (["--to-earliest", "--to-latest"], 'Option "[to-earliest]" can\'t be used with option "[to-latest]"'),
    (["--to-datetime", "2024-01-01 10:00:00"],
     "Error parsing timestamp. It does not contain a 'T' according to ISO8601 format"),
    (["--to-datetime", "2024-01-01T10:00:00"], 'Unparseable date: "2024-01-01T10:00:00"'),
    (["--by-duration", "15m"], "Text cannot be parsed to a Duration: 15m"),
    (["--from-file", "/nonexistent/plan.csv"], "cannot read /nonexistent/plan.csv"),
])
def test_bad_options_exit_1_before_connecting(args, message):
    code, out = _reset("--application-id", "wc", "--input-topics", "in", *args)
    assert code == 1, out
    assert f"ERROR: {message}" in out, out
    assert "no broker reachable" not in out and "Traceback" not in out


def test_a_missing_application_id_is_a_usage_error_with_kafkas_exit_code():
    code, out = _reset("--input-topics", "in")
    assert code == 1, out
    assert "--application-id" in out


def test_a_negative_shift_is_a_value_not_an_option():
    code, out = _reset("--application-id", "wc", "--shift-by", "-5", "--to-latest")
    assert code == 1, out
    assert 'Option "[to-latest]" can\'t be used with option "[shift-by]"' in out


def test_help_names_kafkas_options_and_labels_the_pystreams_extra():
    result = CliRunner().invoke(app, ["reset", "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0
    for option in ("--application-id", "--bootstrap-server", "--bootstrap-servers", "--input-topics",
                   "--intermediate-topics", "--internal-topics", "--to-offset", "--to-datetime", "--by-duration",
                   "--to-earliest", "--to-latest", "--from-file", "--shift-by", "--dry-run", "--force",
                   "--config-file", "--command-config"):
        assert option in result.output, option
    assert "pystreams only (not in Kafka's tool)" in result.output
    assert "KafkaStreams.cleanup()" in result.output
