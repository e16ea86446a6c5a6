"""pystreams.broker.coordinator: the classic group coordinator as a pure state machine
(machine.py, offsets.py, group.py, error codes in codes.py), its `__consumer_offsets` record formats (records.py) and
the glue that appends/replays them on the broker's event loop (service.py). Imports only
broker.protocol.record_batch and the standard library."""
