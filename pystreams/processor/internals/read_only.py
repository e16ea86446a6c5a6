"""Read-only view of a global store for regular processors: only the global processor may write (Kafka)."""
from __future__ import annotations

from typing import Any

from pystreams.errors import StateStoreError


class ReadOnlyStore:
    """Reads pass through; writes are refused with a message saying where writes belong."""

    _READS = frozenset({"get", "range", "reverse_range", "all", "reverse_all", "prefix_scan",
                        "approximate_num_entries", "name", "persistent", "is_open"})

    def __init__(self, inner: Any) -> None:
        object.__setattr__(self, "_inner", inner)

    def __getattr__(self, attr: str) -> Any:
        if attr in ReadOnlyStore._READS:
            return getattr(self._inner, attr)
        raise StateStoreError(f"Global store {self._inner.name} is read-only for regular processors ({attr}() "
                              "refused): only the processor of add_global_store() writes it, from its topic.")

    def __repr__(self) -> str:
        return f"ReadOnlyStore({self._inner!r})"
