"""What Kafka's composite read-only stores (key-value, window, session) share: one view over the same store in
every local task, which raises the caller's "unavailable, retry" error while no local task holds the store."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any


class CompositeView:
    """Base of the Composite* read-only stores: the store's name and its local stores, asked for on every call
    (tasks come and go with rebalances)."""

    def __init__(self, name: str, stores: Callable[[], list[Any]], unavailable: Callable[[str], Exception]) -> None:
        self.name = name
        self._stores = stores
        self._unavailable = unavailable

    def _all_stores(self) -> list[Any]:
        stores = self._stores()
        if not stores:
            raise self._unavailable(self.name)
        return stores
