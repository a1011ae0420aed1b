"""Rules of the sector vocabulary. Never commits: the request boundary does."""

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from service.access.principal import Write
from service.errors import Conflict, InvalidInput
from service.kit.lookup import flush
from service.kit.pagination import Page, parse_sort, sortable
from service.kit.patching import merge
from service.kit.repository import not_found, or_404
from service.models import Sector as SectorRow
from service.sectors import repository
from service.sectors.schemas import Sector, SectorCreate, SectorPatch, SectorQuery

DEFAULT_SORT = "code"
# The list query as routes take it: `sort` is the enum of the repository's sort fields, added
# at run time, so a type checker sees the query it extends.
if TYPE_CHECKING:
    SectorListQuery = SectorQuery
else:
    SectorListQuery = sortable(SectorQuery, repository.SORTS, DEFAULT_SORT)


async def ensure_known(session: AsyncSession, codes: Iterable[str], location: str = "body.sectors") -> None:
    """Refuse sector codes that are not in the vocabulary."""
    codes = list(codes)
    unknown = sorted(set(codes) - await repository.known_codes(session, codes))
    if unknown:
        raise InvalidInput.field(location, f"unknown sector code(s): {', '.join(unknown)}; see /v1/sectors")


async def _get_row(session: AsyncSession, code: str, for_update: bool = False) -> SectorRow:
    return await or_404(repository.get(session, code, for_update=for_update), "sector", code)


async def get(session: AsyncSession, code: str) -> Sector:
    return Sector.model_validate(await _get_row(session, code))


async def list_page(session: AsyncSession, query: SectorQuery) -> Page[Sector]:
    sort = parse_sort(query.sort, repository.SORTS, default=DEFAULT_SORT)
    rows, cursor = await repository.page(session, query, sort)
    return Page[Sector](items=[Sector.model_validate(r) for r in rows], next_cursor=cursor)


async def create(session: AsyncSession, data: SectorCreate) -> Sector:
    row = SectorRow(**data.model_dump())
    session.add(row)
    await flush(session, duplicate=f"A sector with code '{data.code}' already exists.")
    await session.refresh(row)
    return Sector.model_validate(row)


async def update(session: AsyncSession, code: str, patch: SectorPatch, write: Write) -> Sector:
    row = await _get_row(session, code, for_update=True)
    current = Sector.model_validate(row)
    write.check(current, [], not_found("sector", code))
    merged = merge(SectorCreate, current.model_dump(), patch)
    for field, value in merged.model_dump().items():
        setattr(row, field, value)
    await session.flush()
    await session.refresh(row)
    return Sector.model_validate(row)


async def delete(session: AsyncSession, code: str, write: Write) -> None:
    row = await _get_row(session, code, for_update=True)
    write.check(Sector.model_validate(row), [], not_found("sector", code))
    if await repository.in_use(session, code):
        raise Conflict(f"Sector '{code}' is still used; remove it from those records first.")
    await session.delete(row)
    await session.flush()
