"""Every API the codec implements (one schema module per API under messages/, imported when that API is first
used), the versions it advertises, and the compiled encoders/decoders, built lazily once per (api, version,
direction)."""
from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from functools import lru_cache

from .compiler import Decoder, Encoder, compile_decoder, compile_encoder
from .errors import UnsupportedVersionError
from .schema import Api

#: api_key -> (schema module under messages/, min version, max version this codec implements). The versions are
#: the modules' own Api.versions, repeated here so that ApiVersions, a client's negotiation and a lookup of one API
#: import no schema module but that API's (all ~50 took 5-12 ms of every import); a module whose Api disagrees
#: with its row is refused when it loads, and tests/unit/protocol/test_registry_lazy.py compares them all.
_TABLE: dict[int, tuple[str, int, int]] = {
    0: ("produce", 3, 11), 1: ("fetch", 4, 17), 2: ("list_offsets", 1, 10), 3: ("metadata", 0, 12),
    8: ("offset_commit", 2, 9), 9: ("offset_fetch", 1, 9), 10: ("find_coordinator", 0, 6),
    11: ("join_group", 0, 9), 12: ("heartbeat", 0, 4), 13: ("leave_group", 0, 5), 14: ("sync_group", 0, 5),
    15: ("describe_groups", 0, 5), 16: ("list_groups", 0, 5), 17: ("sasl_handshake", 0, 1),
    18: ("api_versions", 0, 4), 19: ("create_topics", 2, 7), 20: ("delete_topics", 1, 6),
    21: ("delete_records", 0, 2), 22: ("init_producer_id", 0, 5), 23: ("offset_for_leader_epoch", 2, 4),
    24: ("add_partitions_to_txn", 0, 5), 25: ("add_offsets_to_txn", 0, 4), 26: ("end_txn", 0, 4),
    27: ("write_txn_markers", 1, 1), 28: ("txn_offset_commit", 0, 4), 29: ("describe_acls", 1, 3),
    30: ("create_acls", 1, 3), 31: ("delete_acls", 1, 3), 32: ("describe_configs", 1, 4),
    33: ("alter_configs", 0, 2), 34: ("alter_replica_log_dirs", 1, 2), 35: ("describe_log_dirs", 1, 4),
    36: ("sasl_authenticate", 0, 2), 37: ("create_partitions", 0, 3), 42: ("delete_groups", 0, 2),
    43: ("elect_leaders", 0, 2), 44: ("incremental_alter_configs", 0, 1),
    45: ("alter_partition_reassignments", 0, 0), 46: ("list_partition_reassignments", 0, 0),
    47: ("offset_delete", 0, 0), 48: ("describe_client_quotas", 0, 1), 49: ("alter_client_quotas", 0, 1),
    50: ("describe_user_scram_credentials", 0, 0), 51: ("alter_user_scram_credentials", 0, 0),
    57: ("update_features", 0, 2), 60: ("describe_cluster", 0, 1), 61: ("describe_producers", 0, 0),
    65: ("describe_transactions", 0, 0), 66: ("list_transactions", 0, 1),
    68: ("consumer_group_heartbeat", 0, 0), 69: ("consumer_group_describe", 0, 0),
    75: ("describe_topic_partitions", 0, 0),
}

#: api_key -> (min, max) versions this codec implements: exactly what ApiVersions advertises.
SUPPORTED_VERSIONS: dict[int, tuple[int, int]] = {key: (lo, hi) for key, (_, lo, hi) in sorted(_TABLE.items())}


def _load(api_key: int) -> Api:
    """Import the schema module of api_key (once: the import system caches it) and check it against its row."""
    module, lo, hi = _TABLE[api_key]
    api: Api = importlib.import_module(f"{__package__}.messages.{module}").API
    if api.key != api_key or api.versions != (lo, hi):
        raise RuntimeError(f"broker.protocol.registry: messages.{module} declares key {api.key} versions "
                           f"{api.versions}, the registry's row says key {api_key} versions {(lo, hi)}")
    return api


class _Apis(Mapping[int, Api]):
    """api_key -> Api for every API the codec implements, each schema module imported on first access."""

    def __init__(self) -> None:
        self._loaded: dict[int, Api] = {}

    def __getitem__(self, api_key: int) -> Api:
        api = self._loaded.get(api_key)
        if api is None:
            if api_key not in _TABLE:
                raise KeyError(api_key)
            api = self._loaded[api_key] = _load(api_key)
        return api

    def __iter__(self) -> Iterator[int]:
        return iter(_TABLE)

    def __len__(self) -> int:
        return len(_TABLE)

    def __contains__(self, api_key: object) -> bool:
        return api_key in _TABLE


APIS: Mapping[int, Api] = _Apis()


def api_for(api_key: int, version: int) -> Api:
    """The Api for a key and version, or UnsupportedVersionError if either is not implemented."""
    versions = SUPPORTED_VERSIONS.get(api_key)
    if versions is None or not versions[0] <= version <= versions[1]:
        raise UnsupportedVersionError(api_key, version)
    return APIS[api_key]


_REQUEST_DECODERS: dict[tuple[int, int], Decoder] = {}


def request_decoder(api_key: int, version: int) -> Decoder:
    """The compiled request decoder (plain dict cache: this lookup is on every request)."""
    fn = _REQUEST_DECODERS.get((api_key, version))
    if fn is None:
        api = api_for(api_key, version)
        fn = _REQUEST_DECODERS[(api_key, version)] = compile_decoder(api.request, version,
                                                                     api.is_flexible(version))
    return fn


@lru_cache(maxsize=None)
def request_encoder(api_key: int, version: int) -> Encoder:
    api = api_for(api_key, version)
    return compile_encoder(api.request, version, api.is_flexible(version))


@lru_cache(maxsize=None)
def response_decoder(api_key: int, version: int) -> Decoder:
    api = api_for(api_key, version)
    return compile_decoder(api.response, version, api.is_flexible(version))


_RESPONSE_ENCODERS: dict[tuple[int, int], Encoder] = {}


def response_encoder(api_key: int, version: int) -> Encoder:
    """The compiled response encoder (plain dict cache: this lookup is on every response)."""
    fn = _RESPONSE_ENCODERS.get((api_key, version))
    if fn is None:
        api = api_for(api_key, version)
        fn = _RESPONSE_ENCODERS[(api_key, version)] = compile_encoder(api.response, version,
                                                                      api.is_flexible(version))
    return fn


def precompile(api_keys: list[int] | None = None) -> int:
    """Compile the server-side codecs (request decoders, response encoders) of every version of
    `api_keys` (default: all) now, so the first client request does not pay for it; returns how
    many were compiled (all: ~440 in ~0.4 s on this machine)."""
    count = 0
    for key in SUPPORTED_VERSIONS if api_keys is None else api_keys:
        lo, hi = SUPPORTED_VERSIONS[key]
        for version in range(lo, hi + 1):
            request_decoder(key, version)
            response_encoder(key, version)
            count += 2
    return count
