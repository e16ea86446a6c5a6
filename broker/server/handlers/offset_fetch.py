"""OffsetFetch (9): committed offsets of one group (v1-7) or several (v8+)."""
from __future__ import annotations

from pystreams.broker.coordinator.transactions.service import mark_unstable
from pystreams.broker.server.handlers._util import version

API_KEY = 9
VERSIONS = (1, 9)


def _topics(raw: list[dict] | None) -> list[tuple[str, list[int]]] | None:
    return None if raw is None else [(t["name"], list(t["partition_indexes"])) for t in raw]


def handle(header, request: dict, state, ctx) -> dict:
    """Unknown groups and partitions answer offset -1 with no error, as Kafka does."""
    machine = state.coordinator.machine
    stable = request.get("require_stable", False)

    def fetch(group_id: str, topics):
        found = machine.fetch_offsets(group_id, topics)
        # KIP-447: offsets a transaction still holds are UNSTABLE_OFFSET_COMMIT (retriable)
        return mark_unstable(state, group_id, found) if stable else found
    if version(header) < 8:
        topics = fetch(request["group_id"], _topics(request.get("topics")))
        return {"throttle_time_ms": 0, "topics": topics, "error_code": 0}
    groups = [{"group_id": g["group_id"], "topics": fetch(g["group_id"], _topics(g.get("topics"))),
               "error_code": 0}
              for g in request["groups"]]
    return {"throttle_time_ms": 0, "groups": groups}
