"""pystreams.testing."""
