"""pystreams.connect."""
