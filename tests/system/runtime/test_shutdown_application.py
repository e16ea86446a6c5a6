"""SHUTDOWN_APPLICATION: one instance's uncaught-exception handler asks for it, and every instance of the
application shuts down (state ERROR), carried by the Streams assignor's SHUTDOWN_REQUESTED like Kafka."""
from __future__ import annotations

import time

import pytest

from pystreams import Consumed, Produced, Serdes, StreamsBuilder
from pystreams.runtime import KafkaStreams, State, StreamThreadExceptionResponse
from tests.integration.runtime.helpers import create_topics, produce_lines, unique

pytestmark = [pytest.mark.system]


def _topology(source: str, sink: str, fail_on_poison: bool):
    def check(value: str) -> str:
        if fail_on_poison and value == "poison":
            raise ValueError("poison record")
        return value.upper()

    builder = StreamsBuilder()
    (builder.stream(source, Consumed(key_serde=Serdes.String(), value_serde=Serdes.String()))
        .map_values(check).to(sink, Produced(key_serde=Serdes.String(), value_serde=Serdes.String())))
    return builder.build()


@pytest.mark.parametrize("threads", [1, 2])  # 1: a thread is added to carry the request; 2: the live one rejoins
def test_shutdown_application_stops_every_instance(kafka_broker, tmp_path, threads):
    bootstrap = kafka_broker.bootstrap_servers
    app_id, source, sink = unique("shutdown-app"), unique("in"), unique("out")
    create_topics(bootstrap, 4, source, sink)
    handled: list[int] = []
    apps = []
    for i in range(2):
        # only instance 0 fails on the poison record: instance 1 can only stop because it was asked to
        app = KafkaStreams(_topology(source, sink, fail_on_poison=i == 0), {
            "application.id": app_id, "bootstrap.servers": bootstrap, "state.dir": str(tmp_path / f"s{i}"),
            "commit.interval.ms": 100, "consumer.session.timeout.ms": 10000, "pystreams.assignor": "streams",
            "num.stream.threads": threads if i == 0 else 1})

        def handler(error: BaseException, i: int = i) -> StreamThreadExceptionResponse:
            handled.append(i)
            return StreamThreadExceptionResponse.SHUTDOWN_APPLICATION

        app.set_uncaught_exception_handler(handler)
        apps.append(app)
    try:
        for app in apps:
            app.start()
        deadline = time.monotonic() + 60
        # the assignor balances per thread: 4 tasks over 2 + 1 threads may settle 2/2 or 3/1; what the test
        # needs is every task assigned and every thread of instance 0 owning one (so each meets a poison record)
        def settled() -> bool:
            running = all(a.state is State.RUNNING for a in apps)
            total = sum(len(t.tasks) for a in apps for t in a.threads)
            return running and total == 4 and all(t.tasks for t in apps[0].threads) \
                and all(t.tasks for t in apps[1].threads)

        while not settled():
            assert time.monotonic() < deadline, [(a.state, [len(t.tasks) for t in a.threads]) for a in apps]
            time.sleep(0.1)
        produce_lines(bootstrap, source, ["fine"] * 20 + ["poison"] * 8)  # keys spread over all 4 partitions
        for app in apps:
            assert app.wait_for_state(State.ERROR, timeout=60), [a.state for a in apps]
        assert set(handled) == {0}  # only instance 0 failed (each of its threads meets a poison record)
        assert apps[0].shutdown_requested != 0 and apps[1].shutdown_requested == 0
    finally:
        for app in apps:
            app.close(30)
