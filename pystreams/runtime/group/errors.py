"""Errors of the group client, each carrying Kafka's error code and name, and what the member does about it."""
from __future__ import annotations

from pystreams.broker.protocol import ErrorCode, error_name
from pystreams.errors import PystreamsError


class GroupError(PystreamsError):
    """A group API answered with an error code the caller has to handle (Kafka's code and name attached)."""

    def __init__(self, api: str, code: int, detail: str = "") -> None:
        self.api = api
        self.code = code
        self.name = error_name(code)
        try:
            self.retriable = ErrorCode(code).retriable
        except ValueError:
            self.retriable = False
        super().__init__(f"{api} failed: {self.name} ({code}){': ' + detail if detail else ''}")


class CoordinatorMovedError(GroupError):
    """NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE / COORDINATOR_LOAD_IN_PROGRESS: find the coordinator again."""


class RebalanceInProgressError(GroupError):
    """REBALANCE_IN_PROGRESS: the member keeps its partitions for now and rejoins."""


class MemberFencedError(GroupError):
    """ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID / FENCED_INSTANCE_ID: the member's partitions are lost (another
    member may own them already); it closes its tasks dirty and rejoins (Kafka's TaskMigratedException)."""


class BrokerConnectionError(PystreamsError):
    """The connection to a broker failed or timed out; the request may or may not have been processed."""


COORDINATOR_CODES = frozenset({ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE,
                               ErrorCode.COORDINATOR_LOAD_IN_PROGRESS})
FENCED_CODES = frozenset({ErrorCode.ILLEGAL_GENERATION, ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.FENCED_INSTANCE_ID})


def raise_for(api: str, code: int, detail: str = "") -> None:
    """Raise the GroupError subclass for a non-zero error code (no-op for 0)."""
    if code == 0:
        return
    if code in COORDINATOR_CODES:
        raise CoordinatorMovedError(api, code, detail)
    if code == ErrorCode.REBALANCE_IN_PROGRESS:
        raise RebalanceInProgressError(api, code, detail)
    if code in FENCED_CODES:
        raise MemberFencedError(api, code, detail)
    raise GroupError(api, code, detail)
