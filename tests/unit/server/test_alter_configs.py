"""AlterConfigs (33) and IncrementalAlterConfigs (44) through the real codec, without sockets:
what each does to a topic's overrides, and the per-resource errors they share."""
from __future__ import annotations

from typing import Any, Iterator

import pytest

from tests.unit.server._harness import Node

pytestmark = pytest.mark.unit

TOPIC, BROKER = 2, 4
SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3


@pytest.fixture
def node(tmp_path: Any) -> Iterator[Node]:
    n = Node(tmp_path)
    n.state.create_topic("t", 1, {"retention.ms": "1000", "cleanup.policy": "delete"})
    yield n
    n.close()


def _alter(node: Node, resources: list[dict[str, Any]], validate_only: bool = False) -> list[Any]:
    body = node.call(33, 2, {"resources": resources, "validate_only": validate_only})
    assert body is not None
    return [(r["resource_name"], r["error_code"]) for r in body["responses"]]


def _incremental(node: Node, resources: list[dict[str, Any]],
                 validate_only: bool = False) -> list[Any]:
    body = node.call(44, 1, {"resources": resources, "validate_only": validate_only})
    assert body is not None
    return [(r["resource_name"], r["error_code"]) for r in body["responses"]]


def _configs(node: Node) -> dict[str, str]:
    return dict(node.state.metadata.get("t").configs)


def test_alter_configs_replaces_the_whole_set_of_overrides(node: Node) -> None:
    assert _alter(node, [{"resource_type": TOPIC, "resource_name": "t", "configs": [
        {"name": "segment.ms", "value": "60000"}, {"name": "retention.ms", "value": None}]}]) \
        == [("t", 0)]
    assert _configs(node) == {"segment.ms": "60000"}


def test_incremental_alter_configs_applies_each_operation(node: Node) -> None:
    assert _incremental(node, [{"resource_type": TOPIC, "resource_name": "t", "configs": [
        {"name": "segment.ms", "config_operation": SET, "value": "60000"},
        {"name": "retention.ms", "config_operation": DELETE, "value": None},
        {"name": "cleanup.policy", "config_operation": APPEND, "value": "compact"}]}]) == [("t", 0)]
    assert _configs(node) == {"segment.ms": "60000", "cleanup.policy": "delete,compact"}
    assert _incremental(node, [{"resource_type": TOPIC, "resource_name": "t", "configs": [
        {"name": "cleanup.policy", "config_operation": SUBTRACT, "value": "delete"}]}]) == [("t", 0)]
    assert _configs(node) == {"segment.ms": "60000", "cleanup.policy": "compact"}


@pytest.mark.parametrize("call", [_alter, _incremental])
def test_errors_are_per_resource_and_change_nothing(node: Node, call: Any) -> None:
    bad_value = {"name": "retention.ms", "config_operation": SET, "value": "soon"}
    unknown_key = {"name": "no.such.key", "config_operation": SET, "value": "1"}
    answers = call(node, [
        {"resource_type": TOPIC, "resource_name": "missing", "configs": []},
        {"resource_type": BROKER, "resource_name": "", "configs": []},
        {"resource_type": BROKER, "resource_name": "99", "configs": []},
        {"resource_type": 7, "resource_name": "x", "configs": []},
        {"resource_type": TOPIC, "resource_name": "t", "configs": [bad_value]},
        {"resource_type": TOPIC, "resource_name": "t", "configs": [unknown_key]},
    ])
    assert answers == [("missing", 3), ("", 42), ("99", 42), ("x", 42), ("t", 40), ("t", 40)]
    assert _configs(node) == {"retention.ms": "1000", "cleanup.policy": "delete"}


@pytest.mark.parametrize("call", [_alter, _incremental])
def test_validate_only_checks_without_storing(node: Node, call: Any) -> None:
    change = {"name": "segment.ms", "config_operation": SET, "value": "60000"}
    assert call(node, [{"resource_type": TOPIC, "resource_name": "t", "configs": [change]}],
                validate_only=True) == [("t", 0)]
    assert _configs(node) == {"retention.ms": "1000", "cleanup.policy": "delete"}
