"""Build order: the order Kafka writes graph nodes into the topology: a priority queue on build priority starting
at the root, each node written when popped once all its parents are written (InternalStreamsBuilder.
buildAndOptimizeTopology). Node insertion order decides sub-topology numbers and children order."""
from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence


def write_order(names: Sequence[str], parents: Mapping[str, Sequence[str]],
                children: Mapping[str, Sequence[str]], priority: Mapping[str, int]) -> list[str]:
    """Node names in Kafka's write order."""
    heap: list[tuple[int, int, str]] = []
    seq = 0
    for root in sorted((n for n in names if not parents[n]), key=lambda n: priority[n]):
        heapq.heappush(heap, (priority[root], seq, root))
        seq += 1
    written: list[str] = []
    done: set[str] = set()
    while heap:
        _, _, name = heapq.heappop(heap)
        if name not in done and all(p in done for p in parents[name]):
            written.append(name)
            done.add(name)
        for child in children[name]:
            heapq.heappush(heap, (priority[child], seq, child))
            seq += 1
    return written
