"""Rules about target markets and their market studies. Never commits."""

from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from service.access.principal import Write
from service.errors import NotFound
from service.kit.countries import country_name
from service.kit.pagination import Page, parse_sort, sortable
from service.kit.patching import merge
from service.markets import repository
from service.markets.schemas import (
    MarketProfileIn,
    MarketProfilePatch,
    TargetMarket,
    TargetMarketQuery,
)
from service.models import MarketProfile as ProfileRow

DEFAULT_SORT = "country"
# The list query as routes take it: `sort` is the enum of the repository's sort fields, added
# at run time, so a type checker sees the query it extends.
if TYPE_CHECKING:
    TargetMarketListQuery = TargetMarketQuery
else:
    TargetMarketListQuery = sortable(TargetMarketQuery, repository.SORTS, DEFAULT_SORT)


def _market(data: dict[str, Any]) -> TargetMarket:
    return TargetMarket.model_validate({**data, "name": country_name(data["country"])})


def _empty(country: str) -> TargetMarket:
    return TargetMarket(
        country=country, name=country_name(country), profile=None,
        **{name: 0 for name in repository.COUNTS},
    )


async def _current(session: AsyncSession, country: str) -> TargetMarket | None:
    data = await repository.get(session, country)
    return _market(data) if data else None


async def get(session: AsyncSession, country: str) -> TargetMarket:
    market = await _current(session, country)
    if market is None:
        raise NotFound(f"Nothing targets {country} yet and it has no market study; PUT one to start.")
    return market


async def list_page(session: AsyncSession, query: TargetMarketQuery) -> Page[TargetMarket]:
    sort = parse_sort(query.sort, repository.SORTS, default=DEFAULT_SORT)
    rows, cursor = await repository.page(session, query, sort)
    return Page[TargetMarket](items=[_market(r) for r in rows], next_cursor=cursor)


async def _locked(session: AsyncSession, country: str, write: Write) -> tuple[ProfileRow | None, TargetMarket]:
    """The profile row (locked) and the market as currently served, after the checks.
    Market studies belong to no cluster: keys bound to one cannot write them."""
    row = await repository.get_profile(session, country, for_update=True)
    current = await _current(session, country) or _empty(country)
    write.check(current, [], NotFound(f"There is no market study of {country} you may change."))
    return row, current


async def _write(session: AsyncSession, country: str, row: ProfileRow | None, profile: MarketProfileIn) -> TargetMarket:
    if row is None:
        row = ProfileRow(country=country)
        session.add(row)
    for field, value in profile.model_dump(mode="json").items():
        setattr(row, field, value)
    await session.flush()
    return await get(session, country)


async def put_profile(
    session: AsyncSession, country: str, profile: MarketProfileIn, write: Write
) -> tuple[TargetMarket, bool]:
    """Replace the market study; returns the market and whether the study is new."""
    row, _ = await _locked(session, country, write)
    return await _write(session, country, row, profile), row is None


async def patch_profile(
    session: AsyncSession, country: str, patch: MarketProfilePatch, write: Write
) -> TargetMarket:
    row, current = await _locked(session, country, write)
    base = current.profile.model_dump(mode="json", include=set(MarketProfileIn.model_fields)) if current.profile else {}
    return await _write(session, country, row, merge(MarketProfileIn, base, patch))


async def delete_profile(session: AsyncSession, country: str, write: Write) -> None:
    row, _ = await _locked(session, country, write)
    if row is None:
        raise NotFound(f"{country} has no market study.")
    await session.delete(row)
    await session.flush()
