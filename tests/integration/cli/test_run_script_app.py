"""`pystreams run` runs the script's own KafkaStreams: a REPLACE_THREAD handler and a state listener set in the
script work in the real process (a fresh KafkaStreams would drop them: SHUTDOWN_CLIENT, ERROR, exit 1)."""
from __future__ import annotations

import pytest

from tests.integration.cli.run_process import RunProcess, read_until
from tests.integration.runtime.helpers import produce_lines

pytestmark = pytest.mark.integration

SCRIPT = '''
import threading
from pystreams import Consumed, KafkaStreams, Produced, Serdes, StreamsBuilder
from pystreams.runtime import StreamThreadExceptionResponse

failed = threading.Event()


def upper(value):
    if value == "poison" and not failed.is_set():  # fails once; the replacing thread processes it again
        failed.set()
        raise ValueError("poison pill")
    return value.upper()


S = Serdes.String()
builder = StreamsBuilder()
builder.stream("lines", Consumed(key_serde=S, value_serde=S)).map_values(upper).to(
    "upper", Produced(key_serde=S, value_serde=S))
streams = KafkaStreams(builder.build(), {"application.id": "replacing", "commit.interval.ms": 100})


def on_state(new, old):
    print(f"STATE {old.name}->{new.name}", flush=True)


def on_error(exc):
    print(f"HANDLER {type(exc).__name__}: replacing the thread", flush=True)
    return StreamThreadExceptionResponse.REPLACE_THREAD


streams.set_state_listener(on_state)
streams.set_uncaught_exception_handler(on_error)
'''


def test_the_scripts_handler_replaces_the_thread_and_its_listener_sees_every_transition(tmp_path):
    script = tmp_path / "replacing_app.py"
    script.write_text(SCRIPT)
    with RunProcess([str(script), "--set", f"state.dir={tmp_path / 'state'}", "--partitions", "1",
                     "--summary-interval", "0.5"], cwd=tmp_path) as run:
        bootstrap = run.wait_for(r"embedded pystreams broker at (127\.0\.0\.1:\d+)", 60)[0].group(1)
        run.wait_for(r"^STATE REBALANCING->RUNNING", 60)
        produce_lines(bootstrap, "lines", ["a", "poison", "b"])
        # at least once: the replaced thread's uncommitted output may come twice, none is lost
        wanted = {b"A", b"B", b"POISON"}
        values = {v for _k, v in read_until(bootstrap, "upper", lambda got: wanted <= {v for _k, v in got})}
        assert values == wanted, run.digest()
        run.wait_for(r"^HANDLER \w+: replacing the thread", 10)
        produce_lines(bootstrap, "lines", ["after"], start=3)  # the new thread goes on processing
        after = read_until(bootstrap, "upper", lambda got: any(v == b"AFTER" for _k, v in got))
        assert b"AFTER" in {v for _k, v in after}, run.digest()
        assert run.matches(r"^STATE .*->(PENDING_ERROR|ERROR)") == []
        assert run.stop(60) == 0, run.digest()
        out = run.output()
    assert "closed cleanly" in out and "1 stream thread(s) replaced after an error" in out
    transitions = [m.group(1) for m in (RunProcess.match_line(r"^STATE (\S+)", line) for line in out.splitlines())
                   if m]
    assert transitions[0] == "CREATED->REBALANCING" and transitions[-2:] == ["RUNNING->PENDING_SHUTDOWN",
                                                                            "PENDING_SHUTDOWN->NOT_RUNNING"]


RESTORING = '''
import os
from pystreams import KafkaStreams
from tests.integration.runtime.helpers import wordcount_topology

streams = KafkaStreams(wordcount_topology(os.environ["WC_SOURCE"], os.environ["WC_SINK"]),
                       {"application.id": os.environ["WC_APP"], "commit.interval.ms": 200})


def on_restore(thread, done, total):
    print(f"SCRIPT-RESTORE {done}/{total}", flush=True)


streams.restore_listener = on_restore
'''


def test_the_scripts_restore_listener_hears_a_restore_next_to_the_cli_progress(pystreams_broker, tmp_path):
    """The script's restore listener and the CLI's restore progress both see a restore from the changelog."""
    import shutil

    from tests.integration.runtime.helpers import (
        create_topics,
        random_lines,
        read_counts_until,
        unique,
        word_counts,
    )

    bootstrap = pystreams_broker.bootstrap_servers
    env = {"WC_SOURCE": unique("text"), "WC_SINK": unique("counts"), "WC_APP": unique("restoring")}
    create_topics(bootstrap, 1, env["WC_SOURCE"], env["WC_SINK"])
    script = tmp_path / "restoring_app.py"
    script.write_text(RESTORING)
    state = tmp_path / "state"
    args = [str(script), "--set", f"bootstrap.servers={bootstrap}", "--set", f"state.dir={state}",
            "--summary-interval", "0.5"]
    lines = random_lines(5, 100)
    expected = word_counts(lines)
    with RunProcess(args, cwd=tmp_path, env=env) as run:
        run.wait_for(r"^RUNNING", 60)
        produce_lines(bootstrap, env["WC_SOURCE"], lines)
        assert read_counts_until(bootstrap, env["WC_SINK"], lambda c: c == expected, timeout=60) == expected
        assert run.stop(60) == 0, run.digest()
    shutil.rmtree(state)  # the local state is lost: the restart restores the counts from the changelog
    with RunProcess(args, cwd=tmp_path, env=env) as run:
        done = run.wait_for(r"^SCRIPT-RESTORE (\d+)/(\d+)", 60)[0]
        run.wait_for(r"restore done: [\d,]+ records", 60)  # the CLI's own progress still reports
        run.wait_for(r"^RUNNING", 60)
        assert run.stop(60) == 0, run.digest()
        restored = [int(m.group(1)) for m in run.matches(r"^SCRIPT-RESTORE (\d+)/(\d+)")]
    # at least one changelog record per distinct word (the record cache may have sent a word more than once)
    assert int(done.group(2)) >= len(expected) and max(restored) >= len(expected), restored
