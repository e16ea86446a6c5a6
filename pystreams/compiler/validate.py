"""Build-time checks that name the DSL operator and the fix, before any record flows."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pystreams.compiler.topology import Topology
from pystreams.errors import TopologyError

DEFAULT_KEY_SERDE = "default.key.serde"
DEFAULT_VALUE_SERDE = "default.value.serde"


class MissingSerdeError(TopologyError):
    """A source, sink, repartition topic or store has no serde and no default is configured."""


def _missing(serde: Any) -> bool:
    if serde is None:
        return True
    # wrapping serdes (Kafka's ChangedSerde for table repartition topics) with no inner serde
    return hasattr(serde, "set_if_unset") and getattr(serde, "inner", object()) is None


def missing_serdes(topology: Topology, config: Mapping[str, Any]) -> list[str]:
    """One line per serde that is needed but neither given nor defaulted in `config`."""
    defaults = {True: config.get(DEFAULT_KEY_SERDE), False: config.get(DEFAULT_VALUE_SERDE)}
    problems: list[str] = []
    seen: set[tuple[str, str, bool]] = set()  # a repartition topic's sink and source: report once
    for node in topology.nodes():
        if node.kind not in ("source", "sink"):
            continue
        topic = (", ".join(getattr(node, "topics", []) or []) or getattr(getattr(node, "pattern", None), "pattern", "")
                 if node.kind == "source" else getattr(node, "topic", None) or "the extractor's topic")
        for is_key in (True, False):
            serde = getattr(node, "key_serde" if is_key else "value_serde")
            if _missing(serde) and defaults[is_key] is None and (node.origin, topic, is_key) not in seen:
                if node.origin:
                    seen.add((node.origin, topic, is_key))
                what = "key" if is_key else "value"
                where = node.origin or f"{node.kind} {node.name}"
                fix = node.serde_fix or ("Consumed" if node.kind == "source" else "Produced")
                problems.append(f"{where} (node {node.name}, topic {topic}) needs a {what} serde: pass "
                                f"{fix}, or set {DEFAULT_KEY_SERDE if is_key else DEFAULT_VALUE_SERDE}.")
    builders = {**topology.global_store_builders(), **topology.store_builders()}
    for store, builder in builders.items():
        for is_key in (True, False):
            serde = getattr(builder, "key_serde" if is_key else "value_serde", None)
            if _missing(serde) and defaults[is_key] is None:
                what = "key" if is_key else "value"
                problems.append(f"state store {store} needs a {what} serde: pass Materialized(..., "
                                f"{what}_serde=...) to the operation that creates it (or give its "
                                f"StoreBuilder serdes), or set "
                                f"{DEFAULT_KEY_SERDE if is_key else DEFAULT_VALUE_SERDE}.")
    return problems


def check_serdes(topology: Topology, config: Mapping[str, Any]) -> None:
    """Raise MissingSerdeError listing every missing serde, each with the operator and the fix."""
    problems = missing_serdes(topology, config)
    if problems:
        raise MissingSerdeError("Missing serdes:\n  - " + "\n  - ".join(problems))
