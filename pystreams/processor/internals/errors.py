"""Kept for imports inside the engine; the public home is pystreams.processor.errors."""
from pystreams.processor.errors import StoreNotConnectedError, StreamsException

__all__ = ["StoreNotConnectedError", "StreamsException"]
