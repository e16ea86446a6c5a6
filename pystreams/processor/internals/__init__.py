"""The task engine: runs the nodes of a compiled Topology (read by duck typing, never imported) for one task.
Used by pystreams.testing (TopologyTestDriver) and pystreams.runtime. Imports processor, state, serdes, errors."""
from pystreams.processor.internals.collector import RecordCollector, SentRecord
from pystreams.processor.internals.errors import StreamsException
from pystreams.processor.internals.task import StreamTask

__all__ = ["RecordCollector", "SentRecord", "StreamTask", "StreamsException"]
