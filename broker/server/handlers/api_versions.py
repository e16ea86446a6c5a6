"""ApiVersions (18): the versions we serve, derived from the registry and the codec together."""
from __future__ import annotations

API_KEY = 18
VERSIONS = (0, 4)


def handle(header, request: dict, state, ctx) -> dict:
    """Answer with the registry ∩ codec ranges, so we never advertise what we cannot serve."""
    from pystreams.broker.server.handlers import advertised_versions
    keys = [{"api_key": key, "min_version": lo, "max_version": hi}
            for key, (lo, hi) in sorted(advertised_versions().items())]
    return {"error_code": 0, "api_keys": keys, "throttle_time_ms": 0,
            "supported_features": [], "finalized_features_epoch": -1,
            "finalized_features": [], "zk_migration_ready": False}
