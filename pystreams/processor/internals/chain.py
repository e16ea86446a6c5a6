"""Fused chains of one-in-one-out DSL steps (map_values, map, select_key, filter, peek, merge).

A DSL processor may describe its per-record work as a step (`direct_step()`: kind, user function, extra);
a node whose only child is such a chain runs its own step and the child's in one generated Python function, so
a record passes map_values -> filter -> select_key without a call, a frame and a Record per node. Semantics are
those of the nodes run one by one: each step's exceptions go to that node's processing.exception.handler
(on_error) with the record that node received; PystreamsErrors pass through; exceptions from what follows
the chain (a sink, another node) go to the chain's last node, as they would reach the innermost node.
"""
from __future__ import annotations

from operator import attrgetter
from typing import Any, Callable, Sequence

from pystreams.errors import PystreamsError
from pystreams.processor.record import Record

Emit = Callable[[Any], None]
EmitFields = Callable[[Any, Any, int, Any], None]
OnError = Callable[[Exception, Any], None]
Step = tuple[str, Callable[..., Any], Any, OnError]
"""(kind, user function, extra, on_error); extra for "map" is a function(pair) raising the operator's error."""

KINDS = frozenset({"map_values", "map_values_with_key", "map", "select_key", "filter", "filter_not", "peek",
                   "pass"})
MAX_STEPS = 32  # longer chains are split (the code of a chain grows with its length)


def _nothing(_record: Any) -> None:
    return None


def fan_out(children: Sequence[Emit]) -> Emit:
    """One callable for a node's children: the child itself when there is one (no extra frame)."""
    if not children:
        return _nothing
    if len(children) == 1:
        return children[0]
    kids = tuple(children)

    def emit(record: Any) -> None:
        for child in kids:
            child(record)

    return emit


def chain_of(emit: Emit) -> tuple[list[Step], Emit] | None:
    """The steps and final emit of a fused chain function (None for anything else)."""
    return getattr(emit, "_pystreams_chain", None)


def fields_of(emit: Emit) -> EmitFields | None:
    """The same entry point taking (key, value, timestamp, headers) instead of a Record, when there is one: a fused
    chain's `run_fields`, a sink's `process_fields` (a bound method of an object with process_fields). Callers
    that have the fields at hand (the record queue's drain, a chain's last step) then build no Record for it."""
    fields: EmitFields | None = getattr(emit, "_pystreams_fields", None)
    if fields is None:
        fields = getattr(getattr(emit, "__self__", None), "process_fields", None)
    return fields


def plain_change_fields(emit: Emit, rewrap: Callable[[Any], Any]) -> EmitFields | None:
    """For a fused chain whose first step takes a Change's new value (KTable.to_stream()'s map_values of
    attrgetter("new_value")): a function (key, new value, timestamp, headers) doing what
    emit(Record(key, rewrap(new value), timestamp, headers)) does, with no Change and no Record made unless an
    error handler gets one (the first step's handler gets the Record it would have received). rewrap(v) must
    give a value whose new_value is v (e.g. Change(v, None, True)). None for any other emit. Lets a store's
    cache flush hand plain values to to_stream() and what follows (a sink, a key mapper) per flushed entry."""
    chain = chain_of(emit)
    if chain is None:
        return None
    steps, final = chain
    kind, fn, _extra, _on_error = steps[0]
    if kind != "map_values" or type(fn) is not attrgetter or repr(fn) != _NEW_VALUE_REPR:
        return None
    cached = getattr(emit, "_pystreams_plain_change", None)
    if cached is not None and cached[0] is rewrap:
        return cached[1]  # type: ignore[no-any-return]
    emit_fields = fields_of(final)
    code = _chain_code(steps, "run_plain", True, emit_fields is not None, unwrapped=True)
    env: dict[str, Any] = {"PystreamsError": PystreamsError, "_new": tuple.__new__, "Record": Record,
                           "emit": final, "emit_fields": emit_fields, "rewrap": rewrap}
    for i, (_kind, f, extra, on_error) in enumerate(steps):
        env[f"f{i}"], env[f"x{i}"], env[f"e{i}"] = f, extra, on_error
    namespace: dict[str, Any] = {}
    exec(compile(code, f"<pystreams plain chain of {len(steps)}>", "exec"), env, namespace)  # noqa: S102
    run_plain: EmitFields = namespace["run_plain"]
    emit._pystreams_plain_change = (rewrap, run_plain)  # type: ignore[attr-defined]
    return run_plain


