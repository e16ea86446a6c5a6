"""`pystreams run --instances N` on its embedded broker: each instance has its own state.dir
(<state.dir>/instance-<i>) and application.server port (port+i), so standbys, interactive queries, /metrics and
GlobalKTables work on every instance; a GlobalKTable's source topic is created on the embedded broker."""
from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.integration.cli.run_process import RunProcess, free_port_run, read_until
from tests.integration.runtime.helpers import (
    produce_lines,
    random_lines,
    read_counts_until,
    word_counts,
)

pytestmark = pytest.mark.integration

WORDCOUNT = '''
from pystreams import Consumed, Grouped, Materialized, Produced, Serdes, StreamsBuilder
S = Serdes.String()
builder = StreamsBuilder()
(builder.stream("text", Consumed(key_serde=S, value_serde=S))
    .flat_map_values(lambda line: line.lower().split())
    .group_by(lambda _key, word: word, Grouped(key_serde=S, value_serde=S))
    .count(Materialized(name="counts"))
    .to_stream()
    .to("counts-out", Produced(key_serde=S, value_serde=Serdes.Long())))
topology = builder.build()
'''

GLOBAL_JOIN = '''
from pystreams import Consumed, Materialized, Produced, Serdes, StreamsBuilder
S = Serdes.String()
builder = StreamsBuilder()
customers = builder.global_table("customers", Consumed(key_serde=S, value_serde=S),
                                 Materialized(name="customers-store"))
(builder.stream("orders", Consumed(key_serde=S, value_serde=S))
    .join(customers, lambda _order_id, customer_id: customer_id, lambda item, name: f"{item} for {name}")
    .to("enriched", Produced(key_serde=S, value_serde=S)))
topology = builder.build()
'''


def _get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _query(port: int, store: str, key: str) -> tuple[int, object]:
    status, body = _get(port, f"/v1/stores/{store}?key={urllib.parse.quote(json.dumps(key))}")
    return status, json.loads(body).get("value") if status == 200 else body


def _latest(run: RunProcess, instance: int, field: str) -> int:
    found = run.matches(rf"^\[instance {instance}\] RUNNING .* {field} (\d+)")
    return int(found[-1].group(1)) if found else -1


def _wait(condition, timeout: float, what: str, run: RunProcess) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline or run.proc.poll() is not None:
            raise AssertionError(f"{what} not reached within {timeout} s; output:\n{run.digest()}")
        time.sleep(0.2)


def _task_dirs(app_dir: Path) -> set[str]:
    return {p.name for p in app_dir.iterdir() if re.fullmatch(r"\d+_\d+", p.name)} if app_dir.is_dir() else set()


def test_two_instances_with_standbys_and_queries_on_their_own_ports(tmp_path):
    script = tmp_path / "wc_instances.py"
    script.write_text(WORDCOUNT)
    port = free_port_run(2)
    state = tmp_path / "state"
    with RunProcess([str(script), "--instances", "2", "--set", f"state.dir={state}",
                     "--set", "num.standby.replicas=1", "--set", f"application.server=127.0.0.1:{port}",
                     "--set", "commit.interval.ms=200", "--partitions", "3", "--summary-interval", "0.3"],
                    cwd=tmp_path) as run:
        bootstrap = run.wait_for(r"embedded pystreams broker at (127\.0\.0\.1:\d+)", 60)[0].group(1)
        for i in range(2):  # said before the children start, and by each child
            run.wait_for(rf"^instance {i}: state.dir={re.escape(str(state / f'instance-{i}'))}, "
                         rf"application.server=127\.0\.0\.1:{port + i}$", 30)
            run.wait_for(rf"^\[instance {i}\] running .*state.dir={re.escape(str(state / f'instance-{i}'))}, "
                         rf"application.server=127\.0\.0\.1:{port + i}\)", 60)
        # 6 tasks (2 sub-topologies x 3 partitions) split over both, one standby per stateful task (3)
        _wait(lambda: _latest(run, 0, "tasks") >= 1 and _latest(run, 1, "tasks") >= 1
              and _latest(run, 0, "tasks") + _latest(run, 1, "tasks") == 6
              and _latest(run, 0, "standbys") + _latest(run, 1, "standbys") == 3, 90,
              "both instances active with 3 standbys between them", run)
        lines = random_lines(7, 300)
        produce_lines(bootstrap, "text", lines)
        expected = word_counts(lines)
        assert read_counts_until(bootstrap, "counts-out", lambda c: c == expected, timeout=60) == expected

        # every key answered by the instance that holds it; each instance holds some
        holders: dict[int, int] = {port: 0, port + 1: 0}
        for word, count in expected.items():
            answers = {p: _query(p, "counts", word) for p in holders}
            values = [v for status, v in answers.values() if status == 200 and v is not None]
            assert values == [count], (word, count, answers)
            for p, (status, v) in answers.items():
                holders[p] += status == 200 and v is not None
        assert all(holders.values()), holders
        for p in holders:
            status, body = _get(p, "/metrics")
            assert status == 200 and b"process_total" in body, body[:500]

        app_dirs = [state / f"instance-{i}" / "wc-instances" for i in range(2)]
        # each stateful task (1_p) has a directory on both instances: the active's and the standby's
        _wait(lambda: all({"1_0", "1_1", "1_2"} <= _task_dirs(d) for d in app_dirs), 30,
              "stateful task dirs on both instances", run)
        assert run.stop(90) == 0, run.digest()
        out = run.output()
    assert "[instance 0] closed cleanly" in out and "[instance 1] closed cleanly" in out
    assert not (state / "wc-instances").exists()  # nothing in the shared state.dir itself


