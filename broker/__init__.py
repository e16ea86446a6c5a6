"""pystreams.broker: a Kafka-protocol broker (imports as pystreams.broker; never imports pystreams core)."""
