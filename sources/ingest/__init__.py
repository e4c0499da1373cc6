"""`pulse ingest`: platform webhooks in, envelopes on social.raw out."""
