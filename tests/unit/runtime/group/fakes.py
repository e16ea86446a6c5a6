"""A scripted stand-in for GroupClient: each API pops its next answer (a value, or an exception to raise) and
records the call, so the membership state machine runs with no sockets and a fake clock."""
from __future__ import annotations

from collections import deque
from typing import Any

from pystreams.broker.protocol import ErrorCode, encode_assignment
from pystreams.runtime.group.client import JoinedMember, JoinResult, MemberIdRequired
from pystreams.runtime.group.errors import GroupError, raise_for


def assignment(partitions: list[tuple[str, int]], user_data: bytes | None = None) -> bytes:
    by_topic: dict[str, list[int]] = {}
    for t, p in sorted(partitions):
        by_topic.setdefault(t, []).append(p)
    return encode_assignment({"assigned_partitions": [{"topic": t, "partitions": ps} for t, ps in by_topic.items()],
                              "user_data": user_data})


def error(api: str, code: ErrorCode) -> GroupError:
    try:
        raise_for(api, int(code))
    except GroupError as e:
        return e
    raise AssertionError(code)


class FakeClient:
    """Answers queued per API; `calls` lists (api, kwargs) in order."""

    def __init__(self) -> None:
        self.answers: dict[str, deque[Any]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.closed = False

    def script(self, api: str, *answers: Any) -> FakeClient:
        self.answers.setdefault(api, deque()).extend(answers)
        return self

    def _next(self, api: str, **kwargs: Any) -> Any:
        self.calls.append((api, kwargs))
        queue = self.answers.get(api)
        if not queue:
            raise AssertionError(f"unexpected {api} call {kwargs}")
        answer = queue.popleft()
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def called(self, api: str) -> list[dict[str, Any]]:
        return [kwargs for name, kwargs in self.calls if name == api]

    def join_group(self, member_id: str, group_instance_id: str | None, session_timeout_ms: int,
                   rebalance_timeout_ms: int, protocols: list[tuple[str, bytes]], reason: str | None = None
                   ) -> JoinResult:
        return self._next("join", member_id=member_id, protocols=protocols, session_timeout_ms=session_timeout_ms,
                          rebalance_timeout_ms=rebalance_timeout_ms)

    def sync_group(self, generation_id: int, member_id: str, group_instance_id: str | None, protocol_name: str,
                   assignments: dict[str, bytes], rebalance_timeout_ms: int) -> bytes:
        return self._next("sync", generation_id=generation_id, member_id=member_id, assignments=dict(assignments),
                          protocol_name=protocol_name)

    def heartbeat(self, generation_id: int, member_id: str, group_instance_id: str | None) -> None:
        return self._next("heartbeat", generation_id=generation_id, member_id=member_id)

    def leave_group(self, member_id: str, group_instance_id: str | None, reason: str = "") -> None:
        return self._next("leave", member_id=member_id)

    def commit_offsets(self, generation_id: int, member_id: str, group_instance_id: str | None,
                       offsets: dict[tuple[str, int], int]) -> None:
        return self._next("commit", generation_id=generation_id, member_id=member_id, offsets=dict(offsets))

    def fetch_offsets(self, partitions: list[tuple[str, int]], require_stable: bool = True
                      ) -> dict[tuple[str, int], int]:
        return self._next("fetch", partitions=list(partitions), require_stable=require_stable)

    def close(self) -> None:
        self.closed = True



class MetadataClient(FakeClient):
    """A FakeClient that also answers a group leader's metadata reads: partition counts from `counts` (a dict the test
    may change; `reads` counts the reads) and `end_offset` for every partition's end."""

    end_offset = 0

    def __init__(self, counts: dict[str, int]) -> None:
        super().__init__()
        self.counts = counts
        self.reads = 0

    def partition_counts(self, topics: Any) -> dict[str, int]:
        self.reads += 1
        return {t: n for t, n in self.counts.items() if t in set(topics)}

    def all_partition_counts(self) -> dict[str, int]:
        self.reads += 1
        return dict(self.counts)

    def topic_names(self) -> list[str]:
        return sorted(self.counts)

    def end_offsets(self, partitions: Any) -> dict[tuple[str, int], int]:
        return {tp: self.end_offset for tp in partitions}


def joined(member_id: str, generation: int, leader: str, members: list[tuple[str, bytes]] = ()) -> JoinResult:
    return JoinResult(generation, member_id, leader, "stream", [JoinedMember(m, None, md) for m, md in members])


def member_id_required(member_id: str) -> MemberIdRequired:
    return MemberIdRequired(member_id)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now
