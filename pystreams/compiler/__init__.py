"""pystreams.compiler."""
