"""topics.cluster_metadata (start()'s metadata read on our own connection, issue 7's start-up) against real
brokers: the same topic -> partition counts the admin client's list_topics gives, from the first bootstrap
server that answers."""
from __future__ import annotations

import time

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from pystreams.runtime.topics import _metadata, cluster_metadata

pytestmark = pytest.mark.integration


def _create(servers: str, wanted: dict[str, int]) -> AdminClient:
    admin = AdminClient({"bootstrap.servers": servers})
    for future in admin.create_topics([NewTopic(t, n, 1) for t, n in wanted.items()]).values():
        future.result(30)
    deadline = time.monotonic() + 30
    while any(_metadata(admin, 10).get(t) != n for t, n in wanted.items()):  # Kafka answers CreateTopics first
        assert time.monotonic() < deadline, "created topics never showed in the metadata"
        time.sleep(0.05)
    return admin


def test_cluster_metadata_matches_the_admin_clients_list_topics(kafka_broker, unique_topic) -> None:
    servers = str(kafka_broker.bootstrap_servers)
    wanted = {f"{unique_topic}-a": 3, f"{unique_topic}-b": 1}
    admin = _create(servers, wanted)
    ours, theirs = cluster_metadata(servers, "startup-metadata-test", 10), _metadata(admin, 10)
    assert {t: ours.get(t) for t in wanted} == wanted == {t: theirs.get(t) for t in wanted}
    common = set(ours) & set(theirs)  # the shared broker's other tests create topics in between
    assert {t: ours[t] for t in common} == {t: theirs[t] for t in common}


def test_a_dead_first_bootstrap_server_is_skipped(kafka_broker, unique_topic) -> None:
    servers = str(kafka_broker.bootstrap_servers)
    _create(servers, {unique_topic: 2})
    assert cluster_metadata(f"127.0.0.1:1,{servers}", "startup-metadata-test", 10)[unique_topic] == 2
