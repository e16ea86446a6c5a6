"""Start-up: what an app that does not use a feature must not import (issue 7: at 100k records half of a run is
start-up), and that deferring those imports loses no public name or compiler writer.

Each check runs in a fresh interpreter (sys.modules of this test process already holds everything).
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.unit

#: modules a stateless topology does not need; they load on first use of windows, joins, stores or RocksDB
STATELESS_UNUSED = ("rocksdict", "pystreams.dsl.windowed", "pystreams.compiler.extensions",
                    "pystreams.compiler.join_extensions",
                    "pystreams.compiler.fk_join_extension", "pystreams.state.window", "pystreams.state.session",
                    "pystreams.state.stores", "pystreams.state.builder")


def _fresh(code: str) -> dict:
    """Run code in a new interpreter; it leaves its answer as JSON in the variable `out`."""
    script = textwrap.dedent(code) + "\nimport json, sys\nprint(json.dumps(out))\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_stateless_topology_builds_without_stores_windows_or_rocksdb() -> None:
    out = _fresh("""
        import sys
        from pystreams import Consumed, Produced, Serdes, StreamsBuilder, TimeWindows
        builder = StreamsBuilder()
        (builder.stream("in", Consumed(key_serde=Serdes.String(), value_serde=Serdes.JSON()))
            .filter(lambda k, v: v is not None).map_values(lambda v: v)
            .to("out", Produced(key_serde=Serdes.String(), value_serde=Serdes.JSON())))
        description = str(builder.build().describe())
        out = {"loaded": sorted(m for m in UNUSED if m in sys.modules), "description": description}
    """.replace("UNUSED", repr(STATELESS_UNUSED)))
    assert out["loaded"] == []
    assert "KSTREAM-FILTER-0000000001" in out["description"]


def test_building_a_stateless_topology_creates_no_dataclass_it_does_not_use() -> None:
    """Each frozen dataclass costs ~0.5-1 ms of CPU at import on Python 3.11 (every generated method goes through
    exec), and at 100k records start-up is a large share of a run: importing the DSL (TimeWindows included, as the
    benchmark app does), building a stateless topology and constructing KafkaStreams must not import the window
    value types (serdes.windowed: only windows_for() and windowed serdes need them), the describe() classes
    (compiler.description: only describe()) or the interactive-query module (runtime.queries: only queries and
    the first query after an assignment), and the group client's ASCII connect must not load the idna codec."""
    unused = ("pystreams.serdes.windowed", "pystreams.compiler.description", "pystreams.runtime.queries",
              "encodings.idna")
    out = _fresh("""
        import socket, sys
        from pystreams import Consumed, KafkaStreams, Produced, Serdes, StreamsBuilder, TimeWindows
        from pystreams.runtime.group.connection import BrokerConnection
        builder = StreamsBuilder()
        (builder.stream("in", Consumed(key_serde=Serdes.String(), value_serde=Serdes.JSON()))
            .filter(lambda k, v: v is not None).to("out", Produced(key_serde=Serdes.String())))
        streams = KafkaStreams(builder.build(), {"application.id": "import-time", "bootstrap.servers": "x:1"})
        listener = socket.create_server(("127.0.0.1", 0))
        try:  # the connect only: the ApiVersions exchange then fails against this silent listener
            BrokerConnection("localhost", listener.getsockname()[1], "import-time", timeout_s=0.2)
        except Exception:
            pass
        listener.close()
        loaded = sorted(m for m in UNUSED if m in sys.modules)
        streams._note_assignment_hosts(type("Info", (), {"partitions_by_host": {"h:1": [("in", 0)]},
                                                         "standby_partitions_by_host": {}})())
        hosts = [str(m.host_info) for m in streams.metadata_for_all_streams_clients()]
        description = str(streams.topology.describe())
        out = {"loaded": loaded, "hosts": hosts, "described": "KSTREAM-FILTER-0000000001" in description}
    """.replace("UNUSED", repr(unused)))
    assert out == {"loaded": [], "hosts": ["h:1"], "described": True}


def test_windowed_and_join_topologies_load_their_writers_on_first_build() -> None:
    out = _fresh("""
        import sys
        from datetime import timedelta
        from pystreams import JoinWindows, StreamsBuilder, TimeWindows
        before = "pystreams.compiler.extensions" in sys.modules
        builder = StreamsBuilder()
        left, right = builder.stream("left"), builder.stream("right")
        (left.group_by_key().windowed_by(TimeWindows.of_size_with_no_grace(timedelta(seconds=5))).count()
            .to_stream().to("counts"))
        left.join(right, lambda a, b: (a, b), JoinWindows.of_time_difference_with_no_grace(timedelta(seconds=1))) \\
            .to("joined")
        table = builder.table("table")
        left.join(table, lambda a, b: (a, b)).to("enriched")
        description = str(builder.build().describe())
        out = {"before": before, "after": "pystreams.compiler.extensions" in sys.modules,
               "description": description}
    """)
    assert out["before"] is False and out["after"] is True
    for node in ("KSTREAM-AGGREGATE-", "KSTREAM-JOINTHIS-", "KSTREAM-JOINOTHER-", "KSTREAM-JOIN-"):
        assert node in out["description"], node


