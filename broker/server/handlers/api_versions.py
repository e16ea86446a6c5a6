"""ApiVersions (18): the versions we serve, derived from the registry and the codec together."""
from __future__ import annotations

API_KEY = 18
VERSIONS = (0, 4)
PRODUCE = 0


def handle(header, request: dict, state, ctx) -> dict:
    """Answer with the registry ∩ codec ranges, so we never advertise what we cannot serve."""
    from pystreams.broker.server.handlers import advertised_versions
    # Produce is listed from v0 although v0-v2 are refused (the connection is closed), as Apache
    # Kafka 4 does (KAFKA-18659): librdkafka < 2.8 enables gzip/snappy/lz4 only when the broker
    # lists Produce v0, and otherwise silently sends uncompressed batches.
    keys = [{"api_key": key, "min_version": 0 if key == PRODUCE else lo, "max_version": hi}
            for key, (lo, hi) in sorted(advertised_versions().items())]
    return {"error_code": 0, "api_keys": keys, "throttle_time_ms": 0,
            "supported_features": [], "finalized_features_epoch": -1,
            "finalized_features": [], "zk_migration_ready": False}
