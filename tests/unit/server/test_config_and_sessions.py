"""server.properties parsing and fetch-session bookkeeping."""
from __future__ import annotations

import pytest

from pystreams.broker.config import BrokerConfig, parse_properties, parse_set_flags
from pystreams.broker.server.fetch_sessions import FetchSessionCache, next_epoch, resolve
from pystreams.errors import ConfigError

pytestmark = pytest.mark.unit


def test_properties_format():
    text = """
# comment
! also a comment
num.partitions=3
listeners = PLAINTEXT://0.0.0.0:9093
log.dirs: /var/k
long.value = a,\\
    b
key\twith-tab-separator
"""
    props = parse_properties(text)
    assert props == {"num.partitions": "3", "listeners": "PLAINTEXT://0.0.0.0:9093",
                     "log.dirs": "/var/k", "long.value": "a,b", "key": "with-tab-separator"}


def test_config_precedence_and_typed_access(tmp_path):
    path = tmp_path / "server.properties"
    path.write_text("num.partitions=3\nnode.id=7\n")
    config = BrokerConfig.load(path, parse_set_flags(["num.partitions=6"]))
    assert config.get_int("num.partitions") == 6
    assert config.node_id == 7
    assert config.get_int("offsets.topic.num.partitions") == 50  # Kafka's default
    assert config.listener() == ("127.0.0.1", 9092)
    with pytest.raises(ConfigError):
        parse_set_flags(["oops"])
    with pytest.raises(ConfigError):
        BrokerConfig({"num.partitions": "many"}).get_int("num.partitions")
    with pytest.raises(ConfigError):
        BrokerConfig.load(tmp_path / "missing.properties")


def test_session_lifecycle():
    cache = FetchSessionCache(2)
    assert resolve(cache, 0, -1) == (0, None, True)  # sessionless
    error, session, full = resolve(cache, 0, 0)
    assert error == 0 and full and session.epoch == 1
    assert resolve(cache, session.session_id, 1) == (0, session, False)
    assert resolve(cache, session.session_id, 5)[0] == 71
    assert resolve(cache, 999, 1)[0] == 70
    resolve(cache, session.session_id, -1)  # close
    assert resolve(cache, session.session_id, 1)[0] == 70
    for _ in range(3):
        resolve(cache, 0, 0)
    assert len(cache) == 2  # LRU bound
    assert next_epoch(2**31 - 1) == 1
