"""`pystreams describe` finds the one topology a script defines, and says clearly when it cannot."""
from __future__ import annotations

import pytest

from pystreams.cli.describe_cmd import find_topology
from pystreams.compiler import Topology
from pystreams.dsl import StreamsBuilder
from pystreams.errors import PystreamsError

pytestmark = pytest.mark.unit


def _builder() -> StreamsBuilder:
    b = StreamsBuilder()
    b.stream("in").to("out")
    return b


def test_a_lone_builder_is_built() -> None:
    assert isinstance(find_topology({"builder": _builder()}), Topology)


def test_a_module_level_topology_wins_over_builders() -> None:
    topology = _builder().build()
    assert find_topology({"b1": _builder(), "b2": _builder(), "topology": topology}) is topology


def test_two_builders_and_no_topology_is_refused_by_name() -> None:
    with pytest.raises(PystreamsError, match="2 StreamsBuilders"):
        find_topology({"b1": _builder(), "b2": _builder()})


def test_nothing_found_is_refused() -> None:
    with pytest.raises(PystreamsError, match="No Topology"):
        find_topology({"x": 1})


def test_two_topologies_are_refused() -> None:
    with pytest.raises(PystreamsError, match="2 topologies"):
        find_topology({"t1": _builder().build(), "t2": _builder().build()})
