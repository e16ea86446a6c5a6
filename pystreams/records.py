"""Faust-compatible Record models under a short name: port a Faust model by replacing
``faust.Record`` / ``faust.models.fields`` with ``pystreams.records``."""
from __future__ import annotations

from pystreams.serdes.records import *  # noqa: F403  (the same names, one list: serdes.records.__all__)
from pystreams.serdes.records import __all__ as __all__
