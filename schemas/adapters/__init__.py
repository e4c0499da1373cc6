"""Platform adapters: each platform's own payloads (API objects, webhooks, feed entries, archive
exports) → canonical events. One small module per platform; `registry.adapt` dispatches."""
