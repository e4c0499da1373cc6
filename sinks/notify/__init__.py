"""`pulse notify`: deliver alert state changes from social.alerts to the subscribers of one config file.

Pure parts (config, filters, signatures, payloads, backoff, offset progress) take their inputs,
clock and randomness as arguments; `ledger`, `delivery` and `service` are the I/O around them.
"""
