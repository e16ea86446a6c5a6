"""The admin client's client.id (the unit side of tests/integration/runtime/test_close_clients.py): Kafka Streams
names it `<client.id>-admin` (ClientUtils.adminClientId) and its StreamsConfig.getAdminConfigs puts that over any
user value, so admin.client.id is ignored (pystreams says so once); without a client.id it is
`<application.id>-<processId>-admin`. No broker: the config and ThreadMetadata only."""
from __future__ import annotations

import logging
from typing import Any

import pytest

from pystreams.runtime.config import StreamsConfig, admin_client_id

pytestmark = pytest.mark.unit


def _config(**extra: Any) -> StreamsConfig:
    return StreamsConfig({"application.id": "app", "bootstrap.servers": "127.0.0.1:1", **extra})


def test_the_admin_client_is_named_after_the_streams_client():
    assert admin_client_id("app-7f3e") == "app-7f3e-admin"
    assert _config().admin_config("app-7f3e")["client.id"] == "app-7f3e-admin"
    # an unprefixed client.id is the Streams client's id, not the admin's: the caller passes it in
    assert _config(**{"client.id": "ops"}).admin_config("ops")["client.id"] == "ops-admin"


def test_admin_client_id_is_ignored_as_in_kafka_with_one_warning(caplog):
    config = _config(**{"admin.client.id": "mine", "admin.retries": 3})
    with caplog.at_level(logging.WARNING, logger="pystreams.runtime"):
        first = config.admin_config("ops")
        second = config.admin_config("ops")
    assert first["client.id"] == second["client.id"] == "ops-admin"
    assert first["retries"] == 3  # the other admin.-prefixed keys still reach the admin client
    warnings = [r.getMessage() for r in caplog.records if "admin config 'client.id'" in r.getMessage()]
    assert len(warnings) == 1 and "(mine)" in warnings[0] and "(ops-admin)" in warnings[0]


def test_without_a_streams_client_id_the_config_is_left_as_given():
    assert "client.id" not in _config().admin_config()
    assert _config(**{"admin.client.id": "mine"}).admin_config()["client.id"] == "mine"
