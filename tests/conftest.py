"""Loads every fixture module under tests/fixtures/ as a pytest plugin, so a new room's fixtures
(reference Kafka, the Java streams oracle, our broker) are visible to every test tier."""
from __future__ import annotations

import pkgutil
from pathlib import Path

pytest_plugins = [f"tests.fixtures.{module.name}"
                  for module in pkgutil.iter_modules([str(Path(__file__).parent / "fixtures")])]
