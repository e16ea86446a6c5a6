"""Word count, the Kafka Streams classic: `pystreams run examples/wordcount.py`.

Lines arrive on `text-input`; the running count of every word goes to `word-counts-output`.
"""
from pystreams import Consumed, Grouped, Materialized, Produced, Serdes, StreamsBuilder

builder = StreamsBuilder()
(builder.stream("text-input", Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
    .flat_map_values(lambda line: line.lower().split())
    .group_by(lambda _key, word: word, Grouped(key_serde=Serdes.String(), value_serde=Serdes.String()))
    .count(Materialized(name="word-counts"))
    .to_stream()
    .to("word-counts-output", Produced(key_serde=Serdes.String(), value_serde=Serdes.Long())))
topology = builder.build()
