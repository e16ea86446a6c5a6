"""Store layers over bytes (in-memory, RocksDB, caching, change-logging, metered) and the record cache."""
