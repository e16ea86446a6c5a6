"""Store layers over bytes (in-memory, RocksDB, caching, change-logging, metered) and the record cache.
Imports pystreams.state.api, pystreams.processor.record and pystreams.errors only (and rocksdict)."""
