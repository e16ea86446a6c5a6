"""bench/streams: pystreams against Kafka Streams, Quix Streams, Faust and a hand-written loop (issue 7).

One command runs three workloads on each system, side by side on the same broker (ours, then Apache
Kafka): `python -m bench.streams.run --help`. Measurements, not tests: see docs/benchmarks.md.
"""
