"""pystreams.broker.protocol."""
