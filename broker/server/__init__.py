"""pystreams.broker.server."""
