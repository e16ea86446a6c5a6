"""The suppression buffer as a state store (Kafka's InMemoryTimeOrderedKeyValueChangeBuffer), so the topology
lists it under the suppress node as Kafka does (KTABLE-SUPPRESS-STATE-STORE-n). In memory, ordered by
(buffer time, serialized key); no changelog yet (its builder reports logging disabled)."""
from __future__ import annotations

from typing import Any

from sortedcontainers import SortedDict

from pystreams.errors import StateStoreError


class SuppressionBuffer:
    """Entries (buffer time, key bytes) -> entry; `index` finds a key's slot (its first buffer time)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self.sorted: Any = SortedDict()
        self.index: dict[bytes, tuple[int, bytes]] = {}
        self.bytes_size = 0
        self._open = False

    @property
    def name(self) -> str:
        return self._name

    @property
    def persistent(self) -> bool:
        return False

    def init(self, context: Any, root: Any) -> None:
        self._open = True
        register = getattr(context, "register", None)
        if callable(register):
            register(root, self._restore)

    def _restore(self, records: list[Any]) -> None:
        if records:
            raise StateStoreError(f"suppression buffer {self._name} has no changelog to restore from")

    def is_open(self) -> bool:
        return self._open

    def flush(self) -> None:
        """Nothing to flush: memory only."""

    def close(self) -> None:
        self.sorted.clear()
        self.index.clear()
        self.bytes_size = 0
        self._open = False


class SuppressionBufferBuilder:
    """StoreBuilder-shaped factory of the buffer (name, flags, build())."""

    def __init__(self, name: str, key_serde: Any = None, value_serde: Any = None) -> None:
        self.name = name
        self.key_serde = key_serde
        self.value_serde = value_serde
        self.logging_enabled = False
        self.caching_enabled = False
        self.log_config: dict[str, str] = {}

    def with_logging_disabled(self) -> SuppressionBufferBuilder:
        return self

    def with_caching_disabled(self) -> SuppressionBufferBuilder:
        return self

    def build(self) -> SuppressionBuffer:
        return SuppressionBuffer(self.name)

    def __repr__(self) -> str:
        return f"SuppressionBufferBuilder({self.name!r})"
