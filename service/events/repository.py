"""All SQL about events: writing them in the changing transaction, and reading the feed."""

import uuid
from typing import Any

from sqlalchemy import ColumnElement, insert, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.kit.pagination import Sort, SortField, keyset_order, seek_after
from service.models import Event, EventConsumer

# Events of transactions older than every transaction still running: no event can commit
# later with a smaller (txid, id), so a cursor past these never skips one.
SETTLED: ColumnElement[bool] = Event.txid < literal_column("pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
ORDER = Sort("txid", SortField(Event.txid, int), descending=False)


async def add(session: AsyncSession, type_: str, resource_id: uuid.UUID, version: int | None, data: dict[str, Any]) -> None:
    await session.execute(
        insert(Event).values(type=type_, resource_id=resource_id, resource_version=version, data=data)
    )


async def settled_after(
    session: AsyncSession, txid: int, event_id: int, limit: int, types: list[str] | None = None
) -> list[Event]:
    """Up to limit settled events after position (txid, event_id), in feed order."""
    stmt = select(Event).where(SETTLED, seek_after(ORDER, Event.txid, Event.id, txid, event_id))
    if types:
        stmt = stmt.where(Event.type.in_(types))
    stmt = stmt.order_by(*keyset_order(ORDER, Event.txid, Event.id, nulls_last=False)).limit(limit)
    return list(await session.scalars(stmt))


async def claim_position(session: AsyncSession, consumer: str) -> tuple[int, int]:
    """A consumer's position, locked for this transaction (one reader per consumer at a time)."""
    await session.execute(pg_insert(EventConsumer).values(name=consumer).on_conflict_do_nothing())
    row = (await session.execute(
        select(EventConsumer.txid, EventConsumer.event_id).where(EventConsumer.name == consumer).with_for_update()
    )).one()
    return row.txid, row.event_id


async def move_position(session: AsyncSession, consumer: str, txid: int, event_id: int) -> None:
    await session.execute(
        update(EventConsumer).where(EventConsumer.name == consumer).values(txid=txid, event_id=event_id)
    )
