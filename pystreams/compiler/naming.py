"""ensure.explicit.internal.resource.naming (Kafka 4.1, KIP-1111): refuse generated internal resource names.

Kafka's DSL records every state store, changelog topic and repartition topic whose name it generated
(InternalTopologyBuilder.addImplicitInternalNames) and, when the topology is built with the key true, fails with
a TopologyException listing them (checkUnprovidedNames); with the key false it logs the same list as a warning.
A generated name is one the DSL's counter made (Kafka's newProcessorName / newStoreName: a prefix and a 10-digit
index, e.g. KSTREAM-AGGREGATE-STATE-STORE-0000000003) or that derives from one (its "-changelog", "-repartition",
"-store" names), so a changed topology (one more operator upstream) renames it and orphans its state.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pystreams.compiler.topology import TopologyException
from pystreams.errors import ConfigError

log = logging.getLogger(__name__)

ENSURE_EXPLICIT_INTERNAL_RESOURCE_NAMING = "ensure.explicit.internal.resource.naming"
#: the DSL counter's mark in a name: "-" and 10 digits, then the end or another "-" (a derived name's suffix)
_GENERATED = re.compile(r"-(\d{10})(?=-|$)")
_WARNING = ("Explicit naming for internal resources is currently disabled. If you want to enforce user-defined "
            "names for all internal resources, set ensure.explicit.internal.resource.naming to true. Note: "
            "Changing internal resource names may require a full streams application reset for an already "
            "deployed application. Consult the documentation on naming operators for more details. ")


def is_generated(name: str) -> bool:
    """Whether `name` was made (or derived) from the DSL's counter rather than given by the user."""
    return _GENERATED.search(name) is not None


def _dsl_order(names: list[str]) -> list[str]:
    """Names in the order the DSL generated them (their counter index; Kafka lists them in registration order)."""
    def index(name: str) -> int:
        found = _GENERATED.search(name)
        return int(found.group(1)) if found else -1

    return sorted(dict.fromkeys(names), key=index)  # sorted() is stable: ties keep the topology's order


@dataclass(frozen=True)
class ImplicitNames:
    """The internal resources of a topology whose names were generated, unprefixed (as Kafka lists them)."""

    changelog_topics: tuple[str, ...] = ()
    state_stores: tuple[str, ...] = ()
    repartition_topics: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.changelog_topics or self.state_stores or self.repartition_topics)

    def message(self) -> str:
        """Kafka's list: one line per kind that has names, each ending with a newline."""
        lines = [f"Following {kind} has not been named: {', '.join(names)}\n"
                 for kind, names in (("changelog topic(s)", self.changelog_topics),
                                     ("state store(s)", self.state_stores),
                                     ("repartition topic(s)", self.repartition_topics)) if names]
        return "".join(lines)


def implicit_internal_names(topology: Any) -> ImplicitNames:
    """The generated names among a DSL-compiled topology's stores, changelogs and repartition topics. A
    Processor-API topology (no logical graph) has none: there every store and topic is named by the user."""
    if getattr(topology, "logical_graph", None) is None:
        return ImplicitNames()
    internal = topology.internal_topics()
    stores = [*topology.store_builders(), *topology.global_store_names()]
    return ImplicitNames(
        changelog_topics=tuple(_dsl_order([t for t in internal["changelog"].values() if is_generated(t)])),
        state_stores=tuple(_dsl_order([s for s in stores if is_generated(s)])),
        repartition_topics=tuple(_dsl_order([t for t in internal["repartition"] if is_generated(t)])))


def naming_enforced(config: Mapping[str, Any] | None) -> bool:
    """The key's value as Kafka's BOOLEAN config reads it (true/false, any case; absent = false)."""
    raw = (config or {}).get(ENSURE_EXPLICIT_INTERNAL_RESOURCE_NAMING, False)
    if isinstance(raw, bool):
        return raw
    value = str(raw).strip().lower()
    if value not in ("true", "false"):
        raise ConfigError(f"Invalid value {raw} for configuration {ENSURE_EXPLICIT_INTERNAL_RESOURCE_NAMING}: "
                          "Expected value to be either true or false")
    return value == "true"


def check_unprovided_names(topology: Any, config: Mapping[str, Any] | None, warn: bool = True) -> None:
    """Kafka's checkUnprovidedNames: with the key true, a TopologyException listing every generated internal
    name; otherwise the same list logged as a warning (warn=False: nothing, for a second check of a topology
    whose build already warned)."""
    names = implicit_internal_names(topology)
    if not names:
        return
    if naming_enforced(config):
        raise TopologyException(f"Invalid topology: {names.message()}")
    if warn:
        log.warning("%s%s", _WARNING, names.message())
