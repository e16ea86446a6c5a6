"""Kafka's ResultOrder: the key order a range query asks for (by serialized key bytes, as the stores sort)."""
from __future__ import annotations

import enum


class ResultOrder(enum.Enum):
    """ANY (the store's natural order: ascending here), ASCENDING or DESCENDING."""

    ANY = "ANY"
    ASCENDING = "ASCENDING"
    DESCENDING = "DESCENDING"
