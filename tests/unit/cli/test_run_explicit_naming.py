"""`pystreams run` with ensure.explicit.internal.resource.naming=true (KIP-1111) refuses an app with a generated
internal name before it starts: whether the script built a Topology, made its own KafkaStreams or left a
StreamsBuilder, and whether the key comes from --set or the script. bootstrap.servers points at a closed port:
reaching it would be a different error."""
from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pystreams.cli import app
from pystreams.cli.run_cmd import build_app, import_script
from pystreams.compiler import TopologyException

pytestmark = pytest.mark.unit

LIST = ("Invalid topology: Following changelog topic(s) has not been named: "
        "KSTREAM-AGGREGATE-STATE-STORE-0000000001-changelog\n"
        "Following state store(s) has not been named: KSTREAM-AGGREGATE-STATE-STORE-0000000001\n")
HEAD = '''
from pystreams import KafkaStreams, Materialized, StreamsBuilder
builder = StreamsBuilder()
builder.stream("in").group_by_key().count({materialized}).to_stream().to("out")
'''
SERDES = {"default.key.serde": "string", "default.value.serde": "string"}
SERDES_SET = [arg for key, value in SERDES.items() for arg in ("--set", f"{key}={value}")]
SHAPES = {
    "topology": "topology = builder.build()\n",
    "kafka streams": "streams = KafkaStreams(builder.build(), {'application.id': 'mine', 'default.key.serde': 'string', "
                     "'default.value.serde': 'string'})\n",
    "builder": "",
}


def _script(tmp_path, shape: str, named: bool = False):
    script = tmp_path / "app.py"
    script.write_text(HEAD.format(materialized="Materialized.as_('counts')" if named else "") + SHAPES[shape])
    return script


@pytest.mark.parametrize("shape", list(SHAPES))
def test_run_with_the_key_set_refuses_a_generated_name_before_contacting_a_broker(tmp_path, shape):
    result = CliRunner().invoke(app, ["run", str(_script(tmp_path, shape)), "--set", "bootstrap.servers=127.0.0.1:1",
                                      *SERDES_SET, "--set", "ensure.explicit.internal.resource.naming=true"],
                                env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 2, result.output
    assert f"error: {LIST}" in result.output
    assert "Traceback" not in result.output and "no broker reachable" not in result.output
    assert "embedded pystreams broker" not in result.output


@pytest.mark.parametrize("shape", list(SHAPES))
def test_build_app_passes_with_every_name_given_and_refuses_without(tmp_path, shape):
    overrides = {**SERDES, "bootstrap.servers": "127.0.0.1:1", "ensure.explicit.internal.resource.naming": "true"}
    named = _script(tmp_path, shape, named=True)
    assert build_app(named, import_script(named), overrides).topology.store_builders().keys() == {"counts"}
    unnamed = _script(tmp_path, shape)
    with pytest.raises(TopologyException) as failure:
        build_app(unnamed, import_script(unnamed), overrides)
    assert str(failure.value) == LIST


def test_the_key_false_runs_the_same_app(tmp_path):
    script = _script(tmp_path, "topology")
    built = build_app(script, import_script(script), {**SERDES, "ensure.explicit.internal.resource.naming": "false"})
    assert "KSTREAM-AGGREGATE-STATE-STORE-0000000001" in built.topology.store_builders()
