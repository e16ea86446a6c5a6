"""Our broker's main under cProfile: `python -m bench.broker.profiled_broker OUT.prof <main args>`.

Why a wrapper rather than a switch in the broker: profiling is a benchmark concern; the stats
are written when the broker shuts down cleanly (SIGTERM), which the bench does.
"""
from __future__ import annotations

import cProfile
import sys

from pystreams.broker.server import main as broker_main


def run(argv: list[str]) -> int:
    out, args = argv[0], argv[1:]
    profile = cProfile.Profile()
    profile.enable()
    try:
        return broker_main.main(args)
    finally:
        profile.disable()
        profile.dump_stats(out)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
