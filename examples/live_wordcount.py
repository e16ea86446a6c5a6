"""A live word count: `pystreams run examples/wordcount.py` on an embedded broker, fed line by line.

Run with `python -m examples.live_wordcount` (from the repository root). It starts the embedded pystreams broker,
starts the streams app as a user would (`pystreams run examples/wordcount.py --set bootstrap.servers=...`),
produces lines of text one at a time, prints every count update the app writes to `word-counts-output` as it
arrives, then stops the app with SIGTERM (clean close: final commit, checkpoints) and the broker.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from pystreams.broker import EmbeddedBroker

ROOT = Path(__file__).resolve().parents[1]
LINES = [
    "all streams lead to kafka",
    "hello kafka streams",
    "join kafka summit",
    "streams of python and kafka",
    "python streams python state",
    "kafka kafka kafka",
]


def main() -> int:
    with EmbeddedBroker(config={"group.initial.rebalance.delay.ms": "0"}) as broker:
        bootstrap = broker.bootstrap_servers
        print(f"embedded broker at {bootstrap}")
        admin = AdminClient({"bootstrap.servers": bootstrap})
        for fut in admin.create_topics([NewTopic("text-input", 3, 1), NewTopic("word-counts-output", 3, 1)]).values():
            fut.result(15)
        app = subprocess.Popen(
            [sys.executable, "-c", "from pystreams.cli import main; main()", "run", str(ROOT / "examples" / "wordcount.py"),
             "--set", f"bootstrap.servers={bootstrap}", "--set", "commit.interval.ms=300",
             "--set", f"state.dir={broker.data_dir / 'streams-state'}", "--summary-interval", "0"],
            cwd=ROOT, start_new_session=True)
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "live-demo",
                             "auto.offset.reset": "earliest", "enable.auto.commit": False})
        consumer.subscribe(["word-counts-output"])
        producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
        counts: dict[str, int] = {}
        try:
            for number, line in enumerate(LINES):
                producer.produce("text-input", key=f"line-{number}".encode(), value=line.encode())
                producer.flush(10)
                print(f"\n> {line}")
                deadline = time.monotonic() + (20 if number == 0 else 3)
                expected = sum(len(x.split()) for x in LINES[:number + 1])
                while time.monotonic() < deadline and sum(counts.values()) < expected:
                    for m in consumer.consume(100, 0.2):
                        if m.error() is None:
                            word, count = m.key().decode(), int.from_bytes(m.value(), "big", signed=True)
                            counts[word] = count
                            print(f"  {word:<8} -> {count}")
        finally:
            consumer.close()
            app.send_signal(signal.SIGTERM)
            try:
                code = app.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(app.pid, signal.SIGKILL)
                code = app.wait(10)
        print("\nfinal counts:", ", ".join(f"{w}={c}" for w, c in sorted(counts.items(), key=lambda kv: -kv[1])))
        return code


if __name__ == "__main__":
    raise SystemExit(main())
