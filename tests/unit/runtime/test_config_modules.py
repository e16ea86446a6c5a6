"""runtime/config.py split into config_keys.py (tables) and client_config.py (client configs): every public name
callers imported from pystreams.runtime.config before the split still imports from there, as the same object."""
from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from pystreams.runtime import config

pytestmark = pytest.mark.unit

#: config.py's public names before the split (session 8), which other modules and tests import
PUBLIC_BEFORE_SPLIT = (
    "ADMIN_PREFIX", "ASSIGNORS", "AT_LEAST_ONCE", "CACHE_FLUSH_WHEN_IDLE_CONFIG", "CLIENT_KEYS", "CLIENT_LOGGER",
    "CONSUMER_KEYS", "CONSUMER_PREFIX", "DEFAULTS", "EXACTLY_ONCE_V2", "FETCH_QUEUE_BACKOFF_MS", "GC_TUNING_CONFIG",
    "GLOBAL_CONSUMER_PREFIX", "PRODUCER_KEYS", "PRODUCER_PREFIX", "RECONNECT_BACKOFF_MS", "TOPIC_PREFIX",
    "RateLimitedClientLogs", "StreamsConfig", "admin_client_id", "key_status", "thread_cache_bytes",
    "warn_unknown_keys",
)


@pytest.mark.parametrize("name", PUBLIC_BEFORE_SPLIT)
def test_public_names_still_import_from_config(name):
    assert hasattr(config, name), name
    assert name in config.__all__


@pytest.mark.parametrize("module", ["config_keys", "client_config"])
def test_reexports_are_the_same_objects(module):
    mod = importlib.import_module(f"pystreams.runtime.{module}")
    shared = [n for n in PUBLIC_BEFORE_SPLIT if hasattr(mod, n)]
    assert shared, f"{module} defines none of config's public names"
    for name in shared:
        assert getattr(mod, name) is getattr(config, name), name



@pytest.mark.parametrize("module", ["config", "config_keys", "client_config"])
def test_each_module_stays_small(module):
    """STYLE.md rule 8: a file readable top to bottom (config.py was ~800 lines before the split)."""
    path = Path(config.__file__).with_name(f"{module}.py")
    assert len(path.read_text().splitlines()) < 500
