"""pystreams.graph."""
