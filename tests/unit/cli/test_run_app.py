"""`pystreams run` runs the script's own KafkaStreams (its handler and listeners stay) with the merged config,
plans per-instance state dirs / ports for --instances, and knows a GlobalKTable's topic."""
from __future__ import annotations

import os

import pytest

from pystreams.cli.run_cmd import (
    ScriptAppError,
    build_app,
    dev_topics,
    import_script,
)
from pystreams.cli.run_instances import (
    InstancesError,
    check_instances,
    instance_overrides,
    parse_instances,
)
from pystreams.errors import ConfigError, PystreamsError
from pystreams.runtime import KafkaStreams, StreamThreadExceptionResponse
from pystreams.runtime.config import StreamsConfig

pytestmark = pytest.mark.unit

SCRIPT = '''
from pystreams import Consumed, KafkaStreams, Serdes, StreamsBuilder
from pystreams.runtime import StreamThreadExceptionResponse
builder = StreamsBuilder()
builder.stream("in", Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())).to("out")
streams = KafkaStreams(builder.build(), {"application.id": "mine", "num.stream.threads": 2,
                                         "default.value.serde": "string"})
seen = []
def on_state(new, old):
    seen.append((old, new))
def on_error(exc):
    return StreamThreadExceptionResponse.REPLACE_THREAD
def on_restore(thread, done, total):
    seen.append(("restore", done))
streams.set_state_listener(on_state)
streams.set_uncaught_exception_handler(on_error)
streams.restore_listener = on_restore
'''

GLOBAL = '''
from pystreams import Consumed, Serdes, StreamsBuilder
builder = StreamsBuilder()
S = Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())
customers = builder.global_table("customers", S)
(builder.stream("orders", S)
    .join(customers, lambda key, value: key, lambda order, customer: f"{order}@{customer}")
    .to("enriched"))
topology = builder.build()
'''


def _plain(value):
    """Attributes comparable across two objects: the config by its keys, plain values as they are."""
    originals = getattr(value, "originals", None)
    if originals is not None:
        return originals
    return value if isinstance(value, (str, int, float, bool, type(None), dict, list, tuple)) else None


def test_the_scripts_own_kafka_streams_runs_with_the_overrides(tmp_path):
    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    namespace = import_script(script)
    app = build_app(script, namespace, {"num.stream.threads": "3", "bootstrap.servers": "h:1"})
    assert app is namespace["streams"]
    assert app.config.application_id == "mine" and app.config.num_stream_threads == 3
    assert app.config.bootstrap_servers == "h:1" and app.app_configs["default.value.serde"] == "string"
    assert app.client_id == f"mine-{app.process_id}"
    # what the script set is still there
    assert app._listener is namespace["on_state"] and app._handler is namespace["on_error"]
    assert app.restore_listener is namespace["on_restore"]
    assert app._handler(RuntimeError()) is StreamThreadExceptionResponse.REPLACE_THREAD


def test_the_adopted_app_equals_a_fresh_one_in_every_config_derived_attribute(tmp_path):
    """Guard: whatever KafkaStreams derives from its config, reconfigure() derives too."""
    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    namespace = import_script(script)
    overrides = {"num.stream.threads": "3", "bootstrap.servers": "h:1", "state.dir": str(tmp_path / "s"),
                 "application.server": "127.0.0.1:7000", "client.id": "c"}
    app = build_app(script, namespace, overrides)
    fresh = KafkaStreams(namespace["streams"].topology, {**namespace["streams"].config.originals, **overrides})
    user_set = {"_listener", "_handler", "restore_listener", "process_id"}  # process_id: random per object
    differing = sorted(k for k in vars(fresh) if k not in user_set
                       and _plain(getattr(fresh, k)) != _plain(getattr(app, k)))
    assert differing == [], f"attributes reconfigure() left as they were: {differing}"
    assert app.client_id == "c"


