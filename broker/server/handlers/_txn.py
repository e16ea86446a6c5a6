"""Helpers shared by the transaction handlers: the coordinator of this broker, Kafka's
downgrade of PRODUCER_FENCED for old request versions, and a guard that turns a failed
`__transaction_state` append into COORDINATOR_NOT_AVAILABLE (retriable) instead of a crash."""
from __future__ import annotations

import logging
from typing import Any, Callable

from pystreams.broker.coordinator.codes import (COORDINATOR_NOT_AVAILABLE, INVALID_PRODUCER_EPOCH,
                                                 PRODUCER_FENCED)
from pystreams.broker.coordinator.transactions.machine import Step
from pystreams.broker.coordinator.transactions.service import TransactionService

log = logging.getLogger("pystreams.broker.server.transactions")


def service(state: Any) -> TransactionService:
    """The broker's transaction coordinator (loaded on first use)."""
    return TransactionService.of(state)


def for_version(error: int, version: int, fenced_since: int) -> int:
    """PRODUCER_FENCED exists for a request from `fenced_since` on (KIP-588); older clients
    get INVALID_PRODUCER_EPOCH, as Kafka answers them."""
    return INVALID_PRODUCER_EPOCH if error == PRODUCER_FENCED and version < fenced_since \
        else error


def run_step(state: Any, make: Callable[[TransactionService], Step]) -> Step:
    """Run one coordinator event; a storage failure becomes COORDINATOR_NOT_AVAILABLE."""
    try:
        svc = service(state)
        return svc.run(make(svc))
    except Exception:
        log.exception("transaction coordinator failed")
        return Step(COORDINATOR_NOT_AVAILABLE)
