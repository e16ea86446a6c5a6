"""The stateless DSL processors (Kafka's KStreamFilter, KStreamMap, ..., KStreamBranch, PassThrough).

Each class is a ProcessorSupplier: calling it returns a fresh Processor for one task. User functions
use Kafka's arities: predicate(key, value), mapper(key, value) -> (key, value), value mappers with
or without the key, action(key, value).

Besides process(), they offer the task engine a fast path (these processors never change a record's
timestamp or headers, so forwarding needs no record-context change): the one-in-one-out ones
describe their work as a direct_step(), which the engine fuses with the steps that follow into one
function (processor/internals/chain.py); flat_map(_values) and foreach give a direct_process()
function that calls the children itself, one frame per record. Both keep process()'s error handling
(processing.exception.handler through the node's on_error).
"""
from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, Callable, Mapping, Sequence

from pystreams.errors import PystreamsError
from pystreams.processor import Processor, ProcessorContext, Record
from pystreams.processor.internals.chain import fan_out

Emit = Callable[[Any], None]
OnError = Callable[[Exception, Any], None]
_new = tuple.__new__


class DslFunctionError(PystreamsError):
    """A user function given to a DSL operator returned something the operator cannot use."""


def _pass(_key: Any, _value: Any) -> None:
    return None


class _Forwarding(Processor[Any, Any, Any, Any]):
    context: ProcessorContext[Any, Any]

    def init(self, context: ProcessorContext[Any, Any]) -> None:
        self.context = context


class _Supplier:
    """A supplier with a readable repr (shows in describe() of topic extractors and errors)."""

    op = "processor"

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class KStreamFilter(_Supplier):
    """filter / filter_not (and the pass-all filter in front of repartition sinks)."""

    def __init__(self, predicate: Callable[[Any, Any], bool], filter_not: bool = False) -> None:
        self.predicate = predicate
        self.filter_not = filter_not

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        predicate, filter_not = self.predicate, self.filter_not

        class _Filter(_Forwarding):
            def process(self, record: Record[Any, Any]) -> None:
                if filter_not ^ bool(predicate(record.key, record.value)):
                    self.context.forward(record)

            def direct_step(self) -> tuple[str, Callable[..., Any], Any]:
                return ("filter_not" if filter_not else "filter", predicate, None)

        return _Filter()


def pass_all(_key: Any, _value: Any) -> bool:
    """The predicate Kafka puts in a repartition node's filter processor."""
    return True


def key_not_null(key: Any, _value: Any) -> bool:
    """The predicate of a repartition filter ahead of a join that drops null keys."""
    return key is not None


class KStreamMap(_Supplier):
    """map and select_key: mapper(key, value) -> (new_key, new_value)."""

    def __init__(self, mapper: Callable[[Any, Any], Any], operator: str = "map") -> None:
        self.mapper = mapper
        self.operator = operator

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        mapper, operator = self.mapper, self.operator

        class _Map(_Forwarding):
            def process(self, record: Record[Any, Any]) -> None:
                pair = mapper(record.key, record.value)
                if not isinstance(pair, tuple) or len(pair) != 2:
                    raise DslFunctionError(f"KStream.{operator}: the mapper must return (key, value) "
                                           f"(a KeyValue or a 2-tuple), got {pair!r}.")
                self.context.forward(record.with_key(pair[0]).with_value(pair[1]))

            def direct_step(self) -> tuple[str, Callable[..., Any], Any]:
                def bad_pair(pair: Any) -> None:
                    raise DslFunctionError(f"KStream.{operator}: the mapper must return (key, value) "
                                           f"(a KeyValue or a 2-tuple), got {pair!r}.")

                return ("map", mapper, bad_pair)

        return _Map()


class KStreamSelectKey(_Supplier):
    """select_key / group_by's key selector: new key = selector(key, value)."""

    def __init__(self, selector: Callable[[Any, Any], Any]) -> None:
        self.selector = selector

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        selector = self.selector

        class _SelectKey(_Forwarding):
            def process(self, record: Record[Any, Any]) -> None:
                self.context.forward(record.with_key(selector(record.key, record.value)))

            def direct_step(self) -> tuple[str, Callable[..., Any], Any]:
                return ("select_key", selector, None)

        return _SelectKey()


class KStreamMapValues(_Supplier):
    """map_values: mapper(value) or mapper(key, value) -> new value; the key is kept."""

    def __init__(self, mapper: Callable[..., Any], with_key: bool = False) -> None:
        self.mapper = mapper
        self.with_key = with_key

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        mapper, with_key = self.mapper, self.with_key

        class _MapValues(_Forwarding):
            def process(self, record: Record[Any, Any]) -> None:
                value = mapper(record.key, record.value) if with_key else mapper(record.value)
                self.context.forward(record.with_value(value))

            def direct_step(self) -> tuple[str, Callable[..., Any], Any]:
                return ("map_values_with_key" if with_key else "map_values", mapper, None)

        return _MapValues()


def _iterable(result: Any, operator: str) -> Iterable[Any]:
    if result is None or isinstance(result, (str, bytes)) or not isinstance(result, Iterable):
        raise DslFunctionError(f"KStream.{operator}: the mapper must return an iterable (e.g. a list), "
                               f"got {type(result).__name__} {result!r}.")
    return result


