"""Stand-ins shared by the stream thread unit tests (no broker, no clients): a StreamThread made without its __init__,
and a restorer with nothing to restore."""
from __future__ import annotations

import threading
from typing import Any

from pystreams.runtime import StreamsConfig
from pystreams.runtime.stream_thread import StreamThread


def bare_stream_thread(name: str = "t", eos: bool | None = None, **config: Any) -> Any:
    """A StreamThread object without clients, group or tasks (its __init__ is not run): a daemon thread named
    `name` with the config of app "app" (config keys added or overridden) and `eos` (default: from the config).
    Each test sets the fields the code under test reads."""
    thread: Any = StreamThread.__new__(StreamThread)
    threading.Thread.__init__(thread, name=name, daemon=True)
    thread.config = StreamsConfig({"application.id": "app", "bootstrap.servers": "x:1", **config})
    thread.eos = thread.config.eos if eos is None else eos
    return thread


class NothingToRestore:
    """The stream thread's ChangelogReader when no task has state to restore: every added task runs at once."""

    def __init__(self) -> None:
        self.restoring: dict[Any, Any] = {}

    def __bool__(self) -> bool:
        return False

    def __contains__(self, task_id: object) -> bool:
        return False

    def add(self, at: Any, partitions: list[Any]) -> bool:
        return True
