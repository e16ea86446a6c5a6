"""Loopback micro-benchmark behind docs/adr/0002-fetch-path.md: how fast can one uvloop server
push stored segment bytes to one reading client, per method?

    .venv/bin/python -m bench.broker.fetch_path [--mib 512] [--chunk-kib 1024] [--repeat 3]

Methods, each sending the same file in `chunk` pieces (a fetch response's record chunks):
  pread_writelines  os.pread into new bytes, transport.writelines (the broker before ADR 0002)
  sendfile          os.sendfile from the file to the socket, waiting for writability on EAGAIN
The client is a plain blocking socket reading into one reused buffer in a thread.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import socket
import tempfile
import threading
import time


def _client(port: int, total: int, out: list[float]) -> None:
    s = socket.create_connection(("127.0.0.1", port))
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    got = 0
    start = time.perf_counter()
    while got < total:
        n = s.recv_into(view)
        if not n:
            break
        got += n
    out.append(time.perf_counter() - start)
    s.close()


class _Proto(asyncio.Protocol):
    def __init__(self, job) -> None:
        self.job = job
        self.drained: asyncio.Future | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        asyncio.get_running_loop().create_task(self.job(self))

    def pause_writing(self) -> None:
        self.drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self.drained is not None and not self.drained.done():
            self.drained.set_result(None)


async def _drain(p: _Proto) -> None:
    if p.drained is not None and not p.drained.done():
        await p.drained


def pread_writelines(fd: int, size: int, chunk: int):
    async def job(p: _Proto) -> None:
        pos = 0
        while pos < size:
            p.transport.writelines([os.pread(fd, min(chunk, size - pos), pos)])
            pos += chunk
            await _drain(p)
        await _drain(p)
    return job


def sendfile(fd: int, size: int, chunk: int):
    async def job(p: _Proto) -> None:
        loop = asyncio.get_running_loop()
        sock_fd = os.dup(p.transport.get_extra_info("socket").fileno())
        try:
            pos = 0
            while pos < size:
                end = min(pos + chunk, size)
                while pos < end:
                    try:
                        pos += os.sendfile(sock_fd, fd, pos, end - pos)
                    except BlockingIOError:
                        ready = loop.create_future()
                        loop.add_writer(sock_fd, ready.set_result, None)
                        try:
                            await ready
                        finally:
                            loop.remove_writer(sock_fd)
        finally:
            os.close(sock_fd)
    return job


METHODS = {"pread_writelines": pread_writelines, "sendfile": sendfile}


def measure(method: str, path: str, size: int, chunk: int) -> float:
    import uvloop
    loop = uvloop.new_event_loop()
    fd = os.open(path, os.O_RDONLY)
    try:
        server = loop.run_until_complete(loop.create_server(
            lambda: _Proto(METHODS[method](fd, size, chunk)), "127.0.0.1", 0))
        port = server.sockets[0].getsockname()[1]
        out: list[float] = []
        t = threading.Thread(target=_client, args=(port, size, out))
        cpu = time.thread_time()  # the server's own CPU (the event loop runs in this thread)
        t.start()
        while t.is_alive():
            loop.run_until_complete(asyncio.sleep(0.01))
        cpu = time.thread_time() - cpu
        server.close()
        return size / out[0] / 1e9, cpu / (size / 1e9)
    finally:
        os.close(fd)
        loop.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mib", type=int, default=512)
    ap.add_argument("--chunk-kib", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    size = args.mib << 20
    with tempfile.NamedTemporaryFile(dir=os.environ.get("TMPDIR")) as f:
        block = os.urandom(1 << 20)
        for _ in range(args.mib):
            f.write(block)
        f.flush()
        print(f"{args.mib} MiB in {args.chunk_kib} KiB chunks, loopback, uvloop server, "
              f"nproc={os.cpu_count()}, load={os.getloadavg()[0]:.1f}")
        for method in METHODS:
            runs = [measure(method, f.name, size, args.chunk_kib << 10)
                    for _ in range(args.repeat)]
            rates = [r for r, _ in runs]
            cpu = min(c for _, c in runs)
            print(f"{method:18} best {max(rates):.2f} GB/s, server CPU {cpu:.2f} s/GB;  runs "
                  + " ".join(f"{r:.2f}" for r in rates))


if __name__ == "__main__":
    main()
