"""`--help` that reads like a command-line tool's: every option's value shown by its metavar (KEY=VALUE, HOST:PORT,
N, ...; set where the option is declared), flags (`--json`, `--help`) with no value placeholder, and arguments in
the usage line as `APP` / `[APP]` instead of typer's `{app}`. Every pystreams command and group uses these classes
(tests/unit/cli/test_help.py walks them all)."""
from __future__ import annotations

from typing import Any

from typer.core import TyperCommand, TyperGroup


def _plain_params(params: list[Any]) -> list[Any]:
    for param in params:
        # a flag takes no value: typer would show its type (<bool>) where a value's placeholder goes
        if getattr(param, "is_flag", False) and getattr(param, "metavar", None) is None:
            param.metavar = ""
        # an argument is named by its metavar (APP, TOPIC) already; typer would add its type (<file>, <str>)
        if getattr(param, "param_type_name", "") == "argument" and hasattr(param, "display_type_rich"):
            param.display_type_rich = _no_type
    return params


def _no_type(*_args: Any, **_kwargs: Any) -> None:
    return None


def _usage_pieces(command: Any, ctx: Any) -> list[str]:
    pieces = [command.options_metavar] if command.options_metavar else []
    for param in command.get_params(ctx):
        if getattr(param, "param_type_name", "") != "argument":
            pieces.extend(param.get_usage_pieces(ctx))
            continue
        name = param.metavar or param.name.upper()
        if getattr(param, "nargs", 1) != 1:
            name += "..."
        pieces.append(name if param.required else f"[{name}]")
    return pieces


class PlainCommand(TyperCommand):
    """A typer command whose help shows metavars, not typer's type placeholders (<str>, <bool>, <list[str]>)."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _plain_params(super().get_params(ctx))

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return _usage_pieces(self, ctx)


class PlainGroup(TyperGroup):
    """A typer group (`pystreams`, `pystreams topics`, ...) with the same help conventions as PlainCommand."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _plain_params(super().get_params(ctx))
