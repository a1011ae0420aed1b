"""Hot reads straight through asyncpg, from statements compiled once.

SQLAlchemy builds the statements (they stay typed and composable); running one through the
session costs a cache-key walk of the whole statement, an execution context and a result
object per request, which on the hottest reads (an opportunity by id, a search page) was
measured to cost more than the query itself (README: Performance). Here a statement is
compiled once for the asyncpg dialect into its SQL and the order of its parameters, and run
on the session's own connection, inside the request's transaction: it commits or rolls back
with everything else the request did, and a lost connection is handed back to the pool as
broken, as SQLAlchemy would.
"""

from collections.abc import Callable, Mapping
from typing import Any

import asyncpg
from sqlalchemy import ClauseElement
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.compiler import Compiled

# What a connection that was lost or closed by the server raises (or leaves is_closed()).
LOST = (asyncpg.InterfaceError, asyncpg.exceptions.InternalClientError, OSError)
DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]


class CompiledStatement:
    """A statement's SQL for asyncpg ($1, $2, ...) and how to order its parameters."""

    def __init__(self, statement: ClauseElement) -> None:
        compiled: Compiled = statement.compile(dialect=DIALECT)
        self.sql = str(compiled)
        names: list[str] = list(getattr(compiled, "positiontup", None) or [])
        processors: Mapping[str, Callable[[Any], Any]] = compiled._bind_processors  # type: ignore[attr-defined]
        binds = compiled.binds  # type: ignore[attr-defined]
        defaults = {name: bind.effective_value for name, bind in binds.items() if not bind.required}
        if any("POSTCOMPILE" in name for name in names) or "__[POSTCOMPILE" in self.sql:
            raise ValueError("statements with expanding parameters cannot be compiled once")
        self._order = [(name, processors.get(name), defaults.get(name)) for name in names]

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        values = []
        for name, process, default in self._order:
            value = params.get(name, default)
            values.append(process(value) if process is not None and value is not None else value)
        return values


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under the session, inside the session's transaction (begun
    here when nothing ran on it yet, exactly as SQLAlchemy would begin it)."""
    connection = await session.connection()
    adapted = await connection.get_raw_connection()
    raw: asyncpg.Connection = adapted.driver_connection
    if not raw.is_in_transaction():
        # SQLAlchemy's asyncpg adapter begins its transaction on the first statement; begin
        # it the same way, so that the session's commit or rollback ends it.
        await adapted.dbapi_connection._start_transaction()  # type: ignore[union-attr]
    return raw


async def fetch(session: AsyncSession, statement: CompiledStatement, params: Mapping[str, Any]) -> list[asyncpg.Record]:
    connection = await session.connection()
    raw = await driver_connection(session)
    try:
        rows: list[asyncpg.Record] = await raw.fetch(statement.sql, *statement.arguments(params))
    except BaseException as exc:
        if raw.is_closed() or isinstance(exc, LOST):  # the pool must not hand this connection out again
            await connection.invalidate()
        raise
    return rows


async def fetch_row(
    session: AsyncSession, statement: CompiledStatement, params: Mapping[str, Any]
) -> asyncpg.Record | None:
    rows = await fetch(session, statement, params)
    return rows[0] if rows else None
