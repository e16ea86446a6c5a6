"""Every API the codec implements (one schema module per API under messages/), the versions it
advertises, and the compiled encoders/decoders, built lazily once per (api, version, direction)."""
from __future__ import annotations

import importlib
from functools import lru_cache

from .compiler import Decoder, Encoder, compile_decoder, compile_encoder
from .errors import UnsupportedVersionError
from .schema import Api

_MODULES = (
    "produce", "fetch", "list_offsets", "metadata", "offset_commit", "offset_fetch",
    "find_coordinator", "join_group", "heartbeat", "leave_group", "sync_group", "describe_groups",
    "list_groups", "sasl_handshake", "api_versions", "create_topics", "delete_topics",
    "delete_records", "init_producer_id", "offset_for_leader_epoch", "add_partitions_to_txn",
    "add_offsets_to_txn", "end_txn", "txn_offset_commit", "describe_configs", "alter_configs",
    "describe_log_dirs", "sasl_authenticate", "create_partitions", "delete_groups",
    "incremental_alter_configs", "offset_delete", "describe_cluster",
    # beyond issue 3's list: KIP-848 groups, transactions admin, ACLs, SCRAM, quotas, reassignment
    "consumer_group_heartbeat", "consumer_group_describe", "describe_producers",
    "describe_transactions", "list_transactions", "write_txn_markers", "describe_acls", "create_acls",
    "delete_acls", "describe_user_scram_credentials", "alter_user_scram_credentials", "elect_leaders",
    "alter_partition_reassignments", "list_partition_reassignments", "describe_client_quotas",
    "alter_client_quotas", "alter_replica_log_dirs", "describe_topic_partitions", "update_features",
)

APIS: dict[int, Api] = {}
for _name in _MODULES:
    _api: Api = importlib.import_module(f"{__package__}.messages.{_name}").API
    APIS[_api.key] = _api

#: api_key -> (min, max) versions this codec implements: exactly what ApiVersions advertises.
SUPPORTED_VERSIONS: dict[int, tuple[int, int]] = {key: api.versions for key, api in sorted(APIS.items())}


def api_for(api_key: int, version: int) -> Api:
    """The Api for a key and version, or UnsupportedVersionError if either is not implemented."""
    api = APIS.get(api_key)
    if api is None or not api.versions[0] <= version <= api.versions[1]:
        raise UnsupportedVersionError(api_key, version)
    return api


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
