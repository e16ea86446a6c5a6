"""BranchedKStream: split() routes each record to the first branch whose predicate matches."""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable, Generic, TypeVar

from pystreams.dsl import arity
from pystreams.dsl.options import Branched
from pystreams.errors import TopologyError
from pystreams.graph import ProcessorGraphNode

if TYPE_CHECKING:
    from pystreams.dsl.kstream import KStream

K = TypeVar("K")
V = TypeVar("V")

BRANCH_NAME = "KSTREAM-BRANCH-"


class BranchedKStream(Generic[K, V]):
    """Kafka's BranchedKStream: branch(predicate[, Branched]) ..., then default_branch()/no_default_branch()."""

    def __init__(self, source: KStream[K, V], name: str | None) -> None:
        self._source = source
        self._builder = source._builder
        self._splitter = self._builder.named_or_generate(name, BRANCH_NAME)
        self._predicates: list[Callable[[Any, Any], bool]] = []
        self._children: list[str] = []
        self._outputs: dict[str, KStream[K, V]] = {}
        self._closed = False
        self._builder.add_node(ProcessorGraphNode(self._splitter, (source.name,), op="branch",
                                                  options=(("predicates", ()), ("children", ()))))

    def branch(self, predicate: Callable[[K, V], bool],
               branched: Branched[K, V] | None = None) -> BranchedKStream[K, V]:
        """Records matching predicate(key, value) (and no earlier branch) go to this branch."""
        arity.check(predicate, 2, "BranchedKStream.branch", "predicate(key, value) -> bool")
        self._predicates.append(predicate)
        self._create_branch(branched or Branched(), len(self._predicates))
        return self

    def default_branch(self, branched: Branched[K, V] | None = None) -> dict[str, KStream[K, V]]:
        """Records matching no predicate go here; returns the branches by name."""
        self._create_branch(branched or Branched(), 0)
        self._closed = True
        return dict(self._outputs)

    def no_default_branch(self) -> dict[str, KStream[K, V]]:
        """Drop records matching no predicate; returns the branches by name."""
        self._closed = True
        return dict(self._outputs)

    def _create_branch(self, branched: Branched[K, V], index: int) -> None:
        from pystreams.dsl.kstream import KStream

        if self._closed:
            raise TopologyError("BranchedKStream: no branch can be added after default_branch() or "
                                "no_default_branch().")
        child = self._splitter + (branched.name if branched.name is not None else str(index))
        self._children.append(child)
        self._builder.new_processor_name(child)
        splitter = self._builder.node(self._splitter)
        assert isinstance(splitter, ProcessorGraphNode)
        self._builder.replace_node(replace(splitter, options=(("predicates", tuple(self._predicates)),
                                                              ("children", tuple(self._children)))))
        self._builder.add_node(ProcessorGraphNode(child, (self._splitter,), op="passthrough"))
        stream: KStream[K, V] = KStream(self._builder, child, self._source.key_serde,
                                        self._source.value_serde, self._source.repartition_required)
        if branched.chain is not None:
            result = branched.chain(stream)
            if result is not None:
                self._outputs[child] = result
        elif branched.consumer is not None:
            branched.consumer(stream)
        else:
            self._outputs[child] = stream
