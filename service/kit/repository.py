"""What every domain repository does the same way: fetch one row (locked or not), a keyset
page, and the 404 when a reference names nothing.

Plain functions over SQLAlchemy statements, not base classes: each repository still writes
its own query (joins, derived columns, filters) and hands it here for the shared part.

How SQL is written: ORM/Core statements by default, so queries compose (filters, keyset
paging, locking) and columns are checked; `text()` only for a statement Core cannot say
readably, kept whole in a repository (partner matching's ranking query).
"""

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar, TypeVarTuple
from uuid import UUID

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from service.errors import NotFound
from service.kit.pagination import Sort, next_cursor, order_and_seek

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


class PageQuery(Protocol):
    """What a list query gives paging: where to start and how many rows."""

    cursor: str | None
    limit: int


def not_found(kind: str, ref: str) -> NotFound:
    """The 404 for a reference that names no resource of this kind."""
    return NotFound(f"There is no {kind} '{ref}'.")


def id_or_404(ref: str, kind: str) -> uuid.UUID:
    """The UUID a reference spells; a resource known by id only has nothing under another name."""
    try:
        return uuid.UUID(ref)
    except ValueError:
        raise not_found(kind, ref) from None


async def or_404(lookup: Awaitable[T | None], kind: str, ref: str) -> T:
    """The row a repository lookup found, or the 404 naming the reference the client gave."""
    row = await lookup
    if row is None:
        raise not_found(kind, ref)
    return row


async def one(session: AsyncSession, stmt: Select[*Ts], *, for_update: bool = False, of: Any = None,
              whole_rows: bool = False) -> Any:
    """The one row stmt selects, or None; locked for the transaction when for_update (only
    the `of` table's rows when the statement joins others). whole_rows keeps every selected
    column (an entity with its derived status) instead of the first."""
    if for_update:
        stmt = stmt.with_for_update(of=of)
    result = await session.execute(stmt)
    return result.one_or_none() if whole_rows else result.scalars().one_or_none()


def itself(row: Any) -> Any:
    """keyed_by for whole rows whose own columns are the sort value and the id."""
    return row


async def page(session: AsyncSession, stmt: Select[*Ts], sort: Sort, id_column: Any, query: PageQuery, *,
               id_type: type = UUID, keyed_by: Callable[[Any], Any] | None = None) -> tuple[list[Any], str | None]:
    """One keyset page of stmt and the cursor of the next (None on the last page).

    Rows are the entities stmt selects, or whole rows when keyed_by is given: then keyed_by(row)
    is what the sort value and id are read from (the entity beside a derived status, or the
    row itself)."""
    stmt = order_and_seek(stmt, sort, id_column, query.cursor, query.limit, id_type)
    result = await session.execute(stmt)
    rows = list(result if keyed_by else result.scalars())
    key = keyed_by or itself
    cursor = next_cursor(
        rows, sort, query.limit, lambda r: getattr(key(r), sort.name), lambda r: getattr(key(r), id_column.key)
    )
    return rows[: query.limit], cursor
