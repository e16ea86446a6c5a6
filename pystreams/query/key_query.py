"""Kafka's KeyQuery and TimestampedKeyQuery: one key's value in a key-value store (KIP-796, KIP-992)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pystreams.errors import PystreamsError


def _check_key(kind: str, key: Any) -> None:
    if key is None:
        raise PystreamsError(f"{kind}.with_key: the key cannot be None")


@dataclass(frozen=True)
class KeyQuery:
    """The value of one key (plain, also on a timestamped store), or None. skip_cache(): read the store under
    the record cache (only what was flushed at the last commit or eviction), as Kafka's KeyQuery.skipCache()."""

    key: Any
    skips_cache: bool = False

    @classmethod
    def with_key(cls, key: Any) -> KeyQuery:
        _check_key("KeyQuery", key)
        return cls(key)

    def skip_cache(self) -> KeyQuery:
        return replace(self, skips_cache=True)

    def get_key(self) -> Any:
        return self.key

    def is_skip_cache(self) -> bool:
        return self.skips_cache


@dataclass(frozen=True)
class TimestampedKeyQuery:
    """The ValueAndTimestamp of one key in a timestamped key-value store (UNKNOWN_QUERY_TYPE on a plain one)."""

    key: Any
    skips_cache: bool = False

    @classmethod
    def with_key(cls, key: Any) -> TimestampedKeyQuery:
        _check_key("TimestampedKeyQuery", key)
        return cls(key)

    def skip_cache(self) -> TimestampedKeyQuery:
        return replace(self, skips_cache=True)

    def get_key(self) -> Any:
        return self.key

    def is_skip_cache(self) -> bool:
        return self.skips_cache
