"""pystreams.broker.coordinator."""
