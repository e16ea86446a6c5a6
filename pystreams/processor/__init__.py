"""pystreams.processor."""
