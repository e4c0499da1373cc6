"""Event-time engagement windows: per (dimension, key) minute buckets, sliding windows over them."""
