"""Build-time checks of user functions: a wrong arity fails at the DSL call, naming the operator."""
from __future__ import annotations

import inspect
from typing import Any, Callable

from pystreams.errors import TopologyError


def positional_arity(fn: Callable[..., Any]) -> tuple[int, int] | None:
    """(required, maximum) positional parameters; maximum -1 for *args; None when unknowable."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    required = maximum = 0
    for param in signature.parameters.values():
        if param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD):
            maximum += 1
            if param.default is param.empty:
                required += 1
        elif param.kind is param.VAR_POSITIONAL:
            maximum = -1
        elif param.kind is param.KEYWORD_ONLY and param.default is param.empty:
            return (99, 99)  # a required keyword-only parameter can never be satisfied
    return required, maximum


def accepts(fn: Callable[..., Any], n: int) -> bool:
    """Whether fn can be called with n positional arguments (True when unknowable)."""
    arity = positional_arity(fn)
    if arity is None:
        return True
    required, maximum = arity
    return required <= n and (maximum == -1 or n <= maximum)


def check(fn: Any, n: int, operator: str, shape: str) -> None:
    """Raise a TopologyError naming `operator` unless fn is callable with n positional arguments."""
    if not callable(fn):
        raise TopologyError(f"{operator}: expected a function {shape}, got {type(fn).__name__} {fn!r}.")
    if not accepts(fn, n):
        raise TopologyError(f"{operator}: the function {_describe(fn)} takes {_arity_text(fn)}, but "
                            f"{operator} calls it as {shape}. Fix: give it exactly {n} parameter"
                            f"{'s' if n != 1 else ''}.")


def value_or_key_value(fn: Any, operator: str, shape1: str, shape2: str) -> bool:
    """For map_values-style operators: True when fn takes (key, value), False when (value)."""
    if not callable(fn):
        raise TopologyError(f"{operator}: expected a function {shape1} or {shape2}, got {fn!r}.")
    arity = positional_arity(fn)
    if arity is None:
        return False
    if accepts(fn, 1):
        return False
    if accepts(fn, 2):
        return True
    raise TopologyError(f"{operator}: the function {_describe(fn)} takes {_arity_text(fn)}, but "
                        f"{operator} calls it as {shape1} or {shape2}. Fix: give it 1 or 2 parameters.")


def _describe(fn: Any) -> str:
    name = getattr(fn, "__qualname__", None) or type(fn).__name__
    return name


def _arity_text(fn: Any) -> str:
    arity = positional_arity(fn)
    if arity is None:
        return "an unknown number of arguments"
    required, maximum = arity
    if required == 99:
        return "a required keyword-only argument"
    if maximum == -1:
        return f"at least {required} argument(s)"
    if required == maximum:
        return f"{required} argument(s)"
    return f"{required} to {maximum} arguments"
