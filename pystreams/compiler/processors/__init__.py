"""Processors the compiler puts into a Topology: stateless ones here, stateful ones in stateful/."""
