"""pystreams.dsl."""
