"""`pystreams run` config handling: --set, PYSTREAMS_* variables, finding the app in a script."""
from __future__ import annotations

import pytest

from pystreams.cli.run_cmd import build_app, env_config, import_script, parse_sets, script_config
from pystreams.errors import ConfigError, PystreamsError

pytestmark = pytest.mark.unit

TOPOLOGY = '''
from pystreams import Consumed, Serdes, StreamsBuilder
builder = StreamsBuilder()
builder.stream("in", Consumed(key_serde=Serdes.String(), value_serde=Serdes.String())).to("out")
topology = builder.build()
'''


def test_parse_sets():
    assert parse_sets(["a.b=1", "c = x=y"]) == {"a.b": "1", "c": "x=y"}
    with pytest.raises(ConfigError, match="--set expects key=value"):
        parse_sets(["novalue"])


def test_env_config_maps_names_to_kafka_keys():
    env = {"PYSTREAMS_BOOTSTRAP_SERVERS": "h:1", "PYSTREAMS_NUM_STREAM_THREADS": "2", "PYSTREAMS_INSTANCE": "0",
           "HOME": "/root", "PYSTREAMS_EMPTY": ""}
    assert env_config(env) == {"bootstrap.servers": "h:1", "num.stream.threads": "2"}


def test_a_bare_topology_gets_the_script_name_as_application_id(tmp_path):
    script = tmp_path / "orders_app.py"
    script.write_text(TOPOLOGY)
    namespace = import_script(script)
    assert script_config(namespace) == {}
    app = build_app(script, namespace, {"bootstrap.servers": "h:1", "default.value.serde": "string"})
    assert app.config.application_id == "orders-app"
    assert app.topology is namespace["topology"]


def test_a_kafka_streams_keeps_its_config_under_the_overrides(tmp_path):
    script = tmp_path / "app.py"
    script.write_text(TOPOLOGY + '\nfrom pystreams import KafkaStreams\n'
                      'streams = KafkaStreams(topology, {"application.id": "mine", "num.stream.threads": 2, '
                      '"default.value.serde": "string"})\n')
    namespace = import_script(script)
    app = build_app(script, namespace, {"num.stream.threads": "3"})
    assert app.config.application_id == "mine" and app.config.num_stream_threads == 3


def test_a_script_without_an_app_is_refused(tmp_path):
    script = tmp_path / "empty.py"
    script.write_text("x = 1\n")
    with pytest.raises(PystreamsError, match="No Topology, KafkaStreams or StreamsBuilder"):
        build_app(script, import_script(script), {})
