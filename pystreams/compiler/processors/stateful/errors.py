"""Errors raised while a stateful DSL processor runs (Kafka's StreamsException cases)."""
from __future__ import annotations

from pystreams.errors import PystreamsError


class StatefulProcessingError(PystreamsError):
    """A KTable/aggregation processor met input it cannot handle (e.g. a null key for a table aggregate)."""
