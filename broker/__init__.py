"""pystreams.broker: a Kafka-protocol broker (imports as pystreams.broker; never imports pystreams core)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pystreams.broker.server.embedded import EmbeddedBroker

__all__ = ["EmbeddedBroker"]


def __getattr__(name: str) -> Any:
    # Lazy: importing pystreams.broker.protocol must not pull in the server.
    if name == "EmbeddedBroker":
        from pystreams.broker.server.embedded import EmbeddedBroker
        return EmbeddedBroker
    raise AttributeError(name)
