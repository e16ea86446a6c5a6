"""Errors raised while a task runs (Kafka's StreamsException), naming the task, node and record."""
from __future__ import annotations

from pystreams.errors import PystreamsError, StateStoreError


class StreamsException(PystreamsError):
    """A processor, punctuator or sink failed; `__cause__` holds the original error."""


class StoreNotConnectedError(StateStoreError):
    """A processor asked for a store that is not connected to it."""
