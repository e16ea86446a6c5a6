"""`make demo`: word count, run by `pystreams run`, on an embedded pystreams broker, in two acts.

1. Starts an embedded broker (a child process on a free 127.0.0.1 port, temp data dir), then the app as a user
   runs it: `pystreams run examples/wordcount.py --set bootstrap.servers=...`, which owns the terminal while it
   runs: the counts the app prints scroll by above its live summary line. This script feeds lines to
   `text-input` one at a time, waits for their counts on `word-counts-output`, then stops the app with SIGTERM
   (clean close: final commit, checkpoints).
2. Deletes the app's state directory and starts it again: it restores its counts from the changelog topic (the
   restore progress bar), and the next lines' counts continue from there.

The broker outlives both runs, so the changelog is there to restore from. This script prints only while the app
is not running (one process draws on the terminal at a time). Exits non-zero if the app did not close cleanly or a
count is wrong (a count that restarted from 1 after the restore is wrong).
"""
from __future__ import annotations

import gc
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from pystreams.broker import EmbeddedBroker

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "examples" / "wordcount.py"
APPLICATION_ID = "wordcount"  # `pystreams run` names the app after its script
FIRST = [
    "all streams lead to kafka",
    "hello kafka streams",
    "join kafka summit",
    "streams of python and kafka",
    "python streams python state",
    "kafka kafka kafka",
]
SECOND = [
    "kafka streams restored its state",
    "python counts on kafka",
]
PAUSE = 0.7  # seconds between lines once a line's counts arrived, to watch them change


def start_app(bootstrap: str, state_dir: Path) -> subprocess.Popen[bytes]:
    """`pystreams run examples/wordcount.py` on the terminal, in its own session (Ctrl-C reaches this script,
    which stops the app with SIGTERM)."""
    return subprocess.Popen(
        [sys.executable, "-c", "from pystreams.cli import main; main()", "run", str(APP),
         "--set", f"bootstrap.servers={bootstrap}", "--set", "commit.interval.ms=300",
         "--set", f"state.dir={state_dir}"],
        cwd=ROOT, start_new_session=True)


def stop_app(app: subprocess.Popen[bytes]) -> int:
    app.send_signal(signal.SIGTERM)
    try:
        return app.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(app.pid, signal.SIGKILL)
        app.wait(10)
        return -signal.SIGKILL


class Feeder:
    """Produces lines one at a time and follows `word-counts-output` (silently: the app prints the counts)."""

    def __init__(self, bootstrap: str) -> None:
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "demo-watcher",
                                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
        self.consumer.subscribe(["word-counts-output"])
        self.producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
        self.counts: dict[str, int] = {}
        self.sent = 0

    def feed(self, lines: list[str], first_wait: float) -> bool:
        """Each line, then wait until every word of it is counted (the counts add up); False on a timeout."""
        for index, line in enumerate(lines):
            self.producer.produce("text-input", key=f"line-{self.sent}".encode(), value=line.encode())
            self.producer.flush(10)
            self.sent += 1
            expected = sum(self.counts.values()) + len(line.split())
            deadline = time.monotonic() + (first_wait if index == 0 else 15)
            while sum(self.counts.values()) < expected:
                if time.monotonic() > deadline:
                    return False
                for message in self.consumer.consume(100, 0.2):
                    if message.error() is None:
                        self.counts[message.key().decode()] = int.from_bytes(message.value(), "big", signed=True)
            time.sleep(PAUSE)
        return True

    def close(self) -> None:
        self.consumer.close()
        del self.producer
        gc.collect()  # destroy the clients before the broker goes away (no disconnect noise)


def act(title: str, bootstrap: str, state_dir: Path, feeder: Feeder, lines: list[str]) -> tuple[int, bool]:
    print(f"\n{title}\nfeeding, one at a time:", *(f"  > {line}" for line in lines), "", sep="\n", flush=True)
    app = start_app(bootstrap, state_dir)
    try:
        fed = feeder.feed(lines, first_wait=60)
    finally:
        code = stop_app(app)
    return code, fed


def main() -> int:
    with EmbeddedBroker(config={"group.initial.rebalance.delay.ms": "0"}) as broker:
        bootstrap = broker.bootstrap_servers
        print(f"embedded pystreams broker at {bootstrap} (data in {broker.data_dir})", flush=True)
        admin = AdminClient({"bootstrap.servers": bootstrap})
        for future in admin.create_topics([NewTopic("text-input", 3, 1),
                                           NewTopic("word-counts-output", 3, 1)]).values():
            future.result(15)
        del admin
        state_dir = broker.data_dir / "streams-state"
        feeder = Feeder(bootstrap)
        try:
            code1, fed1 = act("1. `pystreams run examples/wordcount.py` (Ctrl-C stops the demo)", bootstrap,
                              state_dir, feeder, FIRST)
            shutil.rmtree(state_dir / APPLICATION_ID, ignore_errors=True)
            code2, fed2 = act(f"2. its state dir deleted ({state_dir / APPLICATION_ID}), the app starts again: it "
                              "restores the counts from the changelog topic, then counts on", bootstrap, state_dir,
                              feeder, SECOND)
        finally:
            feeder.close()
        counts = feeder.counts
    expected = dict(Counter(word for line in FIRST + SECOND for word in line.lower().split()))
    print("\nfinal counts:", ", ".join(f"{w}={c}" for w, c in sorted(counts.items(), key=lambda kv: -kv[1])))
    problems = [f"run {i} exited with {code}" for i, code in ((1, code1), (2, code2)) if code != 0]
    problems += [f"run {i}: some counts did not arrive in time" for i, fed in ((1, fed1), (2, fed2)) if not fed]
    if counts != expected:
        problems.append(f"counts differ from the expected {expected}")
    if problems:
        print("demo failed: " + "; ".join(problems), file=sys.stderr)
        return 1
    print("both runs closed cleanly, and every count is right (the second run went on from the restored state)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
