"""pystreams.adapters: hand a Topology to Spark, Flink or Kinesis (imports only graph/compiler/serdes)."""
