"""Python twins of S1's Java topologies in tests/reference/java/pystreams/oracle/topologies/S1*.java
(run by the shared `java_streams` oracle)."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pystreams import Branched, Named, Produced, Repartitioned, Serdes, StreamsBuilder

S, L = Serdes.String(), Serdes.Long()


def s1statelessops(b: StreamsBuilder) -> list[tuple[str, Any]]:
    s = b.stream("in")
    s.filter(lambda k, v: v is not None and "1" in v, Named("only-ones")).to("filtered")
    s.filter_not(lambda k, v: v is None or len(v) > 3).map_values(lambda v: v.upper()).to("upper")
    s.flat_map_values(lambda v: [] if v is None else v.split("-")).to("parts")
    s.select_key(lambda k, v: None if v is None else v[:1]).to("rekeyed")
    s.map(lambda k, v: (v, k)).to("swapped")
    s.flat_map(lambda k, v: [] if v is None else [(k, v), (v, k)]).to("both")
    a = s.peek(lambda k, v: None).filter(lambda k, v: v is not None and v.startswith("a"))
    c = s.filter(lambda k, v: v is not None and v.startswith("c"))
    a.merge(c).to("merged")
    return [(t, S) for t in ("filtered", "upper", "parts", "rekeyed", "swapped", "both", "merged")]


def s1splitrepartition(b: StreamsBuilder) -> list[tuple[str, Any]]:
    s = b.stream("in")
    branches = (s.split(Named("by-"))
                .branch(lambda k, v: v is not None and re.fullmatch("[0-9]+", v) is not None, Branched.as_("digits"))
                .branch(lambda k, v: v is not None and re.fullmatch("[a-z]+", v) is not None,
                        Branched.with_function(lambda x: x.map_values(lambda v: v + "!"), "letters"))
                .default_branch(Branched.as_("other")))
    branches["by-digits"].to("digits")
    branches["by-letters"].to("letters")
    branches["by-other"].to("other")
    (s.select_key(lambda k, v: None if v is None else v[:1]).repartition(Repartitioned.as_("by-first"))
     .group_by_key().count().to_stream().to("counts", Produced(S, L)))
    s.filter(lambda k, v: v is not None and v[:1] in ("a", "b")).to(lambda k, v, ctx: "route-" + v[:1])
    return [("digits", S), ("letters", S), ("other", S), ("counts", L), ("route-a", S), ("route-b", S)]


CASES: dict[str, Callable[[StreamsBuilder], list[tuple[str, Any]]]] = {
    "s1statelessops": s1statelessops,
    "s1splitrepartition": s1splitrepartition,
}
