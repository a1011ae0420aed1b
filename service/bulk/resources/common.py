"""Helpers shared by the resource modules."""

import json
from collections.abc import Iterable, Mapping
from datetime import date, time
from decimal import Decimal
from typing import Any

from pydantic import BaseModel


def jsonb(items: Iterable[BaseModel]) -> str:
    """A list of objects as the API stores it in a jsonb column (every field, JSON types)."""
    return json.dumps([item.model_dump(mode="json") for item in items])


def plain(value: Any) -> Any:
    """A stored value as the create schema takes it in JSON."""
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def record(row: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    return {name: plain(row[name]) for name in fields}


def stored_objects(items: list[dict[str, Any]] | None, *fields: str) -> list[dict[str, Any]]:
    """Stored jsonb objects with exactly the schema's fields, in its order."""
    return [{name: item.get(name) for name in fields} for item in items or []]

