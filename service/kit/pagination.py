"""Keyset pagination with opaque cursors, one helper for every list.

A cursor holds the sort it was made for and the sort value and id of the last row served, so
page 10,000 costs what page 1 costs (no OFFSET) and rows inserted meanwhile never shift a
page. Sorting is on one field plus the id as tie-breaker; nulls always come last.

Cursors are signed (HMAC-SHA256, checked in constant time) with the list they were issued
for mixed into the key, so a forged or altered cursor, or one taken from another list or
sort, answers 422 before any of it reaches SQL. Their values are also range-checked against
their column: a cursor signed by an older release must not reach PostgreSQL out of range.
"""

import hashlib
import math
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, Generic, Literal, TypeVar, TypeVarTuple
from uuid import UUID

from itsdangerous import BadData, URLSafeSerializer
from pydantic import BaseModel, Field, TypeAdapter, ValidationError, create_model
from sqlalchemy import BigInteger, ColumnElement, Select, SmallInteger, UnaryExpression, and_, or_, tuple_

from service.errors import InvalidInput

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` to get the next page; null on the last page."
    )

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        # Names clients generate types from: ClusterPage, not Page_Cluster_. (Pages are only
        # ever of schema classes, whatever else pydantic would take.)
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
    # A type made at run time from the table: there is no static type to give it.
    sort_type: Any = Literal[choices] | None
    return create_model(query.__name__, __base__=query, __module__=query.__module__, sort=(sort_type, sort))


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


# The key cursors are signed with, set for each request (see kit/cursor_key.py). A context
# variable rather than a parameter: cursors are made deep inside every list's repository.
signing_key: ContextVar[bytes] = ContextVar("cursor_signing_key")

MALFORMED = "the cursor is malformed; use next_cursor from a previous page"
FOREIGN = "the cursor was not issued for this list and sort, or was altered; use next_cursor from a previous page"
MAX_TEXT = 1000  # no sort value or id we issue is longer; the cursor parameter itself is capped too


@lru_cache(maxsize=256)
def _serializer(key: bytes, scope: str) -> URLSafeSerializer:
    # The scope is the salt: a cursor signed for one list does not verify for another.
    return URLSafeSerializer(key, salt=f"cursor {scope}", signer_kwargs={"digest_method": hashlib.sha256})


def _scope(sort: Sort, scope: str | None) -> str:
    """Which list a cursor belongs to: given, or the sort column (`Cluster.name`), which
    names its table. The sort token is added, so a cursor for `name` is refused for `-name`."""
    return f"{scope or sort.field.column} {sort.token}"


def _to_json(value: Any) -> Any:
    if isinstance(value, (datetime, date, UUID)):
        return value.isoformat() if not isinstance(value, UUID) else str(value)
    return value


def encode_cursor(sort: Sort, value: Any, row_id: Any, scope: str | None = None) -> str:
    return _serializer(signing_key.get(), _scope(sort, scope)).dumps([_to_json(value), _to_json(row_id)])


def _int_bits(column: Any) -> int:
    """The bits of the integer column a value is compared with; 32 when it cannot be told."""
    sql_type = getattr(column, "type", None)
    if isinstance(sql_type, SmallInteger):
        return 15
    if isinstance(sql_type, BigInteger):
        return 63
    return 31


def _in_range(value: Any, python_type: type, column: Any) -> bool:
    """Whether PostgreSQL can take value where the column is compared."""
    if isinstance(value, int):
        bits = _int_bits(column)
        return -(1 << bits) <= value < 1 << bits
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return len(value) <= MAX_TEXT and "\x00" not in value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return False
        try:
            value.astimezone(UTC)  # the driver sends UTC; an offset at the calendar's edge overflows
        except OverflowError:
            return False
    return True


@lru_cache(maxsize=32)
def _adapter(python_type: type) -> TypeAdapter[Any]:
    return TypeAdapter(python_type)  # building one costs far more than using it


def _valid(value: Any, python_type: type, column: Any) -> Any:
    value = _adapter(python_type).validate_python(value)
    if not _in_range(value, python_type, column):
        raise ValueError("out of range")
    return value


def decode_cursor(
    token: str, sort: Sort, id_type: type, scope: str | None = None, id_column: Any = None, parameter: str = "cursor"
) -> Cursor:
    def bad(why: str) -> InvalidInput:
        return InvalidInput.field(f"query.{parameter}", why)

    try:
        payload = _serializer(signing_key.get(), _scope(sort, scope)).loads(token)
    except BadData:
        raise bad(FOREIGN) from None
    if not isinstance(payload, list) or len(payload) != 2:
        raise bad(MALFORMED)
    value, row_id = payload
    if value is None and not sort.field.nullable:
        raise bad(MALFORMED)
    try:
        if value is not None:
            value = _valid(value, sort.field.python_type, sort.field.column)
        row_id = _valid(row_id, id_type, id_column)
    except (ValidationError, ValueError):
        raise bad(MALFORMED) from None
    return Cursor(sort.token, value, row_id)


def _after(sort: Sort, id_column: Any, cursor: Cursor) -> ColumnElement[bool]:
    col = sort.field.column
    if cursor.value is None:  # already in the trailing block of nulls
        return and_(col.is_(None), id_column < cursor.id if sort.descending else id_column > cursor.id)
    beyond = seek_after(sort, col, id_column, cursor.value, cursor.id)
    return or_(beyond, col.is_(None)) if sort.field.nullable else beyond


def seek_after(sort: Sort, key: Any, id_column: Any, value: Any, row_id: Any) -> ColumnElement[bool]:
    """Rows after (value, row_id) in the sort's order, on a key that is never null. key may
    be any expression (a computed rank), value and row_id bound parameters: a statement
    built once then serves every page."""
    key_and_id, last = tuple_(key, id_column), tuple_(value, row_id)
    return key_and_id < last if sort.descending else key_and_id > last


def keyset_order(
    sort: Sort, key: Any, id_column: Any, *, nulls_last: bool = True
) -> tuple[UnaryExpression[Any], UnaryExpression[Any]]:
    """ORDER BY for a keyset list: key in the sort's direction, then the id. A key that is
    never null may leave NULLS LAST out: on a descending sort it would keep PostgreSQL from
    reading an ascending index backwards."""
    first = key.desc() if sort.descending else key.asc()
    return (first.nulls_last() if nulls_last else first, id_column.desc() if sort.descending else id_column.asc())


def order_and_seek(
    stmt: Select[*Ts], sort: Sort, id_column: Any, cursor: str | None, limit: int, id_type: type = UUID
) -> Select[*Ts]:
    """Order stmt by the sort (nulls last, id as tie-breaker), start after the cursor,
    and fetch one row more than the limit to tell whether another page follows."""
    if cursor:
        stmt = stmt.where(_after(sort, id_column, decode_cursor(cursor, sort, id_type, id_column=id_column)))
    return stmt.order_by(*keyset_order(sort, sort.field.column, id_column)).limit(limit + 1)


def next_cursor(
    rows: Sequence[Any], sort: Sort, limit: int, value_of: Callable[[Any], Any], id_of: Callable[[Any], Any],
    scope: str | None = None,
) -> str | None:
    """The cursor for the page after rows (fetched with limit + 1), or None at the end;
    scope as for encode_cursor."""
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return encode_cursor(sort, value_of(last), id_of(last), scope)
