"""Child process for the SIGKILL test: appends batches through a LogManager forever and prints
`<offset> <tag>` after each append returns (an acknowledged record), until it is killed."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from pystreams.broker.log import LogConfig, LogManager
from tests.fixtures.log_storage import make_batch


def main() -> None:
    data_dir = Path(sys.argv[1])
    manager = LogManager(data_dir, LogConfig.from_props({"segment.bytes": "20000",
                                                         "index.interval.bytes": "512"}))
    logs = [manager.create_partition("durable", p) for p in range(2)]
    print("ready", flush=True)
    tag = 0
    while True:
        log = logs[tag % 2]
        info = log.append(memoryview(make_batch(1 + tag % 4, value_size=64, tag=tag)),
                          now_ms=int(time.time() * 1000))
        print(f"{tag % 2} {info.base_offset} {tag}", flush=True)
        tag += 1


if __name__ == "__main__":
    main()
