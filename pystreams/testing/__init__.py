"""TopologyTestDriver and its test topics: run a Topology in-process, deterministically, no broker, no threads.
Imports processor, state, serdes, errors, and compiler.validate lazily for DSL topologies (imported only by tests and the CLI)."""
from pystreams.testing.driver import TopologyTestDriver
from pystreams.testing.facade import KeyValueStoreFacade, WindowStoreFacade
from pystreams.testing.records import DriverClosedError, NoSuchElementError, TestRecord
from pystreams.testing.topics import TestInputTopic, TestOutputTopic

__all__ = ["DriverClosedError", "KeyValueStoreFacade", "NoSuchElementError", "TestInputTopic", "TestOutputTopic",
           "TestRecord", "TopologyTestDriver", "WindowStoreFacade"]
