"""Topic config validation, description and alteration (Kafka's topic-level key names).

Why one module: CreateTopics, DescribeConfigs, AlterConfigs and IncrementalAlterConfigs must agree
on which keys exist, where each value comes from, and what a bad value is.
"""
from __future__ import annotations

from typing import Any, Callable

from pystreams.broker.config import DEFAULTS as BROKER_DEFAULTS
from pystreams.broker.metadata import TopicInfo
from pystreams.broker.server import codes
from pystreams.broker.server.state import (TOPIC_CONFIG_DEFAULTS, TOPIC_CONFIG_KAFKA_DEFAULTS,
                                           TopicError)

TOPIC = 2
BROKER = 4
BROKER_LOGGER = 8
DYNAMIC_TOPIC_CONFIG, STATIC_BROKER_CONFIG, DEFAULT_CONFIG = 1, 4, 5
#: Topic keys Kafka accepts that the single node stores but does not act on.
EXTRA_TOPIC_KEYS = {
    "unclean.leader.election.enable": "false", "preallocate": "false",
    "max.compaction.lag.ms": "9223372036854775807", "min.cleanable.dirty.ratio": "0.5",
    "message.timestamp.before.max.ms": "9223372036854775807",
    "message.timestamp.after.max.ms": "3600000", "segment.jitter.ms": "0",
    "message.downconversion.enable": "true", "follower.replication.throttled.replicas": "",
    "leader.replication.throttled.replicas": "", "local.retention.ms": "-2",
    "local.retention.bytes": "-2", "remote.storage.enable": "false",
    "message.timestamp.difference.max.ms": "9223372036854775807",
}
KNOWN_TOPIC_KEYS = set(TOPIC_CONFIG_DEFAULTS) | set(EXTRA_TOPIC_KEYS)


def validate_topic_configs(configs: dict[str, str]) -> None:
    """Raise TopicError(INVALID_CONFIG) for an unknown key or a value the log rejects."""
    for key in configs:
        if key not in KNOWN_TOPIC_KEYS:
            raise TopicError(codes.INVALID_CONFIG, f"Unknown topic config name: {key}")
    try:
        from pystreams.broker.log import LogConfig
    except ImportError:  # the log room has not exported its config yet
        return
    try:
        config = LogConfig.from_props(configs)
        check = getattr(config, "check", None)
        if callable(check):
            check()
    except Exception as exc:
        raise TopicError(codes.INVALID_CONFIG, str(exc)) from None


def describe_topic_configs(state, info: TopicInfo, keys: list[str] | None = None) -> list[dict]:
    """Every topic key with its value and source (override, broker setting or Kafka default)."""
    effective = state.topic_config(info)
    out = []
    for key in sorted(KNOWN_TOPIC_KEYS):
        if keys is not None and key not in keys:
            continue
        if key in info.configs:
            value, source = info.configs[key], DYNAMIC_TOPIC_CONFIG
        elif key in effective:
            broker_key = TOPIC_CONFIG_DEFAULTS.get(key)
            value = effective[key]
            source = STATIC_BROKER_CONFIG if broker_key in state.config.props else DEFAULT_CONFIG
        else:
            value, source = EXTRA_TOPIC_KEYS[key], DEFAULT_CONFIG
        out.append({"name": key, "value": value, "read_only": False,
                    "is_default": source == DEFAULT_CONFIG, "config_source": source,
                    "is_sensitive": False, "synonyms": [], "config_type": 0,
                    "documentation": None})
    return out


def describe_broker_configs(state, keys: list[str] | None = None) -> list[dict]:
    """The broker's settings: explicit ones as static config, the rest as Kafka's defaults."""
    merged = {**BROKER_DEFAULTS, **state.config.props}
    out = []
    for key in sorted(merged):
        if keys is not None and key not in keys:
            continue
        source = STATIC_BROKER_CONFIG if key in state.config.props else DEFAULT_CONFIG
        out.append({"name": key, "value": merged[key], "read_only": True,
                    "is_default": source == DEFAULT_CONFIG, "config_source": source,
                    "is_sensitive": "password" in key, "synonyms": [], "config_type": 0,
                    "documentation": None})
    return out


def apply_topic_configs(state, name: str, configs: dict[str, str], validate_only: bool) -> None:
    """Validate then store a topic's new overrides and hand them to its live partition logs."""
    validate_topic_configs(configs)
    if validate_only:
        return
    state.logs.alter_topic_config(name, configs)
    state.metadata.set_configs(name, configs)


def resource_error(state, resource_type: int, resource_name: str) -> tuple[int, str | None]:
    """(error, message) when a config resource cannot be described or altered."""
    if resource_type == TOPIC:
        if state.metadata.get(resource_name) is None:
            return codes.UNKNOWN_TOPIC_OR_PARTITION, \
                f"The topic '{resource_name}' does not exist."
        return 0, None
    if resource_type in (BROKER, BROKER_LOGGER):
        if resource_name not in ("", str(state.node_id)):
            return codes.INVALID_REQUEST, f"Unexpected broker id {resource_name}"
        return 0, None
    return codes.INVALID_REQUEST, f"Unsupported resource type {resource_type}"


def alter_topic_resources(state, request: dict,
                          new_configs: Callable[[dict[str, Any], dict[str, str]], dict[str, str]]
                          ) -> dict:
    """An AlterConfigs-style response: each topic's overrides become new_configs(resource, current).

    Why shared: the legacy and the incremental API must refuse the same resources (unknown topic,
    broker configs, which are static here) and report errors per resource the same way.
    """
    responses = []
    for r in request["resources"]:
        rtype, rname = r["resource_type"], r["resource_name"]
        error, message = resource_error(state, rtype, rname)
        if not error and rtype != TOPIC:
            error, message = codes.INVALID_REQUEST, "broker configs are static on this broker"
        if not error:
            try:
                configs = new_configs(r, dict(state.metadata.get(rname).configs))
                apply_topic_configs(state, rname, configs, bool(request.get("validate_only")))
            except TopicError as exc:
                error, message = exc.code, str(exc)
        responses.append({"error_code": error, "error_message": message, "resource_type": rtype,
                          "resource_name": rname})
    return {"throttle_time_ms": 0, "responses": responses}