@pytest.mark.parametrize("instances", [1, 2])
def test_a_global_table_join_runs_on_the_embedded_broker(tmp_path, instances):
    script = tmp_path / "orders_app.py"
    script.write_text(GLOBAL_JOIN)
    port = free_port_run(instances)
    state = tmp_path / "state"
    with RunProcess([str(script), "--instances", str(instances), "--set", f"state.dir={state}",
                     "--set", f"application.server=127.0.0.1:{port}", "--set", "commit.interval.ms=200",
                     "--partitions", "2", "--summary-interval", "0.3"], cwd=tmp_path) as run:
        bootstrap = run.wait_for(r"embedded pystreams broker at (127\.0\.0\.1:\d+)", 60)[0].group(1)
        created = run.wait_for(r"created topics (.*) \(2 partitions\)", 30)[0].group(1)
        assert sorted(created.split(", ")) == ["customers", "enriched", "orders"]
        run.wait_for(r"running application.id=orders-app", 60, count=instances)
        customers = {f"c{i}": f"name-{i}" for i in range(20)}
        from confluent_kafka import Producer

        producer = Producer({"bootstrap.servers": bootstrap})
        for key, name in customers.items():
            producer.produce("customers", key=key.encode(), value=name.encode())
        assert producer.flush(30) == 0
        # every instance has the whole global table (its own global store under its own state.dir)
        for p in range(port, port + instances):
            _wait(lambda p=p: _query(p, "customers-store", "c19") == (200, "name-19"), 60,
                  f"the global store on port {p}", run)
        orders = {f"o{i}": f"c{i % 20}" for i in range(60)}
        for key, customer in orders.items():
            producer.produce("orders", key=key.encode(), value=customer.encode())
        assert producer.flush(30) == 0
        got = read_until(bootstrap, "enriched", lambda out: len({k for k, _v in out}) >= len(orders))
        assert {k.decode(): v.decode() for k, v in got} == {
            key: f"{customer} for {customers[customer]}" for key, customer in orders.items()}
        assert run.stop(90) == 0, run.digest()
    app_dirs = ([state / "orders-app"] if instances == 1 else
                [state / f"instance-{i}" / "orders-app" for i in range(instances)])
    assert all((d / "global").is_dir() for d in app_dirs), list(state.rglob("global"))


ENV_WORDCOUNT = '''
import os
from tests.integration.runtime.helpers import wordcount_topology
topology = wordcount_topology(os.environ["WC_SOURCE"], os.environ["WC_SINK"])
'''


def test_instances_close_cleanly_when_their_parent_is_killed(pystreams_broker, tmp_path):
    """SIGKILL of the `--instances` process: its children notice, close cleanly and exit (none runs on)."""
    import os
    import signal

    from tests.integration.runtime.helpers import create_topics, unique

    bootstrap = pystreams_broker.bootstrap_servers
    env = {"WC_SOURCE": unique("text"), "WC_SINK": unique("counts")}
    create_topics(bootstrap, 2, env["WC_SOURCE"], env["WC_SINK"])
    script = tmp_path / "orphan_app.py"
    script.write_text(ENV_WORDCOUNT)
    with RunProcess([str(script), "--instances", "2", "--set", f"bootstrap.servers={bootstrap}",
                     "--set", f"application.id={unique('orphans')}", "--set", f"state.dir={tmp_path / 'state'}",
                     "--summary-interval", "0.3"], cwd=tmp_path, env=env) as run:
        for i in range(2):
            run.wait_for(rf"^\[instance {i}\] RUNNING", 60)
        os.kill(run.proc.pid, signal.SIGKILL)  # the parent only; its children stay in the process group
        run.proc.wait(10)
        run.wait_for(r"^\[instance \d\] the `pystreams run --instances` process that started this instance is "
                     r"gone: closing", 30, count=2, children=True)
        run.wait_for(r"^\[instance \d\] closed cleanly", 60, count=2, children=True)
        assert run.output_closed(30), run.digest()  # both children exited (nothing holds the pipes)
