"""pystreams: Kafka Streams for Python, with its own Kafka-compatible broker included.

The public DSL names (StreamsBuilder, KafkaStreams, Serdes, ...) are re-exported here.
"""
__version__ = "0.1.0"
