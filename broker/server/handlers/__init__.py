"""One module per Kafka API; each has API_KEY, VERSIONS (what its logic serves) and
handle(header, request, state, ctx) -> response dict | None | awaitable of one. Handlers import
broker.server (state, codes, helpers), broker.coordinator, broker.metadata and broker.protocol.

The registry below is the single source of ApiVersions: a key is advertised only when a handler
exists, and only in the versions both the handler and the codec (SUPPORTED_VERSIONS) support.
"""
from __future__ import annotations

import importlib
from typing import Callable

_MODULES = [
    "api_versions", "metadata", "produce", "fetch", "list_offsets", "offset_for_leader_epoch",
    "find_coordinator", "join_group", "sync_group", "heartbeat", "leave_group", "offset_commit",
    "offset_fetch", "offset_delete", "describe_groups", "list_groups", "delete_groups",
    "create_topics", "delete_topics", "create_partitions", "describe_configs", "alter_configs",
    "incremental_alter_configs", "delete_records", "describe_cluster", "describe_log_dirs",
    "init_producer_id", "add_partitions_to_txn", "add_offsets_to_txn", "end_txn",
    "txn_offset_commit", "describe_transactions", "list_transactions",
]

HANDLERS: dict[int, Callable] = {}
HANDLER_VERSIONS: dict[int, tuple[int, int]] = {}

for _name in _MODULES:
    try:
        _mod = importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as _exc:  # a handler not written yet is simply not advertised
        if _exc.name != f"{__name__}.{_name}":
            raise
        continue
    HANDLERS[_mod.API_KEY] = _mod.handle
    _lo, _hi = _mod.VERSIONS  # (min, max) that the handler's logic serves
    HANDLER_VERSIONS[_mod.API_KEY] = (_lo, _hi)


def advertised_versions() -> dict[int, tuple[int, int]]:
    """api_key -> (min, max) served: handler range ∩ codec range, non-empty ones only."""
    from pystreams.broker.protocol import SUPPORTED_VERSIONS
    out: dict[int, tuple[int, int]] = {}
    for key, (lo, hi) in HANDLER_VERSIONS.items():
        codec = SUPPORTED_VERSIONS.get(key)
        if codec is None:
            continue
        low, high = max(lo, codec[0]), min(hi, codec[1])
        if low <= high:
            out[key] = (low, high)
    return out
