"""The workload's writer: a transactional copier (KIP-98/447 consume-transform-produce with
confluent-kafka) run as a child process so the test can SIGKILL it anywhere, logging every
client operation to a history file (history.py).

    python -m tests.system.jepsen.copier BOOTSTRAP INPUT OUTPUT GROUP TRANSACTIONAL_ID \
        PARTITIONS NAME HISTORY [--timeout-ms MS] [--batch N] [--abort-txns 3,7]

It reads its input partitions (comma-separated; assigned by hand, so a restart needs no
rebalance) at read_committed from the group's committed offsets, and for each poll batch:
begins a transaction, produces each integer to the same partition of OUTPUT (key = the
transaction's id, so readers can tell which transaction wrote a record), sends the input
offsets to the transaction, commits. An abortable error aborts and rewinds to the committed
offsets, logging under a new process name (`NAME.session`), because its reads go back.
`--abort-txns` (the checker's negative control only): those transactions of this incarnation
(numbered from 1) wait for every record's delivery report and then abort on purpose (logged as
`txn-abort` with `deliberate: true`), so an aborted transaction's records are in the log for
certain. SIGTERM stops it between transactions (exit 0); a fatal error exits 3 (e.g. fenced: the
coordinator aborted a transaction that outlived transaction.timeout.ms while the broker was
down, and bumped the epoch; the test starts a new copier, as an application would).

Prints "ready" once init_transactions (which fences its killed predecessor) returned."""
from __future__ import annotations

import argparse
import signal
import sys
from typing import Any, Callable

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition

from tests.system.jepsen.history import History


