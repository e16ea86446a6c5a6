"""One module per benchmarked system; each runs as its own process with the arguments of common.py."""
