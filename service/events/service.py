"""The change feed: events written beside each change, and read back in a stable order."""

import uuid
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from service.access.principal import Principal
from service.events import repository
from service.events.schemas import Event, EventPage, EventQuery, EventType
from service.kit.pagination import decode_cursor, encode_cursor
from service.models import Event as EventRow

CURSOR_SCOPE = "events"


async def record(
    session: AsyncSession, type_: EventType, resource: BaseModel, *, version: int | None = None,
    audience: uuid.UUID | None = None,
) -> None:
    """Write the event of a change in the transaction that makes it (commits, or not, with it).
    resource is the representation the API answers with after the change (before, for a
    deletion); its `id` names the resource. audience: the one API key that may see the event
    (in the feed, and through its webhooks), when not everyone may."""
    data: dict[str, Any] = resource.model_dump(mode="json")
    await repository.add(session, type_, uuid.UUID(str(data["id"])), version, data, audience)


async def record_many(
    session: AsyncSession, type_: EventType, changed: Sequence[tuple[BaseModel, int | None]],
) -> None:
    """record() for many resources changed alike in one transaction (a schedule places or
    cancels thousands of meetings), written in one statement. changed: each resource's
    representation and its version after the change. Public events only."""
    rows = []
    for resource, version in changed:
        data: dict[str, Any] = resource.model_dump(mode="json")
        rows.append((uuid.UUID(str(data["id"])), version, data))
    await repository.add_many(session, type_, rows)


def to_schema(row: EventRow) -> Event:
    return Event.model_validate({
        "id": str(row.id), "type": row.type, "resource_id": str(row.resource_id),
        "resource_version": row.resource_version, "timestamp": row.occurred_at, "data": row.data,
    })


def _position(after: str | None) -> tuple[int, int]:
    if after is None:
        return 0, 0
    cursor = decode_cursor(after, repository.ORDER, int, CURSOR_SCOPE, EventRow.id, parameter="after")
    return cursor.value, cursor.id


async def feed(session: AsyncSession, query: EventQuery, principal: Principal) -> EventPage:
    """The feed as principal may read it: admins every event, others the public ones and
    those meant for their key (their saved searches' alerts)."""
    txid, event_id = _position(query.after)
    reader: uuid.UUID | None | Literal["all"] = "all" if principal.is_admin else principal.key_id
    rows = await repository.settled_after(session, txid, event_id, query.limit, list(query.type), reader)
    if rows:
        txid, event_id = rows[-1].txid, rows[-1].id
    return EventPage(
        items=[to_schema(r) for r in rows],
        next_cursor=encode_cursor(repository.ORDER, txid, event_id, CURSOR_SCOPE),
    )