def test_compile_graph_called_directly_loads_the_writers_too() -> None:
    """pystreams.compiler.compile_graph is public: a windowed graph compiled without StreamsBuilder.build()."""
    out = _fresh("""
        from datetime import timedelta
        from pystreams import StreamsBuilder, TimeWindows
        from pystreams.compiler import compile_graph
        builder = StreamsBuilder()
        builder.stream("in").group_by_key().windowed_by(TimeWindows.of_size_with_no_grace(timedelta(seconds=5))) \\
            .count().to_stream().to("out")
        out = {"description": str(compile_graph(builder.graph()).describe())}
    """)
    assert "KSTREAM-AGGREGATE-0000000002 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000001])" in out["description"]


def test_deferred_writer_table_matches_what_the_compiler_modules_register() -> None:
    """pystreams.compiler.EXTENSION_MODULES must name every node kind the extension modules register (a kind
    missing there would be 'no writer' until something imported the module by chance)."""
    out = _fresh("""
        import pystreams.dsl.windowed as windowed
        registered = []
        real_register = windowed.register_writer
        def spy(kind, replay, write):
            registered.append([kind, replay.__module__])
            real_register(kind, replay, write)
        windowed.register_writer = spy
        import pystreams.compiler as compiler
        import pystreams.compiler.extensions, pystreams.compiler.fk_join_extension
        out = {"real": sorted({k for k, m in registered if m != "pystreams.compiler"}),
               "deferred": sorted(compiler.EXTENSION_MODULES)}
    """)
    assert out["real"] == out["deferred"]
    assert "ForeignKeyJoinNode" in out["real"] and "WindowedAggregateNode" in out["real"]


def test_a_deferred_writer_whose_module_registers_nothing_is_a_topology_error() -> None:
    from pystreams.compiler import TopologyException, _deferred
    from pystreams.dsl import windowed

    replay, _write = _deferred("NoSuchNode", ("json",))
    windowed.register_writer("NoSuchNode", replay, _write)
    try:
        with pytest.raises(TopologyException, match="registered no writer for NoSuchNode"):
            replay(object(), object())
    finally:
        windowed._WRITERS.pop("NoSuchNode", None)


def test_every_public_name_still_imports() -> None:
    """`from pystreams import X` / `from pystreams.state import X` for every name in __all__, each the object its
    defining module has."""
    out = _fresh("""
        import importlib
        import pystreams, pystreams.state as state
        missing = []
        for package in (pystreams, state):
            for name in package.__all__:
                try:
                    value = getattr(package, name)
                except AttributeError as e:
                    missing.append(f"{package.__name__}.{name}: {e}")
                    continue
                home = importlib.import_module(getattr(value, "__module__", package.__name__))
                if getattr(home, name, value) is not value and not isinstance(value, (str, int)):
                    missing.append(f"{package.__name__}.{name} is not {home.__name__}.{name}")
        try:
            from pystreams.state import NoSuchThing  # noqa: F401
            missing.append("pystreams.state.NoSuchThing imported")
        except ImportError:
            pass
        out = {"missing": missing, "count": len(pystreams.__all__) + len(state.__all__)}
    """)
    assert out["missing"] == []
    assert out["count"] > 50


def test_a_stateless_kafka_streams_is_constructed_without_query_http_or_store_modules() -> None:
    """KafkaStreams(...) of a stateless app: no RocksDB, no window/session stores, no urllib.request (remote
    interactive queries), no HTTP server or prometheus_client (only with application.server / metrics.http.port)."""
    unused = (*STATELESS_UNUSED, "urllib.request", "http.server", "prometheus_client", "pystreams.runtime.server",
              "msgspec", "pystreams.serdes.msgspec_serde")
    out = _fresh("""
        import sys
        from pystreams import Consumed, KafkaStreams, Produced, Serdes, StreamsBuilder
        builder = StreamsBuilder()
        (builder.stream("in", Consumed(key_serde=Serdes.String(), value_serde=Serdes.JSON()))
            .map_values(lambda v: v).to("out", Produced(key_serde=Serdes.String(), value_serde=Serdes.JSON())))
        streams = KafkaStreams(builder.build(), {"application.id": "import-time", "bootstrap.servers": "x:1"})
        out = {"loaded": sorted(m for m in UNUSED if m in sys.modules), "state": streams.state.name}
    """.replace("UNUSED", repr(unused)))
    assert out == {"loaded": [], "state": "CREATED"}


def test_msgspec_serdes_keep_their_fast_calls_though_serde_calls_does_not_import_msgspec() -> None:
    """serde_calls recognises a MsgspecSerde through sys.modules (no msgspec import for apps without one): the
    fast calls of a msgspec serde are still its own decoder's and encoder's, a subclass still gets none."""
    import msgspec

    from pystreams.processor.internals.serde_calls import fast_decoder, fast_encoder
    from pystreams.serdes.msgspec_serde import MsgspecSerde

    class Item(msgspec.Struct):
        id: int

    serde = MsgspecSerde(Item)
    decode, encode = fast_decoder(serde), fast_encoder(serde)
    assert decode is not None and encode is not None
    assert decode(b'{"id": 7}') == Item(7) and encode(Item(7)) == b'{"id":7}'

    class Custom(MsgspecSerde):  # type: ignore[type-arg]
        pass

    assert fast_decoder(Custom(Item)) is None and fast_encoder(Custom(Item)) is None
