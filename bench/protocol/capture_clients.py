"""Capture real client request bytes and check that the clients accept our responses.

A tiny answer-machine on 127.0.0.1 (a free port) that speaks only this codec: ApiVersions, Metadata
(one topic "cap", one partition led by itself) and Produce. It runs one client against itself and
writes every request it saw (tests/unit/protocol/client_captures.json holds such captures):

    .venv/bin/python bench/protocol/capture_clients.py confluent-kafka|kafka-python|kcat OUT.json
"""
import json, socket, struct, sys, threading, uuid
from pystreams.broker.protocol import *

TOPIC_ID = uuid.UUID("6d1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b")
captured = []
lock = threading.Lock()

def handle(conn, port, label):
    f = conn.makefile("rb")
    while True:
        hdr = f.read(4)
        if len(hdr) < 4:
            return
        (n,) = struct.unpack(">i", hdr)
        frame = f.read(n)
        h, off = decode_request_header(memoryview(frame))
        with lock:
            captured.append({"client": label, "api_key": h.api_key, "api_version": h.api_version, "hex": frame.hex()})
        try:
            body = decode_request(h, memoryview(frame), off)
        except UnsupportedVersionError:
            if h.api_key == 18:
                conn.sendall(b"".join(encode_api_versions_fallback(h.correlation_id)))
                continue
            print("unsupported", h, file=sys.stderr); return
        if h.api_key == 18:
            resp = {"api_keys": api_versions_keys()}
        elif h.api_key == 3:
            resp = {"brokers": [{"node_id": 1, "host": "127.0.0.1", "port": port}], "cluster_id": "capture",
                    "controller_id": 1,
                    "topics": [{"name": "cap", "topic_id": TOPIC_ID, "partitions": [
                        {"partition_index": 0, "leader_id": 1, "leader_epoch": 0, "replica_nodes": [1], "isr_nodes": [1]}]}]}
        elif h.api_key == 0:
            resp = {"responses": [{"name": t["name"], "partition_responses": [
                {"index": p["index"], "base_offset": 0} for p in t["partition_data"]]} for t in body["topic_data"]]}
            if body["acks"] == 0:
                continue
        else:
            print("no answer for", h, body, file=sys.stderr); return
        conn.sendall(b"".join(encode_response(h, resp)))

def serve(label):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0)); s.listen(8)
    port = s.getsockname()[1]
    def loop():
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(c, port, label), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
    return s, port

if __name__ == "__main__":
    which = sys.argv[1]
    s, port = serve(which)
    bootstrap = f"127.0.0.1:{port}"
    if which == "confluent-kafka":
        from confluent_kafka import Producer
        p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "compression.type": "none", "enable.idempotence": False})
        res = []
        p.produce("cap", key=b"k", value=b"hello", headers=[("h", b"v")], on_delivery=lambda e, m: res.append((e, m and m.offset())))
        p.flush(10)
        print("delivery:", res)
    elif which == "kafka-python":
        from kafka import KafkaProducer
        p = KafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=0)
        fut = p.send("cap", key=b"k", value=b"hello", headers=[("h", b"v")])
        md = fut.get(timeout=10)
        print("delivery:", md)
        p.close()
    elif which == "kcat":
        import subprocess
        out = subprocess.run(["kcat", "-b", bootstrap, "-L", "-J"], capture_output=True, text=True, timeout=20)
        print("kcat:", out.returncode, out.stdout[:300], out.stderr[:300])
        out = subprocess.run(["kcat", "-b", bootstrap, "-P", "-t", "cap", "-k", "k"], input="hello\n", capture_output=True, text=True, timeout=20)
        print("kcat produce:", out.returncode, out.stderr[:300])
    s.close()
    with open(sys.argv[2], "w") as out:
        json.dump(captured, out, indent=1)
    print([(c["api_key"], c["api_version"]) for c in captured])
