"""Every `pystreams ... --help` reads like a command-line tool's: values shown by metavars (KEY=VALUE, HOST:PORT, N),
flags and --help with no value placeholder, arguments as APP / TOPIC in the usage line; none of typer's type
placeholders (<list[str]>, <str>, <bool>, <file>, {app})."""
from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from pystreams.cli import app

pytestmark = pytest.mark.unit

TYPER_PLACEHOLDER = re.compile(r"<(list\[|str>|bool>|int>|int range>|float>|file>|path>|text>)|\{[a-z_]+\}")


def _commands(command, path=()):
    """(path, click command) for the root, every group and every command under it."""
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _commands(sub, (*path, name))


ALL = list(_commands(typer.main.get_command(app)))


def _help(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    return result.output


def _row(text: str, option: str) -> str:
    """The help table row of an option, its box borders and runs of spaces collapsed."""
    for line in text.splitlines():
        cells = line.strip("│ ").split()
        if cells and cells[0] == option:
            return " ".join(cells)
    raise AssertionError(f"no row for {option} in:\n{text}")


def test_the_command_tree_is_complete():
    names = {" ".join(path) for path, _ in ALL}
    assert {"run", "describe", "version", "produce", "consume", "broker start", "topics create", "topics list",
            "topics describe", "topics alter", "topics delete", "groups list", "groups describe",
            "groups reset-offsets"} <= names


@pytest.mark.parametrize("path", [path for path, _ in ALL], ids=lambda p: " ".join(p) or "pystreams")
def test_no_typer_type_placeholders_in_any_help(path):
    text = _help(path)
    assert not TYPER_PLACEHOLDER.search(text), TYPER_PLACEHOLDER.search(text).group(0) + "\n" + text
    assert _row(text, "--help") == "--help Show this message and exit."


@pytest.mark.parametrize("path, command", [(p, c) for p, c in ALL], ids=lambda x: " ".join(x) if
                         isinstance(x, tuple) else "")
def test_every_option_that_takes_a_value_names_it(path, command):
    for param in command.params:
        if param.param_type_name == "option" and not param.is_flag:
            assert param.metavar, f"pystreams {' '.join(path)} {param.opts[0]} has no metavar"
        if param.param_type_name == "argument":
            assert param.metavar and param.metavar.isupper(), f"pystreams {' '.join(path)} {param.name}"


def test_run_help_key_lines():
    text = _help(("run",))
    assert "Usage: pystreams run [OPTIONS] APP" in text
    assert _row(text, "--set").startswith("--set KEY=VALUE A Kafka Streams config key (repeatable)")
    assert _row(text, "--instances").startswith("--instances N Processes of the app to run")
    assert _row(text, "--partitions").startswith("--partitions N ")
    assert _row(text, "--summary-interval").startswith("--summary-interval SECONDS Seconds between summary lines")
    assert _row(text, "*").startswith("* APP The Python script")


def test_other_commands_key_lines():
    assert "Usage: pystreams topics create [OPTIONS] TOPIC" in _help(("topics", "create"))
    consume = _help(("consume",))
    assert _row(consume, "--bootstrap-server").startswith("--bootstrap-server -b HOST:PORT bootstrap.servers")
    assert _row(consume, "--json") == "--json machine-readable JSON on stdout"
    assert _row(consume, "--max").startswith("--max -n N stop after N records")
    assert _row(_help(("broker", "start")), "--set").startswith("--set KEY=VALUE a broker config key")
    reset = _help(("groups", "reset-offsets"))
    assert "Usage: pystreams groups reset-offsets [OPTIONS] GROUP" in reset
    assert _row(reset, "--to").startswith("--to earliest|latest|OFFSET")
    assert _row(_help(("describe",)), "--format").startswith("--format -f FORMAT text (Kafka's")
