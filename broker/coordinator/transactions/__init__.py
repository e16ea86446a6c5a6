"""pystreams.broker.coordinator.transactions: the transaction coordinator (KIP-98) as a pure state
machine (machine.py) over Kafka's `__transaction_state` record formats (records.py), and the glue
that appends/replays them and writes COMMIT/ABORT markers (service.py). Imports broker.protocol's
record_batch, broker.coordinator (codes, records, partition_for) and the standard library."""
