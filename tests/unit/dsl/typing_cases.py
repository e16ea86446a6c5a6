"""Checked by test_typing.py with mypy: user lambdas type-check against KStream[K, V] / KTable[K, V]."""
from pystreams import Consumed, Serdes, StreamsBuilder
from pystreams.dsl import KStream, KTable

builder = StreamsBuilder()
lines: KStream[str, str] = builder.stream("in", Consumed(Serdes.String(), Serdes.String()))
lengths: KStream[str, int] = lines.map_values(lambda v: len(v))
keyed: KStream[str, str] = lines.map_values(lambda k, v: k + v.upper())
counts: KTable[str, int] = lines.group_by(lambda k, v: v).count()
pairs: KStream[int, str] = lines.map(lambda k, v: (len(k), v))
wrong = lines.map_values(lambda v: v + 1)  # E: str + int
