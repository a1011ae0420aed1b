"""Keyset pagination with opaque cursors, one helper for every list.

A cursor holds the sort it was made for and the sort value and id of the last row served, so
page 10,000 costs what page 1 costs (no OFFSET) and rows inserted meanwhile never shift a
page. Sorting is on one field plus the id as tie-breaker; nulls always come last.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, Field, TypeAdapter, ValidationError, create_model
from sqlalchemy import ColumnElement, Select, and_, or_, tuple_

from service.errors import InvalidInput

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` to get the next page; null on the last page."
    )

    @classmethod
    def model_parametrized_name(cls, params: tuple[type[Any], ...]) -> str:
        # Names clients generate types from: ClusterPage, not Page_Cluster_.
        return f"{params[0].__name__}Page"


@dataclass(frozen=True)
class SortField:
    column: Any  # a column or SQL expression
    python_type: type
    nullable: bool = False


@dataclass(frozen=True)
class Sort:
    """A parsed `sort` parameter: `name` or `-name`."""

    name: str
    field: SortField
    descending: bool

    @property
    def token(self) -> str:
        return f"-{self.name}" if self.descending else self.name


def sort_tokens(fields: dict[str, SortField]) -> tuple[str, ...]:
    """Every value `sort` takes for these fields: each name, ascending and with `-`."""
    return tuple(token for name in fields for token in (name, f"-{name}"))


Q = TypeVar("Q", bound=BaseModel)


def sortable(query: type[Q], fields: dict[str, SortField], default: str, tokens: tuple[str, ...] = ()) -> type[Q]:
    """The list query with `sort` as the enum of what it takes, made from the field table
    parse_sort reads (or the given tokens), so the document cannot list another set."""
    choices = tokens or sort_tokens(fields)
    default = f"`{default}`" if default in choices else default
    sort = Field(None, description=f"Sort order; a `-` prefix sorts descending. Default: {default}.")
    return create_model(
        query.__name__, __base__=query, __module__=query.__module__, sort=(Literal[choices] | None, sort),
    )


def parse_sort(value: str | None, fields: dict[str, SortField], default: str) -> Sort:
    raw = value or default
    descending = raw.startswith("-")
    name = raw[1:] if descending else raw
    if name not in fields:
        allowed = ", ".join(sorted(fields))
        raise InvalidInput.field("query.sort", f"cannot sort by '{name}'; use one of: {allowed} (prefix - for descending)")
    return Sort(name, fields[name], descending)


@dataclass(frozen=True)
class Cursor:
    sort: str
    value: Any
    id: Any


def _to_json(value: Any) -> Any:
    if isinstance(value, (datetime, date, UUID)):
        return value.isoformat() if not isinstance(value, UUID) else str(value)
    return value


def encode_cursor(sort: Sort, value: Any, row_id: Any) -> str:
    payload = json.dumps([sort.token, _to_json(value), _to_json(row_id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(token: str, sort: Sort, id_type: type) -> Cursor:
    def bad(why: str) -> InvalidInput:
        return InvalidInput.field("query.cursor", why)

    try:
        padded = token + "=" * (-len(token) % 4)
        sort_token, value, row_id = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, TypeError, binascii.Error):
        raise bad("the cursor is malformed; use next_cursor from a previous page") from None
    if sort_token != sort.token:
        raise bad(f"the cursor belongs to sort '{sort_token}', not '{sort.token}'")
    try:
        if value is not None:
            value = TypeAdapter(sort.field.python_type).validate_python(value)
        row_id = TypeAdapter(id_type).validate_python(row_id)
    except ValidationError:
        raise bad("the cursor is malformed; use next_cursor from a previous page") from None
    return Cursor(sort_token, value, row_id)


def _after(sort: Sort, id_column: Any, cursor: Cursor) -> ColumnElement[bool]:
    col = sort.field.column
    if cursor.value is None:  # already in the trailing block of nulls
        return and_(col.is_(None), id_column < cursor.id if sort.descending else id_column > cursor.id)
    key, last = tuple_(col, id_column), tuple_(cursor.value, cursor.id)
    beyond = key < last if sort.descending else key > last
    return or_(beyond, col.is_(None)) if sort.field.nullable else beyond


def order_and_seek(
    stmt: Select, sort: Sort, id_column: Any, cursor: str | None, limit: int, id_type: type = UUID
) -> Select:
    """Order stmt by the sort (nulls last, id as tie-breaker), start after the cursor,
    and fetch one row more than the limit to tell whether another page follows."""
    col = sort.field.column
    if cursor:
        stmt = stmt.where(_after(sort, id_column, decode_cursor(cursor, sort, id_type)))
    if sort.descending:
        stmt = stmt.order_by(col.desc().nulls_last(), id_column.desc())
    else:
        stmt = stmt.order_by(col.asc().nulls_last(), id_column.asc())
    return stmt.limit(limit + 1)


def next_cursor(rows: list, sort: Sort, limit: int, value_of, id_of) -> str | None:
    """The cursor for the page after rows (fetched with limit + 1), or None at the end."""
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return encode_cursor(sort, value_of(last), id_of(last))
