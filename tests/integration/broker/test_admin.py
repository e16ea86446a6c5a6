"""AdminClient: create, describe, alter and delete topics; describe cluster and groups."""
from __future__ import annotations

import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource,
                                   NewPartitions, NewTopic)

from tests.integration.broker._clients import unique

pytestmark = pytest.mark.integration


def test_topic_lifecycle(pystreams_broker):
    admin = AdminClient({"bootstrap.servers": pystreams_broker.bootstrap_servers})
    name = unique("adm")
    admin.create_topics([NewTopic(name, 4, 1, config={"retention.ms": "3600000"})])[name].result(15)
    md = admin.list_topics(timeout=10)
    assert len(md.topics[name].partitions) == 4

    with pytest.raises(KafkaException) as exc:
        admin.create_topics([NewTopic(name, 4, 1)])[name].result(15)
    assert exc.value.args[0].code() == 36  # TOPIC_ALREADY_EXISTS
    bad = unique("bad")
    with pytest.raises(KafkaException) as exc:
        admin.create_topics([NewTopic(bad, 0, 1)])[bad].result(15)
    assert exc.value.args[0].code() == 37  # INVALID_PARTITIONS
    with pytest.raises(KafkaException) as exc:
        admin.create_topics([NewTopic(bad, 1, 3)])[bad].result(15)
    assert exc.value.args[0].code() == 38  # INVALID_REPLICATION_FACTOR

    resource = ConfigResource(ConfigResource.Type.TOPIC, name)
    configs = admin.describe_configs([resource])[resource].result(15)
    assert configs["retention.ms"].value == "3600000"
    assert configs["cleanup.policy"].value == "delete"
    admin.incremental_alter_configs([ConfigResource(
        ConfigResource.Type.TOPIC, name,
        incremental_configs=[ConfigEntry("retention.ms", "7200000",
                                         incremental_operation=AlterConfigOpType.SET)])]
    )[resource].result(15)
    assert admin.describe_configs([resource])[resource].result(15)["retention.ms"].value == "7200000"

    admin.create_partitions([NewPartitions(name, 6)])[name].result(15)
    assert len(admin.list_topics(timeout=10).topics[name].partitions) == 6

    admin.delete_topics([name], operation_timeout=10)[name].result(15)
    assert name not in admin.list_topics(timeout=10).topics


def test_describe_cluster(pystreams_broker):
    admin = AdminClient({"bootstrap.servers": pystreams_broker.bootstrap_servers})
    cluster = admin.describe_cluster().result(15)
    assert len(cluster.nodes) == 1
    assert cluster.nodes[0].port == int(pystreams_broker.bootstrap_servers.rsplit(":", 1)[1])
    assert cluster.cluster_id
