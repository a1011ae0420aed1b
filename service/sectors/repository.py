from collections.abc import Iterable

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.kit import repository as kit
from service.kit.lookup import like_pattern
from service.kit.pagination import Sort, SortField
from service.models import Agreement, CalendarSource, Cluster, Mission, Opportunity, Partnership, Sector
from service.sectors.schemas import SectorQuery

SORTS = {"code": SortField(Sector.code, str), "name": SortField(Sector.name, str)}

# Every column that holds sector codes; a sector in use by any of them cannot be deleted.
SECTOR_COLUMNS = [
    Cluster.sectors, Partnership.sectors, Mission.sectors, Agreement.sectors, CalendarSource.default_sectors,
    Opportunity.sectors,
]


async def get(session: AsyncSession, code: str, *, for_update: bool = False) -> Sector | None:
    row: Sector | None = await kit.one(session, select(Sector).where(Sector.code == code), for_update=for_update)
    return row


async def known_codes(session: AsyncSession, codes: Iterable[str]) -> set[str]:
    wanted = list(set(codes))
    if not wanted:
        return set()
    rows = await session.scalars(select(Sector.code).where(Sector.code.in_(wanted)))
    return set(rows)


async def in_use(session: AsyncSession, code: str) -> bool:
    checks = [exists().where(column.contains([code])) for column in SECTOR_COLUMNS]
    return bool(await session.scalar(select(or_(*checks))))


async def page(session: AsyncSession, query: SectorQuery, sort: Sort) -> tuple[list[Sector], str | None]:
    stmt = select(Sector)
    if query.kind:
        stmt = stmt.where(Sector.kind.in_(query.kind))
    if query.q:
        pattern = like_pattern(query.q)
        stmt = stmt.where(or_(Sector.name.ilike(pattern), Sector.code.ilike(pattern)))
    return await kit.page(session, stmt, sort, Sector.code, query, id_type=str)
