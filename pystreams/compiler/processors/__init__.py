"""Processors the compiler puts into a Topology: stateless ones here, the rest in subpackages.
Import pystreams.processor, pystreams.state, pystreams.serdes and pystreams.errors only (never dsl/graph/runtime)."""
