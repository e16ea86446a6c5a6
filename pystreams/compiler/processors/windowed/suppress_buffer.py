"""The suppression buffer as a state store (Kafka's InMemoryTimeOrderedKeyValueChangeBuffer), so the topology
lists it under the suppress node as Kafka does (KTABLE-SUPPRESS-STATE-STORE-n). In memory, ordered by
(buffer time, serialized key). Logged like Kafka's: at commit, each key changed since the last one goes to
`<application.id>-<store>-changelog` (the entry in Kafka's v3 value format, suppress_changelog; a tombstone for
an emitted key) and a restart replays that changelog into the buffer before processing."""
from __future__ import annotations

from typing import Any, Callable

from sortedcontainers import SortedDict

from pystreams.compiler.processors.windowed.suppress_changelog import CHANGELOG_HEADERS


class SuppressionBuffer:
    """Entries (buffer time, key bytes) -> entry; `index` finds a key's slot (its first buffer time)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self.sorted: Any = SortedDict()
        self.index: dict[bytes, tuple[int, bytes]] = {}
        self.bytes_size = 0
        self._open = False
        self._context: Any = None
        self.dirty: set[bytes] = set()  # keys changed since the last changelog flush
        #: set by the suppress processor: key bytes -> changelog value of its entry (None: the key left)
        self.encode: Callable[[bytes], bytes | None] | None = None
        #: set by the suppress processor: (key bytes, changelog value or None) -> the entry put back
        self.apply: Callable[[bytes, bytes | None], None] | None = None
        self._restored: list[tuple[bytes, bytes | None]] = []  # replayed before the processor attached

    @property
    def name(self) -> str:
        return self._name

    @property
    def persistent(self) -> bool:
        return False

    def init(self, context: Any, root: Any) -> None:
        self._open = True
        self._context = context
        register = getattr(context, "register", None)
        if callable(register):
            register(root, self._restore)

    def _restore(self, records: list[Any]) -> None:
        """Changelog records (key, value, timestamp, offset): the last value of each key wins."""
        for record in records:
            if self.apply is not None:
                self.apply(record[0], record[1])
            else:
                self._restored.append((record[0], record[1]))

    def attach(self, encode: Callable[[bytes], bytes | None], apply: Callable[[bytes, bytes | None], None]) -> None:
        """The suppress processor's codec; records restored before it attached are applied now."""
        self.encode, self.apply = encode, apply
        pending, self._restored = self._restored, []
        for key, value in pending:
            apply(key, value)

    def flush_cache(self) -> None:
        """At commit, before the producer flush: log every key changed since the last commit."""
        if not self.dirty or self.encode is None:
            return
        log = getattr(self._context, "log_change", None)
        dirty, self.dirty = self.dirty, set()
        if log is None:
            return
        timestamp = self._context.record_context.timestamp
        for key in sorted(dirty):
            log(self._name, key, self.encode(key), timestamp, CHANGELOG_HEADERS)

    def is_open(self) -> bool:
        return self._open

    def flush(self) -> None:
        """Memory only; changes not yet logged are logged now."""
        self.flush_cache()

    def close(self) -> None:
        self.sorted.clear()
        self.index.clear()
        self.bytes_size = 0
        self.dirty.clear()
        self._open = False


class SuppressionBufferBuilder:
    """StoreBuilder-shaped factory of the buffer (name, flags, build())."""

    def __init__(self, name: str, key_serde: Any = None, value_serde: Any = None) -> None:
        self.name = name
        self.key_serde = key_serde
        self.value_serde = value_serde
        self.logging_enabled = True
        self.caching_enabled = False
        self.log_config: dict[str, str] = {}

    def with_logging_disabled(self) -> SuppressionBufferBuilder:
        self.logging_enabled = False
        return self

    def with_caching_disabled(self) -> SuppressionBufferBuilder:
        return self

    def build(self) -> SuppressionBuffer:
        return SuppressionBuffer(self.name)

    def __repr__(self) -> str:
        return f"SuppressionBufferBuilder({self.name!r})"
