"""`pystreams run` with a class key that cannot be loaded (audit s7 H6) or an unusable state.dir (H8): one `error:`
line with Kafka's wording and exit code 2, no traceback, before any client starts. bootstrap.servers points at a
closed port: reaching it would be a different error."""
from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pystreams.cli import app

pytestmark = pytest.mark.unit

SCRIPT = '''
from pystreams import Materialized, StreamsBuilder
builder = StreamsBuilder()
builder.stream("in").group_by_key().count(Materialized.as_("counts")).to_stream().to("out")
topology = builder.build()
'''


def _run(tmp_path, *sets: str):
    script = tmp_path / "wc.py"
    script.write_text(SCRIPT)
    args = ["run", str(script)]
    for item in ("bootstrap.servers=127.0.0.1:1", "default.key.serde=string", "default.value.serde=string", *sets):
        args += ["--set", item]
    return CliRunner().invoke(app, args, env={"COLUMNS": "300", "NO_COLOR": "1"})


def _errors(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("error:")]


@pytest.mark.parametrize("key", ["default.deserialization.exception.handler", "production.exception.handler",
                                 "processing.exception.handler", "default.timestamp.extractor"])
def test_a_class_that_cannot_be_found_is_one_error_line_and_exit_2(tmp_path, key):
    result = _run(tmp_path, f"state.dir={tmp_path / 'state'}", f"{key}=no.such.Handler")
    assert result.exit_code == 2, result.output
    assert len(_errors(result.output)) == 1
    assert _errors(result.output)[0].startswith(
        f"error: Invalid value no.such.Handler for configuration {key}: Class no.such.Handler could not be found.")
    assert "Traceback" not in result.output


def test_a_state_dir_that_is_a_file_is_one_error_line_and_exit_2(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    result = _run(tmp_path, f"state.dir={afile}")
    assert result.exit_code == 2, result.output
    expected = f"error: state directory [{afile}/wc] doesn't exist and couldn't be created: Not a directory"
    assert _errors(result.output) == [expected]
    assert "Traceback" not in result.output
