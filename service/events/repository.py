"""All SQL about events: writing them in the changing transaction, and reading the feed."""

import json
import uuid
from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import BigInteger, ColumnElement, Integer, Text, Uuid, bindparam, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.kit.pagination import Sort, SortField, keyset_order, seek_after
from service.models import Event, EventConsumer

# The feed's horizon: the oldest transaction still running (in the reader's snapshot) that
# could be writing events, else the snapshot's end. Events below it are settled: no event can
# commit later with a smaller (txid, id), so a cursor past them never skips one. Transactions
# ids are counted across the whole server, but one running in another database of it cannot
# write these events: those proven to be elsewhere (pg_stat_activity shows where, to a role
# allowed to see other sessions: superuser or pg_read_all_stats) do not hold the feed back.
HORIZON = text("""
    SELECT coalesce(min(running::text::bigint), min(pg_snapshot_xmax(snapshot)::text::bigint))
    FROM pg_current_snapshot() AS snapshot
    LEFT JOIN LATERAL pg_snapshot_xip(snapshot) AS running ON NOT EXISTS (
        SELECT FROM pg_stat_activity AS other
        WHERE other.datname <> current_database()
          AND other.backend_xid::text::bigint = running::text::bigint % 4294967296
    )
""").columns(horizon=BigInteger).scalar_subquery()
SETTLED: ColumnElement[bool] = Event.txid < HORIZON
ORDER = Sort("txid", SortField(Event.txid, int), descending=False)


async def add(
    session: AsyncSession, type_: str, resource_id: uuid.UUID, version: int | None, data: dict[str, Any],
    audience: uuid.UUID | None = None,
) -> None:
    await session.execute(insert(Event).values(
        type=type_, resource_id=resource_id, resource_version=version, data=data, audience_key_id=audience,
    ))


# Many public events of one type in one statement: the rows travel as three arrays, so the
# statement is the same whatever their number (prepared once, no per-row round trip, and the
# dispatch trigger fires once). 5,000 events: about 55 ms, against 6 s one INSERT each.
ADD_MANY = text("""
    INSERT INTO events (type, resource_id, resource_version, data)
    SELECT :type, u.resource_id, u.resource_version, u.data::jsonb
    FROM unnest(:ids, :versions, :data) AS u(resource_id, resource_version, data)
""").bindparams(
    bindparam("ids", type_=ARRAY(Uuid())), bindparam("versions", type_=ARRAY(Integer())),
    bindparam("data", type_=ARRAY(Text())),
)


async def add_many(
    session: AsyncSession, type_: str, rows: Sequence[tuple[uuid.UUID, int | None, dict[str, Any]]],
) -> None:
    """Write (resource id, version, data) events of type_, for every reader, in one INSERT."""
    if rows:
        await session.execute(ADD_MANY, {
            "type": type_, "ids": [r[0] for r in rows], "versions": [r[1] for r in rows],
            "data": [json.dumps(r[2]) for r in rows],
        })


async def settled_after(
    session: AsyncSession, txid: int, event_id: int, limit: int, types: list[str] | None = None,
    reader: uuid.UUID | None | Literal["all"] = "all",
) -> list[Event]:
    """Up to limit settled events after position (txid, event_id), in feed order, of those
    the reader may see: every event ("all"), or the public ones and those of its key."""
    stmt = select(Event).where(SETTLED, seek_after(ORDER, Event.txid, Event.id, txid, event_id))
    if reader != "all":
        stmt = stmt.where(or_(Event.audience_key_id.is_(None), Event.audience_key_id == reader))
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
