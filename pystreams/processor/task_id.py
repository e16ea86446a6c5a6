"""TaskId: (sub-topology, partition), printed `0_1` like Kafka, used in state directory names."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class TaskId:
    """Identifies a task: one sub-topology working on one input partition."""

    subtopology: int
    partition: int

    def __str__(self) -> str:
        return f"{self.subtopology}_{self.partition}"

    @classmethod
    def parse(cls, text: str) -> TaskId:
        """Parse Kafka's `<subtopology>_<partition>` form."""
        try:
            sub, part = text.split("_")
            return cls(int(sub), int(part))
        except ValueError:
            raise ValueError(f"Task ID is not in the <subtopology>_<partition> format: {text!r}") from None
