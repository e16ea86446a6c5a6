"""Store layers over bytes (in-memory, RocksDB, caching, change-logging, metered) and the record cache.
Imports pystreams.state.api, pystreams.processor.record, pystreams.serdes.primitives (which value serdes the cache
may hold deserialized) and pystreams.errors only (and rocksdict, sortedcontainers)."""
