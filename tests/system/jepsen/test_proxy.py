"""The holding proxy on its own: clients work through it unchanged, and a transactional Produce
held until its transaction's EndTxn was answered reaches the broker late, where our broker
rejects it (KIP-890 verification: the partition is in no ongoing transaction)."""
from __future__ import annotations

import uuid

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from tests.system.jepsen.brokers import proxied_broker
from tests.system.jepsen.proxy import END_TXN, PRODUCE, parse_request

pytestmark = pytest.mark.integration


def test_parse_request_reads_header_and_transactional_id():
    # Produce v3 (not flexible): key, version, correlation id, client id, transactional_id
    frame = (b"\x00\x00\x00\x03\x00\x00\x00\x07" + b"\x00\x02ab" + b"\x00\x02tx" + b"rest")
    info = parse_request(frame, 1)
    assert (info.api_key, info.api_version, info.correlation_id) == (0, 3, 7)
    assert (info.client_id, info.transactional_id) == ("ab", "tx")
    # EndTxn v3 (flexible): header tagged fields, then a compact string
    frame = b"\x00\x1a\x00\x03\x00\x00\x00\x09" + b"\xff\xff" + b"\x00" + b"\x03tx" + b"\x00"
    info = parse_request(frame, 1)
    assert (info.api_key, info.client_id, info.transactional_id) == (26, None, "tx")


def test_held_produce_is_released_after_end_txn_and_rejected(pystreams_broker_factory,
                                                              tmp_path):
    with proxied_broker("pystreams", tmp_path, pystreams_broker_factory) as broker:
        bs, topic, tid = broker.bootstrap_servers, f"t-{uuid.uuid4().hex[:8]}", "proxy-tx"
        hold = broker.proxy.hold(
            lambda r: r.api_key == PRODUCE and r.transactional_id == tid,
            release_after=lambda r, error: r.api_key == END_TXN and r.transactional_id == tid)
        p = Producer({"bootstrap.servers": bs, "transactional.id": tid, "linger.ms": 0,
                      "message.timeout.ms": 2000, "transaction.timeout.ms": 10000})
        p.init_transactions(30)
        p.begin_transaction()
        p.produce(topic, value=b"late")
        assert hold.held.wait(20), "the Produce never reached the proxy"
        with pytest.raises(KafkaException) as failed:
            p.commit_transaction(20)  # its message times out: the transaction must abort
        assert failed.value.args[0].txn_requires_abort(), failed.value
        p.abort_transaction(30)
        assert hold.done.wait(30), "the late Produce was not answered"
        assert hold.failure is None, hold.failure
        assert hold.trigger is not None and hold.trigger[0].api_key == END_TXN
        assert hold.response_errors and all(hold.response_errors), hold.response_errors
        p.begin_transaction()
        p.produce(topic, value=b"next")
        p.commit_transaction(30)
        c = Consumer({"bootstrap.servers": bs, "group.id": "g", "enable.partition.eof": True,
                      "isolation.level": "read_uncommitted"})
        try:
            c.assign([TopicPartition(topic, 0, 0)])
            got = []
            while True:
                m = c.poll(10)
                assert m is not None, "no end of partition"
                if m.error():
                    break
                got.append(m.value())
        finally:
            c.close()
        assert b"late" not in got and b"next" in got


def _produce_response_v8(error: int) -> bytes:
    partition = (b"\x00\x00\x00\x00" + error.to_bytes(2, "big", signed=True) + b"\x00" * 24
                 + b"\x00\x00\x00\x00" + b"\xff\xff")  # no record errors, null message
    return (b"\x00\x00\x00\x05" + b"\x00\x00\x00\x01" + b"\x00\x01t" + b"\x00\x00\x00\x01"
            + partition + b"\x00\x00\x00\x00")


def _produce_response_v9(errors: list[int]) -> bytes:
    parts = b"".join(i.to_bytes(4, "big") + e.to_bytes(2, "big", signed=True) + b"\x00" * 24
                     + b"\x01" + b"\x00" + b"\x00" for i, e in enumerate(errors))
    return (b"\x00\x00\x00\x05" + b"\x00" + b"\x02" + b"\x02t" + bytes([len(errors) + 1])
            + parts + b"\x00" + b"\x00\x00\x00\x00" + b"\x00")


def test_produce_and_end_txn_response_error_codes_are_read():
    from tests.system.jepsen.proxy import RequestInfo, response_errors

    def req(key: int, version: int) -> RequestInfo:
        return RequestInfo(key, version, 5, None, "tx", 1)
    assert response_errors(req(PRODUCE, 8), _produce_response_v8(48)) == [48]
    assert response_errors(req(PRODUCE, 9), _produce_response_v9([0, 47])) == [0, 47]
    end_txn_v3 = b"\x00\x00\x00\x05" + b"\x00" + b"\x00\x00\x00\x00" + b"\x00\x33" + b"\x00"
    assert response_errors(req(END_TXN, 3), end_txn_v3) == [51]
    assert response_errors(req(3, 9), b"\x00\x00\x00\x05\x00") is None  # not parsed: Metadata
