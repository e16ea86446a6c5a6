"""KIP-890 against both brokers: a transactional Produce held back by a proxy until after its
transaction was aborted is rejected when it finally arrives, so it can never join (or hang) a
later transaction: the next transaction commits and read_committed is not held back."""
from __future__ import annotations

import pytest
from confluent_kafka import KafkaException, Producer

from tests.integration.eos._eos import create_topic, read_all, unique, values
from tests.system.eos.delaying_proxy import DelayingProxy

pytestmark = pytest.mark.system


def test_late_produce_after_its_transaction_ended_is_rejected(kafka_broker):
    topic = unique("eos-late")
    create_topic(kafka_broker.bootstrap_servers, topic, 1)
    with DelayingProxy(kafka_broker.bootstrap_servers) as proxy:
        bs = proxy.bootstrap_servers
        p = Producer({"bootstrap.servers": bs, "transactional.id": unique("tx"),
                      "linger.ms": 0, "request.timeout.ms": 2000, "message.timeout.ms": 2000,
                      "transaction.timeout.ms": 20000})
        p.init_transactions(30)
        p.begin_transaction()
        proxy.arm()
        p.produce(topic, value="late")
        assert proxy.held.wait(15), "the produce never reached the proxy"
        p.flush(10)  # the held request times out on the client side
        try:
            p.commit_transaction(10)
            committed_late = True
        except KafkaException as exc:
            committed_late = False
            assert exc.args[0].txn_requires_abort(), exc
            p.abort_transaction(30)
        assert not committed_late, "a commit must not succeed while its produce is unanswered"
        late = proxy.release()
        [partition] = late["responses"][0]["partition_responses"]
        assert partition["error_code"] != 0, "the late produce was appended"
        p.begin_transaction()
        p.produce(topic, value="next")
        p.commit_transaction(30)
        assert values(read_all(bs, topic, 1, "read_committed")) == ["next"]
        assert "late" not in values(read_all(bs, topic, 1, "read_uncommitted"))
