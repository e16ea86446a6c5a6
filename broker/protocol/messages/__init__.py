"""One schema module per Kafka API (our transcription of Kafka's message JSON); data only.
Imports only broker.protocol.schema (Api, F)."""