_NEW_VALUE_REPR = repr(attrgetter("new_value"))


def compile_chain(steps: list[Step], emit: Emit) -> Emit:
    """One function running steps in order and calling emit with the result (see the module doc); the function
    has a `_pystreams_fields` twin taking (key, value, timestamp, headers) (fields_of)."""
    if not steps or len(steps) > MAX_STEPS:
        raise ValueError(f"a chain has 1..{MAX_STEPS} steps, got {len(steps)}")
    emit_fields = fields_of(emit)
    namespace: dict[str, Any] = {}
    for name, fields in (("run", False), ("run_fields", True)):
        code = _chain_code(steps, name, fields, emit_fields is not None)
        env: dict[str, Any] = {"PystreamsError": PystreamsError, "_new": tuple.__new__, "Record": Record,
                               "emit": emit, "emit_fields": emit_fields}
        for i, (_kind, fn, extra, on_error) in enumerate(steps):
            env[f"f{i}"], env[f"x{i}"], env[f"e{i}"] = fn, extra, on_error
        exec(compile(code, f"<pystreams chain of {len(steps)}>", "exec"), env, namespace)  # noqa: S102
    run: Emit = namespace["run"]
    run._pystreams_chain = (list(steps), emit)  # type: ignore[attr-defined]
    run._pystreams_fields = namespace["run_fields"]  # type: ignore[attr-defined]
    return run


def _chain_code(steps: list[Step], name: str, fields: bool, emit_fields: bool, unwrapped: bool = False) -> str:
    """The source of one chain function: `name(record)`, or `name(k0, v0, ts, h)` when fields is true (the
    received record is then built only for an error handler); the last step calls emit_fields(k, v, ts, h)
    when the emit has such a twin (emit_fields), else emit(record). unwrapped (with fields): the function is
    `name(k0, v1, ts, h)` with v1 what the first step (a map_values) gives: that step is not run, and its
    received record is Record(k0, rewrap(v1), ts, h) (plain_change_fields)."""
    lines = [f"def {name}(k0, v{1 if unwrapped else 0}, ts, h):" if fields else f"def {name}(record):"]
    if not fields:
        lines.append("    k0, v0, ts, h = record")
    original = "_new(Record, (k0, v0, ts, h))" if fields else "record"
    if unwrapped:
        original = "_new(Record, (k0, rewrap(v1), ts, h))"
    key, value, changed = "k0", "v0", False
    for i, (kind, _fn, _extra, _on_error) in enumerate(steps):
        if kind not in KINDS:
            raise ValueError(f"unknown chain step {kind!r}")
        received = f"_new(Record, ({key}, {value}, ts, h))" if changed else original
        body: list[str] = []
        if unwrapped and i == 0:  # done by the caller: the step's result is the argument v1
            value, changed = "v1", True
        elif kind == "map_values":
            body.append(f"v{i + 1} = f{i}({value})")
            value, changed = f"v{i + 1}", True
        elif kind == "map_values_with_key":
            body.append(f"v{i + 1} = f{i}({key}, {value})")
            value, changed = f"v{i + 1}", True
        elif kind == "select_key":
            body.append(f"k{i + 1} = f{i}({key}, {value})")
            key, changed = f"k{i + 1}", True
        elif kind == "map":
            body += [f"p = f{i}({key}, {value})",
                     "if not isinstance(p, tuple) or len(p) != 2:",
                     f"    x{i}(p)",
                     f"k{i + 1}, v{i + 1} = p[0], p[1]"]
            key, value, changed = f"k{i + 1}", f"v{i + 1}", True
        elif kind == "filter":
            body.append(f"if not f{i}({key}, {value}):\n            return")
        elif kind == "filter_not":
            body.append(f"if f{i}({key}, {value}):\n            return")
        elif kind == "peek":
            body.append(f"f{i}({key}, {value})")
        if i == len(steps) - 1:  # what follows the chain raises into its last node, as in the nested calls
            if emit_fields:
                body.append(f"emit_fields({key}, {value}, ts, h)")
            else:
                body.append(f"emit(_new(Record, ({key}, {value}, ts, h)))" if changed else f"emit({original})")
        if not body:
            continue
        lines.append("    try:")
        lines += [f"        {line}" for line in body]
        lines += ["    except PystreamsError:", "        raise", "    except Exception as e:",
                  f"        e{i}(e, {received})", "        return"]
    return "\n".join(lines)
