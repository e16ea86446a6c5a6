"""The `pystreams` command's root; each command group lives in its own module."""
from __future__ import annotations

import typer

import pystreams
from pystreams.cli.help_format import PlainCommand, PlainGroup

app = typer.Typer(name="pystreams", help="Kafka Streams for Python, with a Kafka-compatible broker.",
                  no_args_is_help=True, add_completion=False, cls=PlainGroup)


@app.callback()
def _root() -> None:
    """Kafka Streams for Python, with a Kafka-compatible broker."""


@app.command(cls=PlainCommand)
def version() -> None:
    """Print the pystreams version."""
    typer.echo(pystreams.__version__)


from pystreams.cli.describe_cmd import describe as _describe  # noqa: E402  (S1: `pystreams describe`)

app.command("describe", cls=PlainCommand)(_describe)

from pystreams.cli.broker_cmds import register as _register_broker_cmds  # noqa: E402  (broker, topics, groups, produce, consume)

_register_broker_cmds(app)

from pystreams.cli.run_cmd import run as _run  # noqa: E402  (issue 7: `pystreams run app.py`)

app.command("run", cls=PlainCommand)(_run)

from pystreams.cli.reset_cmd import ResetCommand as _ResetCommand, reset as _reset  # noqa: E402  (Kafka's StreamsResetter)

app.command("reset", cls=_ResetCommand)(_reset)
