"""Quix Streams 3.x doing the three workloads (runs in .cache/bench/quix-venv: see quix_venv.py).

State in Quix's RocksDB stores with changelog topics (its defaults), at-least-once. Quix stamps a
window's outputs with the window start; so that the harness can measure latency as for the other
systems, the window app also keeps the newest input timestamp per window (Max) and stamps with it.
"""
from __future__ import annotations

import logging
import os

from quixstreams import Application
from quixstreams.dataframe.windows import Count, Max

from bench.streams.systems.common import parse_args
from bench.streams.workloads import THRESHOLD, WINDOW_MS


def _count(value: dict, state) -> int:  # type: ignore[no-untyped-def]
    n = state.get("n", 0) + 1
    state.set("n", n)
    return n


def _with_ts(value: dict, key: str, timestamp: int, headers: object) -> dict:
    value["_ts"] = timestamp
    return value


def main() -> None:
    args = parse_args("quix")
    # the "quix-fqb50" system: the same app with the consumer setting pystreams and the loop run with
    # (fetch.queue.backoff.ms 50 instead of librdkafka's 1000), so no ratio comes from a setting only we tuned
    backoff = os.environ.get("BENCH_FETCH_QUEUE_BACKOFF_MS")
    extra = {"fetch.queue.backoff.ms": int(backoff)} if backoff else None
    app = Application(broker_address=args.bootstrap, consumer_group=args.app_id, auto_offset_reset="earliest",
                      commit_interval=args.commit_interval_ms / 1000, state_dir=args.state_dir,
                      processing_guarantee="at-least-once", loglevel=logging.WARNING,
                      consumer_extra_config=extra)
    source = app.topic(args.input, key_deserializer="str", value_deserializer="json")
    sink = app.topic(args.output, key_serializer="str", value_serializer="json")
    sdf = app.dataframe(source)
    if args.workload == "stateless":
        sdf = sdf.filter(lambda v: v["amount"] >= THRESHOLD)
        sdf = sdf.apply(lambda v: {"id": v["id"], "user": v["user"], "cents": int(v["amount"] * 100)})
        sdf.to_topic(sink, key=lambda v: v["user"])
    elif args.workload == "count":
        sdf = sdf.apply(_count, stateful=True)
        sdf.to_topic(sink)
    else:
        sdf = sdf.apply(_with_ts, metadata=True)
        sdf = sdf.tumbling_window(duration_ms=WINDOW_MS).agg(n=Count(), ts=Max("_ts")).current()
        sdf = sdf.set_timestamp(lambda v, k, ts, h: v["ts"])
        sdf = sdf.apply(lambda v, k, ts, h: {"k": f"{k}@{v['start']}", "n": v["n"]}, metadata=True)
        sdf.to_topic(sink, key=lambda v: v["k"])
    app.run()


if __name__ == "__main__":
    main()
