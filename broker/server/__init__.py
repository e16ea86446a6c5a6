"""pystreams.broker.server: the asyncio network layer (network.py), request dispatch (dispatch.py),
one handler module per Kafka API (handlers/), broker state, the process runner (app.py, main.py)
and EmbeddedBroker (embedded.py). May import broker.protocol, broker.log, broker.coordinator,
broker.config/metadata and pystreams.errors; never streams core."""