class KStreamFlatMap(_Supplier):
    """flat_map: mapper(key, value) -> iterable of (key, value)."""

    def __init__(self, mapper: Callable[[Any, Any], Iterable[Any]]) -> None:
        self.mapper = mapper

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        mapper = self.mapper

        class _FlatMap(_Forwarding):
            def process(self, record: Record[Any, Any]) -> None:
                for pair in _iterable(mapper(record.key, record.value), "flat_map"):
                    if not isinstance(pair, tuple) or len(pair) != 2:
                        raise DslFunctionError("KStream.flat_map: each element must be (key, value), "
                                               f"got {pair!r}.")
                    self.context.forward(record.with_key(pair[0]).with_value(pair[1]))

            def direct_process(self, children: Sequence[Emit], by_name: Mapping[str, Emit],
                               on_error: OnError) -> Emit:
                emit = fan_out(children)

                def run(record: Any) -> None:
                    try:
                        ts, headers = record[2], record[3]
                        for pair in _iterable(mapper(record[0], record[1]), "flat_map"):
                            if not isinstance(pair, tuple) or len(pair) != 2:
                                raise DslFunctionError("KStream.flat_map: each element must be (key, value), "
                                                       f"got {pair!r}.")
                            emit(_new(Record, (pair[0], pair[1], ts, headers)))
                    except PystreamsError:
                        raise
                    except Exception as e:
                        on_error(e, record)

                return run

        return _FlatMap()


class KStreamFlatMapValues(_Supplier):
    """flat_map_values: mapper(value) or mapper(key, value) -> iterable of values."""

    def __init__(self, mapper: Callable[..., Iterable[Any]], with_key: bool = False) -> None:
        self.mapper = mapper
        self.with_key = with_key

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        mapper, with_key = self.mapper, self.with_key

        class _FlatMapValues(_Forwarding):
            def process(self, record: Record[Any, Any]) -> None:
                result = mapper(record.key, record.value) if with_key else mapper(record.value)
                for value in _iterable(result, "flat_map_values"):
                    self.context.forward(record.with_value(value))

            def direct_process(self, children: Sequence[Emit], by_name: Mapping[str, Emit],
                               on_error: OnError) -> Emit:
                emit = fan_out(children)

                def run(record: Any) -> None:
                    try:
                        key, ts, headers = record[0], record[2], record[3]
                        result = mapper(key, record[1]) if with_key else mapper(record[1])
                        for value in _iterable(result, "flat_map_values"):
                            emit(_new(Record, (key, value, ts, headers)))
                    except PystreamsError:
                        raise
                    except Exception as e:
                        on_error(e, record)

                return run

        return _FlatMapValues()


class KStreamPeek(_Supplier):
    """peek: action(key, value), then forward unchanged."""

    def __init__(self, action: Callable[[Any, Any], None]) -> None:
        self.action = action

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        action = self.action

        class _Peek(_Forwarding):
            def process(self, record: Record[Any, Any]) -> None:
                action(record.key, record.value)
                self.context.forward(record)

            def direct_step(self) -> tuple[str, Callable[..., Any], Any]:
                return ("peek", action, None)

        return _Peek()


class ForeachProcessorSupplier(_Supplier):
    """foreach: action(key, value); forwards nothing."""

    def __init__(self, action: Callable[[Any, Any], None]) -> None:
        self.action = action

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        action = self.action

        class _Foreach(Processor[Any, Any, Any, Any]):
            def process(self, record: Record[Any, Any]) -> None:
                action(record.key, record.value)

            def direct_process(self, children: Sequence[Emit], by_name: Mapping[str, Emit],
                               on_error: OnError) -> Emit:
                def run(record: Any) -> None:
                    try:
                        action(record[0], record[1])
                    except PystreamsError:
                        raise
                    except Exception as e:
                        on_error(e, record)

                return run

        return _Foreach()


class PassThrough(_Supplier):
    """merge and branch children: forward every record."""

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        class _PassThrough(_Forwarding):
            def process(self, record: Record[Any, Any]) -> None:
                self.context.forward(record)

            def direct_step(self) -> tuple[str, Callable[..., Any], Any]:
                return ("pass", _pass, None)

        return _PassThrough()


class KStreamBranch(_Supplier):
    """split(): the first matching predicate's child gets the record; else the default child if any."""

    def __init__(self, predicates: tuple[Callable[[Any, Any], bool], ...], children: tuple[str, ...]) -> None:
        self.predicates = predicates
        self.children = children

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        predicates, children = self.predicates, self.children

        class _Branch(_Forwarding):
            def process(self, record: Record[Any, Any]) -> None:
                for index, predicate in enumerate(predicates):
                    if predicate(record.key, record.value):
                        self.context.forward(record, children[index])
                        return
                if len(children) > len(predicates):
                    self.context.forward(record, children[-1])

        return _Branch()


class KStreamPrint(_Supplier):
    """print(): "[label]: key, value" per record, to stdout or a file (Kafka's PrintForeachAction)."""

    def __init__(self, label: str, mapper: Callable[[Any, Any], str] | None = None,
                 file_path: str | None = None) -> None:
        self.label = label
        self.mapper = mapper
        self.file_path = file_path

    def __call__(self) -> Processor[Any, Any, Any, Any]:
        label, mapper, file_path = self.label, self.mapper, self.file_path

        class _Print(Processor[Any, Any, Any, Any]):
            def init(self, context: ProcessorContext[Any, Any]) -> None:
                self.out = open(file_path, "a", encoding="utf-8") if file_path else sys.stdout

            def process(self, record: Record[Any, Any]) -> None:
                text = (mapper(record.key, record.value) if mapper is not None
                        else f"{_java_str(record.key)}, {_java_str(record.value)}")
                self.out.write(f"[{label}]: {text}\n")
                self.out.flush()

            def close(self) -> None:
                if file_path and self.out is not sys.stdout:
                    self.out.close()

        return _Print()


def _java_str(value: Any) -> str:
    return "null" if value is None else str(value)