class Copier:
    """One incarnation of a copier; `run()` until SIGTERM or a fatal error."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.history = History(args.history)
        self.session = 0
        self.txn_count = 0
        self.stopping = False
        ms = str(args.timeout_ms)
        self.producer = Producer({
            "bootstrap.servers": args.bootstrap, "transactional.id": args.transactional_id,
            "linger.ms": 5, "message.timeout.ms": ms, "request.timeout.ms": ms,
            "transaction.timeout.ms": str(max(args.timeout_ms * 3, 10000))})
        self.consumer = Consumer({
            "bootstrap.servers": args.bootstrap, "group.id": args.group,
            "isolation.level": "read_committed", "enable.auto.commit": False,
            "auto.offset.reset": "earliest"})
        self.tps = [TopicPartition(args.input, int(p)) for p in args.partitions.split(",")]

    @property
    def process(self) -> str:
        return f"{self.args.name}.{self.session}"

    def rewind(self) -> None:
        """Back to the group's committed offsets; a new session, as reads go backwards."""
        committed = self.consumer.committed(self.tps, timeout=60)
        self.consumer.assign([TopicPartition(tp.topic, tp.partition,
                                             tp.offset if tp.offset >= 0 else OFFSET_BEGINNING)
                              for tp in committed])
        self.session += 1

    def run(self) -> int:
        self.producer.init_transactions(60)
        self.rewind()
        print("ready", flush=True)
        while not self.stopping:
            self.history.log(self.process, "invoke", "poll")
            msgs = [m for m in self.consumer.consume(self.args.batch, 0.5) if not m.error()]
            self.history.log(self.process, "ok", "poll", [int(m.value() or b"") for m in msgs],
                             [[m.topic(), m.partition(), m.offset()] for m in msgs])
            if msgs and not self.copy(msgs):
                return 3
        return 0

    def copy(self, msgs: list[Any]) -> bool:
        """One transaction; False on a fatal error."""
        self.txn_count += 1
        txn = f"{self.args.name}.{self.txn_count}"
        log, step = self.history.log, "txn-begin"

        def delivered(err: Any, msg: Any) -> None:
            value = int(msg.value() or b"")
            if err is None:
                log(self.process, "ok", "send", [value],
                    [[msg.topic(), msg.partition(), msg.offset()]], txn=txn)
            else:
                log(self.process, "info", "send", [value], txn=txn, error=str(err))
        try:
            log(self.process, "invoke", step, txn=txn)
            self.producer.begin_transaction()
            log(self.process, "ok", step, txn=txn)
            step = "send"
            positions: dict[int, int] = {}
            for m in msgs:
                log(self.process, "invoke", "send", [int(m.value() or b"")], txn=txn)
                self.producer.produce(self.args.output, key=txn.encode(), value=m.value(),
                                      partition=m.partition(), on_delivery=delivered)
                positions[m.partition()] = m.offset() + 1
            if self.txn_count in self.args.abort_txns:
                return self.abort_after_delivery(txn)
            step = "send-offsets"
            offsets = [[self.args.input, p, o] for p, o in sorted(positions.items())]
            log(self.process, "invoke", step, offsets=offsets, txn=txn)
            group = self.consumer.consumer_group_metadata()
            self._retry(lambda: self.producer.send_offsets_to_transaction(
                [TopicPartition(t, p, o) for t, p, o in offsets], group, 60))
            log(self.process, "ok", step, offsets=offsets, txn=txn)
            step = "txn-commit"
            log(self.process, "invoke", step, txn=txn)
            self._retry(lambda: self.producer.commit_transaction(60))
            log(self.process, "ok", step, txn=txn)
            return True
        except KafkaException as exc:
            err = exc.args[0]
            if not err.txn_requires_abort():
                log(self.process, "info", step, txn=txn, error=str(err))
                print(f"fatal in {step}: {err}", file=sys.stderr, flush=True)
                return False
            log(self.process, "info" if step == "send" else "fail", step, txn=txn,
                error=str(err))
            return self.abort(txn, step)

    @staticmethod
    def _retry(call: Callable[[], None], attempts: int = 10) -> None:
        """A transactional call, again while librdkafka says its error is retriable (e.g. a
        timeout while the broker restarts: the outcome is still open, a retry finishes it)."""
        for attempt in range(attempts):
            try:
                call()
                return
            except KafkaException as exc:
                if not exc.args[0].retriable() or attempt == attempts - 1:
                    raise

    def abort_after_delivery(self, txn: str) -> bool:
        """The negative control's abort: first every delivery report (in a transaction the
        broker acknowledges a batch once it is appended to the log, long before the commit;
        the callbacks log each record's offset), then abort. A read_uncommitted reader must
        read those records; a killed copier gives no such guarantee (it may die before its
        Produce left, or after its EndTxn)."""
        left = self.producer.flush(60)
        if left:
            print(f"{txn}: {left} records undelivered before the deliberate abort",
                  file=sys.stderr, flush=True)
        return self.abort(txn, "send", deliberate=True)

    def abort(self, txn: str, step: str, deliberate: bool = False) -> bool:
        """Abort after an abortable error (or on purpose), then redo from the committed
        offsets."""
        extra: dict[str, Any] = {"deliberate": True} if deliberate else {}
        self.history.log(self.process, "invoke", "txn-abort", txn=txn, **extra)
        try:
            self._retry(lambda: self.producer.abort_transaction(60))
        except KafkaException as exc:
            self.history.log(self.process, "info", "txn-abort", txn=txn, error=str(exc),
                             **extra)
            print(f"abort failed after {step}: {exc}", file=sys.stderr, flush=True)
            return False
        self.history.log(self.process, "ok", "txn-abort", txn=txn, **extra)
        self.rewind()
        return True

    def close(self) -> None:
        try:
            self.consumer.close()
            self.producer.flush(5)
        except KafkaException as exc:  # e.g. fenced: the fatal error was already reported
            print(f"close: {exc}", file=sys.stderr, flush=True)
        finally:
            self.history.close()


def _numbers(text: str) -> frozenset[int]:
    """'3,7' -> {3, 7}; '' -> none."""
    return frozenset(int(n) for n in text.split(",") if n.strip())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.system.jepsen.copier")
    for name in ("bootstrap", "input", "output", "group", "transactional_id", "partitions",
                 "name", "history"):
        parser.add_argument(name)
    parser.add_argument("--timeout-ms", type=int, default=5000,
                        help="message/request timeout (a proxy may hold a request)")
    parser.add_argument("--batch", type=int, default=200, help="records per transaction, max")
    parser.add_argument("--abort-txns", type=_numbers, default=frozenset(),
                        help="transactions (1, 2, ...) to abort once delivered (negative "
                             "control)")
    copier = Copier(parser.parse_args(argv))

    def stop(signum: int, frame: object) -> None:
        copier.stopping = True
    signal.signal(signal.SIGTERM, stop)
    try:
        return copier.run()
    finally:
        copier.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
