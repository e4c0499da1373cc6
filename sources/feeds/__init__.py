"""`pulse poll-feeds`: RSS/Atom feeds polled, new entries as envelopes on social.raw."""
