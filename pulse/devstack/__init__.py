"""A real local stack (Apache Kafka in KRaft mode, ClickHouse from chdb-core) on loopback."""
