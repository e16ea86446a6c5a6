"""Capture real client request bytes and check that real clients accept our responses.

A tiny answer-machine on 127.0.0.1 (a free port) that speaks only this codec, with one topic "cap"
of one partition that it leads. A client produces one record to it, then consumes it back by
a one-member consumer group (it leads and assigns itself the partition), commits and leaves:
ApiVersions, Metadata, InitProducerId, Produce, FindCoordinator, JoinGroup, SyncGroup, Heartbeat,
OffsetFetch, ListOffsets, OffsetForLeaderEpoch, Fetch, OffsetCommit and LeaveGroup are answered;
the Fetch answer carries the very record batch the client produced. Every request seen is written to OUT.json
(tests/unit/protocol/client_captures.json keeps the first of each api/version per client):

    .venv/bin/python bench/protocol/capture_clients.py confluent-kafka|kafka-python|kcat|java OUT.json

java runs JavaClients.java with the jars in $KAFKA_LIB (default .cache/reference/lib, where the
reference Kafka's Maven dependencies are copied).
"""
from __future__ import annotations

import glob
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

from pystreams.broker.protocol import (ApiKey, UnsupportedVersionError, api_versions_keys, decode_assignment,
                                       decode_request,
                                       decode_request_header, encode_api_versions_fallback, encode_response)

TOPIC = "cap"
TOPIC_ID = uuid.UUID("6d1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b")


