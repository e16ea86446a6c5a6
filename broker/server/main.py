"""`python -m pystreams.broker.server.main`: run one broker process (used by EmbeddedBroker and
`pystreams broker start`). Prints one JSON line `{"event": "ready", "host", "port"}` on stdout
once it accepts connections; logs go to stderr as JSON lines."""
from __future__ import annotations

import argparse
import json
import logging
import sys

from pystreams.broker.config import BrokerConfig, parse_set_flags
from pystreams.broker.server.app import run
from pystreams.broker.server.logs import configure_logging
from pystreams.errors import PystreamsError


def build_config(data_dir: str | None, port: int | None, host: str | None,
                 config_file: str | None, sets: list[str]) -> BrokerConfig:
    """server.properties, then --set flags, then the explicit --data-dir/--port/--host."""
    overrides: dict[str, str] = parse_set_flags(sets)
    config = BrokerConfig.load(config_file, overrides)
    if data_dir is not None:
        config.props["log.dirs"] = data_dir
    if port is not None or host is not None:
        cur_host, cur_port = config.listener()
        config.props["listeners"] = (f"PLAINTEXT://{host if host is not None else cur_host}:"
                                     f"{port if port is not None else cur_port}")
    return config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pystreams-broker", description=__doc__)
    parser.add_argument("--data-dir")
    parser.add_argument("--port", type=int)
    parser.add_argument("--host")
    parser.add_argument("--config")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    try:
        config = build_config(args.data_dir, args.port, args.host, args.config, args.set)
    except PystreamsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    def ready(broker) -> None:
        print(json.dumps({"event": "ready", "host": broker.state.host, "port": broker.port}),
              flush=True)

    try:
        run(config, ready)
    except OSError as exc:  # the listener cannot bind, the data dir is not writable, ...
        logging.getLogger("pystreams.broker.server").error("broker failed to start",
                                                            extra={"error": str(exc)})
        print(f"error: cannot start the broker: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
