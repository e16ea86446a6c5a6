"""`pystreams run` errors a user can act on: bad --instances values, an application.server port in use (the
instance that cannot listen says so and stops; the others keep running and the exit code reports it)."""
from __future__ import annotations

import socket
import subprocess

import pytest

from tests.integration.cli.run_process import CLI, ROOT, RunProcess, free_port_run

pytestmark = pytest.mark.integration

WORDCOUNT = ROOT / "examples" / "wordcount.py"


@pytest.mark.parametrize("value, message", [("0", "--instances must be at least 1"),
                                            ("-1", "--instances must be at least 1"),
                                            ("many", "--instances expects a whole number")])
def test_bad_instances_values_are_refused_before_anything_starts(tmp_path, value, message):
    result = subprocess.run(CLI + ["run", str(WORDCOUNT), "--instances", value], cwd=tmp_path,
                            capture_output=True, timeout=60, check=False)
    assert result.returncode == 2, result.stderr
    assert f"error: {message}".encode() in result.stderr
    assert b"embedded pystreams broker" not in result.stderr and b"Traceback" not in result.stderr


def test_instances_whose_ports_would_pass_65535_are_refused(tmp_path):
    result = subprocess.run(CLI + ["run", str(WORDCOUNT), "--instances", "3", "--set",
                                   "application.server=127.0.0.1:65534", "--set", "bootstrap.servers=127.0.0.1:1"],
                            cwd=tmp_path, capture_output=True, timeout=60, check=False)
    assert result.returncode == 2, result.stderr
    assert b"needs ports 65534..65536, past 65535" in result.stderr


def test_an_instance_whose_port_is_taken_says_so_and_the_other_keeps_running(tmp_path):
    port = free_port_run(2)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port + 1))  # instance 1's port
        taken.listen()
        with RunProcess([str(WORDCOUNT), "--instances", "2", "--set", f"state.dir={tmp_path / 'state'}",
                         "--set", f"application.server=127.0.0.1:{port}", "--summary-interval", "0.3"],
                        cwd=tmp_path) as run:
            run.wait_for(r"^\[instance 1\] error: .*Address already in use", 60)
            run.wait_for(r"^instance 1 exited with code 2; 1 other instance\(s\) keep running", 30)
            run.wait_for(r"^\[instance 0\] RUNNING", 60)
            assert run.stop(60) == 2
            out = run.output()
    assert "[instance 0] closed cleanly" in out and "Traceback" not in out, out[-4000:]


GLOBAL_APP = '''
import os
from pystreams import Consumed, Produced, Serdes, StreamsBuilder
S = Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())
builder = StreamsBuilder()
table = builder.global_table(os.environ["G_TOPIC"], S)
(builder.stream(os.environ["G_STREAM"], S).join(table, lambda k, v: v, lambda a, b: a + b)
    .to(os.environ["G_OUT"], Produced(key_serde=Serdes.String(), value_serde=Serdes.String())))
topology = builder.build()
'''


def test_a_failed_start_on_an_external_broker_is_one_clear_error(pystreams_broker, tmp_path):
    """On a broker of the user's, missing topics are not created: start() fails, the CLI closes what it opened
    and says what is missing (exit 2, no traceback), within a bounded time."""
    from tests.integration.runtime.helpers import create_topics, unique

    env = {"G_TOPIC": unique("missing-global"), "G_STREAM": unique("orders"), "G_OUT": unique("out")}
    create_topics(pystreams_broker.bootstrap_servers, 1, env["G_STREAM"], env["G_OUT"])
    script = tmp_path / "global_app.py"
    script.write_text(GLOBAL_APP)
    with RunProcess([str(script), "--set", f"bootstrap.servers={pystreams_broker.bootstrap_servers}",
                     "--set", f"state.dir={tmp_path / 'state'}", "--summary-interval", "0"], cwd=tmp_path,
                    env=env) as run:
        assert run.proc.wait(90) == 2, run.digest()
        assert run.output_closed(10)
        out = run.output()
    assert f"error: global topic {env['G_TOPIC']} does not exist" in out, out[-3000:]
    assert "Traceback" not in out and "embedded pystreams broker" not in out


SELF_STARTING_APP = '''
from pystreams import Consumed, KafkaStreams, Serdes, StreamsBuilder
builder = StreamsBuilder()
builder.stream("in", Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())).to("out")
app = KafkaStreams(builder.build(), {"application.id": "self-starting"})
app.start()
'''


def test_a_script_that_starts_its_app_when_imported_is_told_to_move_start_under_main(tmp_path):
    """The script's start() is refused before it connects anywhere (the broker address here answers nothing), with
    the advice, whether or not the script's own config names a broker (audit H7: it used to say bootstrap.servers
    was missing although --set gave it)."""
    script = tmp_path / "self_starting.py"
    for source in (SELF_STARTING_APP, SELF_STARTING_APP.replace('"self-starting"}',
                                                                '"self-starting", "bootstrap.servers": "127.0.0.1:1"}')):
        script.write_text(source)
        result = subprocess.run(CLI + ["run", str(script), "--set", "bootstrap.servers=127.0.0.1:1"], cwd=tmp_path,
                                capture_output=True, timeout=60, check=False)
        err = result.stderr.decode()
        assert result.returncode == 2, err
        assert "error: the script calls KafkaStreams.start() when imported" in err, err
        assert 'move start() under `if __name__ == "__main__":`' in err and "Traceback" not in err, err
