"""faust-streaming doing the three workloads: agents over the input topic, tables on RocksDB
(faust's rocksdict driver) with changelogs, at-least-once. Each output is sent with its input's
timestamp (Kafka Streams' rule), which the harness' latency measurement relies on.
"""
from __future__ import annotations

import json
import logging
import sys
from datetime import timedelta

import faust

from bench.streams.systems.common import parse_args
from bench.streams.workloads import THRESHOLD, WINDOW_MS


def build(args) -> faust.App:  # type: ignore[no-untyped-def]
    app = faust.App(args.app_id, broker=f"kafka://{args.bootstrap}", store="rocksdb://",
                    datadir=args.state_dir, topic_partitions=3, topic_replication_factor=1,
                    broker_commit_interval=args.commit_interval_ms / 1000, web_enabled=False,
                    consumer_auto_offset_reset="earliest", processing_guarantee="at_least_once")
    source = app.topic(args.input, key_type=bytes, value_type=bytes, key_serializer="raw",
                       value_serializer="raw")
    sink = app.topic(args.output, key_type=bytes, value_type=bytes, key_serializer="raw",
                     value_serializer="raw")
    workload = args.workload
    if workload == "stateless":
        @app.agent(source)
        async def stateless(stream):  # type: ignore[no-untyped-def]
            async for event in stream.events():
                doc = json.loads(event.value)
                if doc["amount"] >= THRESHOLD:
                    out = {"id": doc["id"], "user": doc["user"], "cents": int(doc["amount"] * 100)}
                    await sink.send(key=doc["user"].encode(), value=json.dumps(out).encode(),
                                    timestamp=event.message.timestamp)
    elif workload == "count":
        counts = app.Table("word-counts", default=int, partitions=3, key_type=str, value_type=int)

        @app.agent(source)
        async def count(stream):  # type: ignore[no-untyped-def]
            async for event in stream.events():
                word = json.loads(event.value)["word"]
                counts[word] += 1
                await sink.send(key=word.encode(), value=str(counts[word]).encode(),
                                timestamp=event.message.timestamp)
    else:
        windows = app.Table("window-counts", default=int, partitions=3, key_type=str, value_type=int).tumbling(
            timedelta(milliseconds=WINDOW_MS), expires=timedelta(days=1)).relative_to_stream()

        @app.agent(source)
        async def window(stream):  # type: ignore[no-untyped-def]
            async for event in stream.events():
                word = json.loads(event.value)["word"]
                windows[word] += 1
                ts_ms = int(event.message.timestamp * 1000)
                key = f"{word}@{ts_ms - ts_ms % WINDOW_MS}"
                await sink.send(key=key.encode(), value=str(windows[word].current()).encode(),
                                timestamp=event.message.timestamp)
    return app


def main() -> None:
    args = parse_args("faust")
    logging.basicConfig(level=logging.WARNING)
    app = build(args)
    sys.argv = [sys.argv[0], "worker", "--loglevel", "warn"]
    app.main()


if __name__ == "__main__":
    main()
