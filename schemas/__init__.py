"""The data contract: canonical event model, topic names, JSON Schemas, ClickHouse migrations."""
