"""EmbeddedBroker: temp dir and free port by default, a clear error when it cannot start, and
its data dir removed on close."""
from __future__ import annotations

import pytest

from pystreams.broker import EmbeddedBroker
from pystreams.broker.server.embedded import BrokerStartError
from pystreams.errors import PystreamsError

pytestmark = pytest.mark.integration


def test_defaults_and_cleanup():
    with EmbeddedBroker() as broker:
        host, port = broker.bootstrap_servers.split(":")
        assert host == "127.0.0.1" and int(port) > 0
        data_dir = broker.data_dir
        assert (data_dir / "pystreams-metadata.json").exists()
        assert broker.process is not None and broker.process.poll() is None
    assert broker.process.returncode == 0  # SIGTERM: clean shutdown
    assert not data_dir.exists()


def test_port_in_use_is_a_clear_error(pystreams_broker, tmp_path):
    port = int(pystreams_broker.bootstrap_servers.rsplit(":", 1)[1])
    clash = EmbeddedBroker(tmp_path / "clash", port=port, startup_timeout=15)
    with pytest.raises(BrokerStartError) as exc:
        clash.start()
    assert isinstance(exc.value, PystreamsError)
    assert "exited with code 1" in str(exc.value) and "already in use" in str(exc.value)
    assert clash.process is not None and clash.process.poll() is not None
