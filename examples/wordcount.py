"""Word count, the Kafka Streams classic: `pystreams run examples/wordcount.py`.

Lines arrive on `text-input`; the running count of every word goes to `word-counts-output` and is printed as
"[word-counts]: word, count" (KStream.print; on a terminal `pystreams run` prints it above its summary line).
"""
from pystreams import (
          Consumed,
          Grouped,
          Materialized,
          Printed,
          Produced,
          Serdes,
          StreamsBuilder,
)

builder = StreamsBuilder()
counts = (builder.stream("text-input", Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
          .flat_map_values(lambda line: line.lower().split())
          .group_by(lambda _key, word: word, Grouped(key_serde=Serdes.String(), value_serde=Serdes.String()))
          .count(Materialized(name="word-counts"))
          .to_stream())
counts.to("word-counts-output", Produced(key_serde=Serdes.String(), value_serde=Serdes.Long()))
counts.print(Printed.to_sys_out().with_label("word-counts"))
topology = builder.build()
