"""Loading the JSON Schemas of topic values (schemas/json/<topic>.schema.json)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def topic_schema(topic: str) -> dict[str, Any]:
    """The JSON Schema for a contract topic's values, e.g. `topic_schema("social.events")`."""
    text = resources.files("schemas").joinpath("json", f"{topic}.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema
