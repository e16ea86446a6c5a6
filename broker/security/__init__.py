"""pystreams.broker.security."""
