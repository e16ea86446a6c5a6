"""pystreams.broker.cluster."""