def test_a_bad_override_is_refused_by_the_kafka_streams_constructor(tmp_path):
    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    with pytest.raises(ConfigError, match="processing.guarantee"):
        build_app(script, import_script(script), {"processing.guarantee": "twice"})


def test_a_kafka_streams_started_at_import_is_refused(tmp_path):
    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    namespace = import_script(script)
    namespace["streams"].close()  # CREATED -> NOT_RUNNING, as a script that ran it at import would leave it
    with pytest.raises(ScriptAppError, match="move start\\(\\) under"):
        build_app(script, namespace, {})


def test_two_module_level_kafka_streams_are_refused(tmp_path):
    script = tmp_path / "app.py"
    script.write_text(SCRIPT + "other = KafkaStreams(builder.build(), {'application.id': 'x'})\n")
    with pytest.raises(PystreamsError, match="defines 2 KafkaStreams"):
        build_app(script, import_script(script), {})


def test_dev_topics_include_a_global_tables_source(tmp_path):
    script = tmp_path / "g.py"
    script.write_text(GLOBAL)
    topology = import_script(script)["topology"]
    assert sorted(dev_topics(topology)) == ["customers", "enriched", "orders"]


def _config(**keys):
    return StreamsConfig({"application.id": "a", "state.dir": "/s", **keys})


def test_instances_get_their_own_state_dir_and_ports():
    assert instance_overrides(_config(**{"application.server": "127.0.0.1:7000"}), 1, 0) == {}
    assert instance_overrides(_config(), 2, 1) == {"state.dir": os.path.join("/s", "instance-1")}
    assert instance_overrides(_config(**{"application.server": "h:7000", "metrics.http.port": 9000}), 3, 2) == {
        "state.dir": os.path.join("/s", "instance-2"), "application.server": "h:7002", "metrics.http.port": "9002"}
    # metrics.http.port 0 is a free port for each instance already
    assert "metrics.http.port" not in instance_overrides(_config(**{"metrics.http.port": "0"}), 2, 1)


def test_bad_instances_values_say_what_to_do():
    assert parse_instances("4") == 4
    for bad, match in (("0", "at least 1"), ("-2", "at least 1"), ("two", "whole number"), ("1.5", "whole number")):
        with pytest.raises(InstancesError, match=match):
            parse_instances(bad)
    with pytest.raises(InstancesError, match="application.server=h:65535 needs ports 65535..65536, past 65535"):
        check_instances(_config(**{"application.server": "h:65535"}), 2)
    with pytest.raises(InstancesError, match="metrics.http.port=65535 needs ports"):
        check_instances(_config(**{"metrics.http.port": "65535"}), 2)
    with pytest.raises(InstancesError, match="port 0"):
        check_instances(_config(**{"application.server": "h:0"}), 2)
    with pytest.raises(ConfigError, match="host:port"):
        check_instances(_config(**{"application.server": "nonsense"}), 2)
    check_instances(_config(**{"application.server": "h:65534", "metrics.http.port": "0"}), 2)
    check_instances(_config(**{"application.server": "h:65535"}), 1)
    check_instances(_config(), 5)


def test_help_says_how_instances_split_state_dir_and_ports():
    from typer.testing import CliRunner

    from pystreams.cli import app

    result = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "<state.dir>/instance-<i>" in text and "host:port+i" in text and "metrics.http.port P: P+i" in text


def test_reconfigure_is_refused_once_the_app_left_created(tmp_path):
    from pystreams.runtime.kafka_streams import IllegalStateError

    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    app = import_script(script)["streams"]
    app.reconfigure({**app.config.originals, "num.stream.threads": "2"})
    assert app.config.get("num.stream.threads") in (2, "2")
    app.close(1)  # CREATED -> NOT_RUNNING, as in Kafka
    with pytest.raises(IllegalStateError, match="only allowed before start"):
        app.reconfigure(dict(app.config.originals))
