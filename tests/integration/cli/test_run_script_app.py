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
        assert values == wanted, run.output()[-4000:]
        run.wait_for(r"^HANDLER \w+: replacing the thread", 10)
        produce_lines(bootstrap, "lines", ["after"], start=3)  # the new thread goes on processing
        after = read_until(bootstrap, "upper", lambda got: any(v == b"AFTER" for _k, v in got))
        assert b"AFTER" in {v for _k, v in after}, run.output()[-4000:]
        assert run.matches(r"^STATE .*->(PENDING_ERROR|ERROR)") == []
        assert run.stop(60) == 0, run.output()[-4000:]
        out = run.output()
    assert "closed cleanly" in out and "1 stream thread(s) replaced after an error" in out
    transitions = [m.group(1) for m in (RunProcess.match_line(r"^STATE (\S+)", line) for line in out.splitlines())
                   if m]
    assert transitions[0] == "CREATED->REBALANCING" and transitions[-2:] == ["RUNNING->PENDING_SHUTDOWN",
                                                                            "PENDING_SHUTDOWN->NOT_RUNNING"]
