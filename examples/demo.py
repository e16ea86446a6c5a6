"""`make demo`: word count, run by `pystreams run`, on the embedded pystreams broker.

Starts the embedded broker (a child process on a free 127.0.0.1 port, temp data dir), starts the
streams app as a user would (`pystreams run examples/wordcount.py --set bootstrap.servers=...`),
produces lines of text one at a time, prints every count update the app writes to
`word-counts-output` as it arrives, then stops the app with SIGTERM (clean close: final commit,
checkpoints) and the broker. Exits non-zero if the app did not close cleanly or a count is wrong.
"""
from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from pystreams.broker import EmbeddedBroker

from examples.wordcount import topology

ROOT = Path(__file__).resolve().parents[1]
LINES = [
    "all streams lead to kafka",
    "hello kafka streams",
    "join kafka summit",
    "streams of python and kafka",
    "python streams python state",
    "kafka kafka kafka",
]


def start_app(bootstrap: str, state_dir: Path) -> subprocess.Popen[bytes]:
    """`pystreams run examples/wordcount.py` against the given broker, as its own process group."""
    return subprocess.Popen(
        [sys.executable, "-c", "from pystreams.cli import main; main()", "run",
         str(ROOT / "examples" / "wordcount.py"),
         "--set", f"bootstrap.servers={bootstrap}", "--set", "commit.interval.ms=300",
         "--set", f"state.dir={state_dir}", "--summary-interval", "0"],
        cwd=ROOT, start_new_session=True)


def stop_app(app: subprocess.Popen[bytes]) -> int:
    app.send_signal(signal.SIGTERM)
    try:
        return app.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(app.pid, signal.SIGKILL)
        app.wait(10)
        return -signal.SIGKILL


def feed_and_watch(bootstrap: str) -> dict[str, int]:
    """Produce the lines one by one; print each count update as the app emits it."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "demo-watcher",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe(["word-counts-output"])
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    counts: dict[str, int] = {}
    try:
        for number, line in enumerate(LINES):
            producer.produce("text-input", key=f"line-{number}".encode(), value=line.encode())
            producer.flush(10)
            print(f"\n> {line}", flush=True)
            expected = sum(len(x.split()) for x in LINES[:number + 1])
            deadline = time.monotonic() + (30 if number == 0 else 10)
            while time.monotonic() < deadline and sum(counts.values()) < expected:
                for message in consumer.consume(100, 0.2):
                    if message.error() is None:
                        word = message.key().decode()
                        counts[word] = int.from_bytes(message.value(), "big", signed=True)
                        print(f"  {word:<8} -> {counts[word]}", flush=True)
    finally:
        consumer.close()
        del producer
        gc.collect()  # destroy the client before the broker goes away (no disconnect noise)
    return counts


def main() -> int:
    print(topology.describe())
    with EmbeddedBroker() as broker:
        bootstrap = broker.bootstrap_servers
        print(f"embedded broker at {bootstrap}, data in {broker.data_dir}")
        admin = AdminClient({"bootstrap.servers": bootstrap})
        topics = [NewTopic("text-input", 3, 1), NewTopic("word-counts-output", 3, 1)]
        for future in admin.create_topics(topics).values():
            future.result(15)
        del admin
        app = start_app(bootstrap, broker.data_dir / "streams-state")
        try:
            counts = feed_and_watch(bootstrap)
        finally:
            code = stop_app(app)
    expected = Counter(word for line in LINES for word in line.lower().split())
    print("\nfinal counts:", ", ".join(f"{w}={c}" for w, c in sorted(counts.items(), key=lambda kv: -kv[1])))
    if counts != dict(expected):
        print(f"counts differ from the expected {dict(expected)}", file=sys.stderr)
        return 1
    if code != 0:
        print(f"the app exited with {code}", file=sys.stderr)
        return 1
    print("the app closed cleanly and every count is right")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
