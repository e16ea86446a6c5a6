"""pystreams.serdes."""
