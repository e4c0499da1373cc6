"""Dead-letter records (CONTRACT.md section 1, `social.dlq`)."""

from __future__ import annotations

import base64
from typing import Any

from schemas.event import format_time_ms

# Kafka refuses messages over its size limit; a rejected oversize input is kept up to this many
# bytes (flagged `raw_truncated`) so the record itself can always be delivered.
MAX_RAW_KEPT = 256 * 1024


def dead_letter_record(
    error: str, topic: str, partition: int, offset: int, raw: bytes | None, received_at_ms: int
) -> dict[str, Any]:
    data = raw or b""
    truncated = len(data) > MAX_RAW_KEPT
    if truncated:
        data = data[:MAX_RAW_KEPT]
    record: dict[str, Any] = {
        "error": error,
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "received_at": format_time_ms(received_at_ms),
    }
    try:
        record["raw"] = data.decode("utf-8")
    except UnicodeDecodeError:
        record["raw"] = base64.b64encode(data).decode("ascii")
        record["raw_encoding"] = "base64"
    if truncated:
        record["raw_truncated"] = True
    return record
