"""pystreams.state."""
