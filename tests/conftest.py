"""Loads every fixture module under tests/fixtures/ as a pytest plugin, so a new room's fixtures
(reference Kafka, the Java streams oracle, our broker) are visible to every test tier."""
from __future__ import annotations

import pkgutil
from typing import Any
from pathlib import Path

pytest_plugins = [f"tests.fixtures.{module.name}"
                  for module in pkgutil.iter_modules([str(Path(__file__).parent / "fixtures")])]


def _file_rank(item: Any) -> int:
    """Longest first: slow-marked files, then system, integration, unit (see pytest_collection_modifyitems)."""
    if item.get_closest_marker("slow") is not None:
        return 0
    parts = Path(str(item.fspath)).parts
    for rank, tier in ((1, "system"), (2, "integration")):
        if tier in parts:
            return rank
    return 3


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """`make test` runs files on two workers (xdist --dist loadfile), handed out in collection order: the longest
    files go first, so the last files handed out are short unit files and neither worker idles at the end while
    the other runs a 2-minute system test (longest-first scheduling). A file's tests stay together and in order."""
    rank: dict[str, int] = {}
    for item in items:
        path = str(item.fspath)
        rank[path] = min(rank.get(path, 3), _file_rank(item))
    order = {id(item): i for i, item in enumerate(items)}
    items.sort(key=lambda item: (rank[str(item.fspath)], order[id(item)]))
