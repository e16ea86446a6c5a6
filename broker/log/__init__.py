"""pystreams.broker.log."""