class AnswerMachine:
    """Answers one client's requests on a loopback socket, keeping what it produced."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.captured: list[dict[str, Any]] = []
        self.batch: bytes | None = None
        self.assignment = b""
        self.committed: dict[int, int] = {}
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        stream = conn.makefile("rb")
        while True:
            head = stream.read(4)
            if len(head) < 4:
                return
            frame = stream.read(struct.unpack(">i", head)[0])
            header, offset = decode_request_header(memoryview(frame))
            self.captured.append({"client": self.label, "api_key": header.api_key,
                                  "api_version": header.api_version, "hex": frame.hex()})
            try:
                body = decode_request(header, memoryview(frame), offset)
            except UnsupportedVersionError:
                if header.api_key != ApiKey.API_VERSIONS:
                    print("unsupported", header, file=sys.stderr)
                    return
                conn.sendall(b"".join(encode_api_versions_fallback(header.correlation_id)))
                continue
            answer = getattr(self, f"_{ApiKey(header.api_key).name.lower()}", None)
            if answer is None:
                print("no answer for", header, body, file=sys.stderr)
                return
            response = answer(header.api_version, body)
            if response is not None:
                conn.sendall(b"".join(encode_response(header, response)))

    def _api_versions(self, version: int, body: dict[str, Any]) -> dict[str, Any]:
        return {"api_keys": api_versions_keys()}

    def _metadata(self, version: int, body: dict[str, Any]) -> dict[str, Any]:
        partition = {"partition_index": 0, "leader_id": 1, "leader_epoch": 0, "replica_nodes": [1], "isr_nodes": [1]}
        return {"brokers": [{"node_id": 1, "host": "127.0.0.1", "port": self.port}], "cluster_id": "capture",
                "controller_id": 1, "topics": [{"name": TOPIC, "topic_id": TOPIC_ID, "partitions": [partition]}]}

    def _init_producer_id(self, version: int, body: dict[str, Any]) -> dict[str, Any]:
        return {"producer_id": 1000, "producer_epoch": 0}

    def _find_coordinator(self, version: int, body: dict[str, Any]) -> dict[str, Any]:
        me = {"node_id": 1, "host": "127.0.0.1", "port": self.port}
        if version < 4:
            return me
        return {"coordinators": [{"key": key, **me} for key in body["coordinator_keys"]]}

    # a one-member classic group: the member leads, computes the assignment, gets it back
    def _join_group(self, version: int, body: dict[str, Any]) -> dict[str, Any]:
        member = body["member_id"] or "capture-member-1"
        protocol = body["protocols"][0]
        return {"generation_id": 1, "protocol_type": body["protocol_type"], "protocol_name": protocol["name"],
                "leader": member, "member_id": member,
                "members": [{"member_id": member, "group_instance_id": body["group_instance_id"],
                             "metadata": protocol["metadata"]}]}

    def _sync_group(self, version: int, body: dict[str, Any]) -> dict[str, Any]:
        mine = [a["assignment"] for a in body["assignments"] if a["member_id"] == body["member_id"]]
        self.assignment = mine[0] if mine else b""
        return {"protocol_type": body["protocol_type"], "protocol_name": body["protocol_name"],
                "assignment": self.assignment}

    def _heartbeat(self, version: int, body: dict[str, Any]) -> dict[str, Any]:
        return {}

    def _offset_fetch(self, version: int, body: dict[str, Any]) -> dict[str, Any]:
        def topics(requested: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
            return [{"name": t["name"], "partitions": [
                {"partition_index": i, "committed_offset": self.committed.get(i, -1), "metadata": ""}
                for i in t["partition_indexes"]]} for t in requested or []]
        if version < 8:
            return {"topics": topics(body["topics"])}
        return {"groups": [{"group_id": g["group_id"], "topics": topics(g["topics"])} for g in body["groups"]]}

    def _offset_commit(self, version: int, body: dict[str, Any]) -> dict[str, Any]:
        for t in body["topics"]:
            for p in t["partitions"]:
                self.committed[p["partition_index"]] = p["committed_offset"]
        return {"topics": [{"name": t["name"], "partitions": [{"partition_index": p["partition_index"]}
                                                              for p in t["partitions"]]} for t in body["topics"]]}

    def _leave_group(self, version: int, body: dict[str, Any]) -> dict[str, Any]:
        if version < 3:
            return {}
        return {"members": [{"member_id": m["member_id"], "group_instance_id": m["group_instance_id"]}
                            for m in body["members"]]}

    def _produce(self, version: int, body: dict[str, Any]) -> dict[str, Any] | None:
        for topic in body["topic_data"]:
            for partition in topic["partition_data"]:
                self.batch = bytes(partition["records"])
        if body["acks"] == 0:
            return None
        return {"responses": [{"name": t["name"], "partition_responses": [
            {"index": p["index"], "base_offset": 0} for p in t["partition_data"]]} for t in body["topic_data"]]}

    def _list_offsets(self, version: int, body: dict[str, Any]) -> dict[str, Any]:
        return {"topics": [{"name": t["name"], "partitions": [
            {"partition_index": p["partition_index"], "offset": 0 if p["timestamp"] == -2 else 1, "leader_epoch": 0}
            for p in t["partitions"]]} for t in body["topics"]]}

    def _offset_for_leader_epoch(self, version: int, body: dict[str, Any]) -> dict[str, Any]:
        return {"topics": [{"topic": t["topic"], "partitions": [
            {"partition": p["partition"], "leader_epoch": 0, "end_offset": 1} for p in t["partitions"]]}
            for t in body["topics"]]}

    def _fetch(self, version: int, body: dict[str, Any]) -> dict[str, Any]:
        responses = []
        for topic in body["topics"]:
            partitions = []
            for p in topic["partitions"]:
                has_data = p["fetch_offset"] == 0 and self.batch is not None
                partitions.append({"partition_index": p["partition"], "high_watermark": 1, "last_stable_offset": 1,
                                   "log_start_offset": 0, "records": self.batch if has_data else None})
            responses.append({"topic": topic["topic"], "topic_id": topic["topic_id"], "partitions": partitions})
        if not any(p["records"] for r in responses for p in r["partitions"]):
            time.sleep(min(body["max_wait_ms"], 200) / 1000)
        return {"responses": responses}


def run_python_clients(which: str, bootstrap: str) -> None:
    if which == "confluent-kafka":
        from confluent_kafka import Consumer, Producer
        producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
        delivered: list[Any] = []
        producer.produce(TOPIC, key=b"k", value=b"hello", headers=[("h", b"v")],
                         on_delivery=lambda err, msg: delivered.append((err, msg.offset())))
        producer.flush(10)
        print("delivered:", delivered)
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "capture", "auto.offset.reset": "earliest",
                             "enable.auto.commit": False})
        consumer.subscribe([TOPIC])
        msg = None
        deadline = time.time() + 20
        while msg is None and time.time() < deadline:
            msg = consumer.poll(1)
        print("consumed:", msg and (msg.key(), msg.value(), msg.headers(), msg.offset()))
        consumer.commit(asynchronous=False)
        consumer.close()
    elif which == "kafka-python":
        from kafka import KafkaConsumer, KafkaProducer
        producer = KafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=0)
        print("delivered:", producer.send(TOPIC, key=b"k", value=b"hello", headers=[("h", b"v")]).get(timeout=10))
        producer.close()
        consumer = KafkaConsumer(TOPIC, bootstrap_servers=bootstrap, group_id="capture",
                                 auto_offset_reset="earliest", enable_auto_commit=False)
        records: dict[Any, Any] = {}
        deadline = time.time() + 20
        while not records and time.time() < deadline:
            records = consumer.poll(timeout_ms=1000)
        print("consumed:", records)
        consumer.commit()
        consumer.close()
    elif which == "kcat":
        out = subprocess.run(["kcat", "-b", bootstrap, "-P", "-t", TOPIC, "-k", "k"], input="hello\n",
                             capture_output=True, text=True, timeout=30)
        print("produced:", out.returncode, out.stderr[-300:])
        out = subprocess.run(["kcat", "-b", bootstrap, "-G", "capture", "-X", "auto.offset.reset=earliest",
                              "-c", "1", "-f", "%k=%s@%o\n", TOPIC], capture_output=True, text=True, timeout=30)
        print("consumed:", out.returncode, out.stdout, out.stderr[-300:])


def run_java(bootstrap: str) -> None:
    lib = os.environ.get("KAFKA_LIB", ".cache/reference/lib")
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "JavaClients.java")
    out = subprocess.run(["java", "-cp", os.pathsep.join(glob.glob(f"{lib}/*.jar")), source, bootstrap],
                         capture_output=True, text=True, timeout=180)
    print("java:", out.returncode, out.stdout[-500:], out.stderr[-1500:] if out.returncode else "")


def main() -> None:
    which, out_path = sys.argv[1], sys.argv[2]
    machine = AnswerMachine(which)
    bootstrap = f"127.0.0.1:{machine.port}"
    if which == "java":
        run_java(bootstrap)
    else:
        run_python_clients(which, bootstrap)
    machine.sock.close()
    with open(out_path, "w") as out:
        json.dump(machine.captured, out, indent=1)
    print(sorted({(c["api_key"], c["api_version"]) for c in machine.captured}))
    print("committed:", machine.committed, "assignment:", decode_assignment(machine.assignment)
          if machine.assignment else None)


if __name__ == "__main__":
    main()
