"""All SQL about calendar sources and the missions taken from them."""

import uuid
from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.kit import repository as kit
from service.kit.pagination import Sort, SortField
from service.models import CalendarSource, Mission, MissionOrganiser, Sector

SORTS = {"url": SortField(CalendarSource.url, str)}
DEFAULT_SORT = "url"


def _select() -> Select[CalendarSource]:
    return select(CalendarSource).options(selectinload(CalendarSource.cluster))


async def sector_names(session: AsyncSession) -> dict[str, str]:
    """Sector codes and their names, for the CATEGORIES a feed shows."""
    return {code: name for code, name in await session.execute(select(Sector.code, Sector.name))}


async def get(session: AsyncSession, source_id: uuid.UUID, *, for_update: bool = False) -> CalendarSource | None:
    """A source with its cluster; locked when for_update (one sync of a source at a time)."""
    row: CalendarSource | None = await kit.one(
        session, _select().where(CalendarSource.id == source_id), for_update=for_update
    )
    return row


async def page(session: AsyncSession, query: kit.PageQuery, sort: Sort) -> tuple[list[CalendarSource], str | None]:
    return await kit.page(session, _select(), sort, CalendarSource.id, query)


async def all_ids(session: AsyncSession) -> list[tuple[uuid.UUID, str]]:
    """Every source's id and URL, in URL order (what a scheduled sync walks through)."""
    rows = await session.execute(select(CalendarSource.id, CalendarSource.url).order_by(CalendarSource.url))
    return [(source_id, url) for source_id, url in rows]


async def due(session: AsyncSession, now: datetime) -> list[uuid.UUID]:
    """The sources with a sync interval whose last sync (if any) is at least that old at now."""
    source = CalendarSource
    stmt = select(source.id).where(
        source.sync_interval.isnot(None),
        or_(source.last_synced_at.is_(None), source.last_synced_at + source.sync_interval <= now),
    ).order_by(source.id)
    return list(await session.scalars(stmt))


async def missions_of(session: AsyncSession, source_id: uuid.UUID | None) -> dict[str, Mission]:
    """The missions taken from a source (or from uploads when source_id is None) by UID,
    with their organisers, locked for the sync that applies the feed."""
    owner = Mission.source_id == source_id if source_id else Mission.source_id.is_(None)
    stmt = (
        select(Mission)
        .where(owner, Mission.source_uid.isnot(None))
        .options(selectinload(Mission.organisers).selectinload(MissionOrganiser.cluster),
                 selectinload(Mission.organisers).selectinload(MissionOrganiser.partnership))
        .with_for_update(of=Mission)
    )
    return {m.source_uid: m for m in await session.scalars(stmt) if m.source_uid is not None}
