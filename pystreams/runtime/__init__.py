"""pystreams.runtime."""
