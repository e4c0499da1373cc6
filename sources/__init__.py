"""Where raw input comes from: webhook receivers and feed pollers that produce envelopes to social.raw."""
