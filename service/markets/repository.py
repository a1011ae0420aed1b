"""All SQL about target markets: the countries something targets, with derived counts."""

from typing import Any

from sqlalchemy import Row, Select, String, Subquery, column, func, literal, select, true, union_all
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from service.kit import repository as kit
from service.kit.pagination import Sort, SortField
from service.markets.schemas import TargetMarketQuery
from service.models import Agreement, Cluster, MarketProfile, Mission, Partnership


def _countries_in(model: type[Cluster | Partnership | Agreement], jsonb_column: InstrumentedAttribute[list[dict[str, Any]]]) -> Select[str, Any]:
    """(country, id) for every {"country": ...} object in a jsonb list column of model."""
    element = func.jsonb_array_elements(jsonb_column).table_valued(column("value", JSONB)).lateral()
    return select(element.c.value["country"].astext.label("country"), model.id.label("ref")).join(element, true())


# Each derived count: its name (a field of TargetMarket) and the (country, ref) rows it
# counts. A country is a target market as soon as any of these rows names it.
COUNTS: dict[str, Select[str, Any]] = {
    "cluster_count": _countries_in(Cluster, Cluster.target_markets),
    "partnership_count": _countries_in(Partnership, Partnership.target_markets),
    "mission_count": select(Mission.destination_country.label("country"), Mission.id.label("ref")),
    "agreement_count": _countries_in(Agreement, Agreement.counterparts),
}


def _markets() -> Subquery:
    tagged = [
        select(rows.c.country, rows.c.ref, literal(name, String).label("source"))
        for name, rows in ((name, stmt.subquery()) for name, stmt in COUNTS.items())
    ]
    profiles = select(MarketProfile.country, literal(None).label("ref"), literal("profile", String).label("source"))
    everything = union_all(*tagged, profiles).subquery()
    counts = [
        func.count(func.distinct(everything.c.ref)).filter(everything.c.source == name).label(name)
        for name in COUNTS
    ]
    return select(everything.c.country, *counts).group_by(everything.c.country).subquery("markets")


MARKETS = _markets()
SORTS = {
    "country": SortField(MARKETS.c.country, str),
    **{name: SortField(MARKETS.c[name], int) for name in COUNTS},
}


def _select() -> Select[Any, MarketProfile]:
    return select(MARKETS, MarketProfile).outerjoin(MarketProfile, MarketProfile.country == MARKETS.c.country)


def _as_dict(row: Row[Any, MarketProfile]) -> dict[str, Any]:
    return {"country": row.country, "profile": row.MarketProfile, **{name: row._mapping[name] for name in COUNTS}}


async def get(session: AsyncSession, country: str) -> dict[str, Any] | None:
    row = (await session.execute(_select().where(MARKETS.c.country == country))).one_or_none()
    return _as_dict(row) if row else None


async def get_profile(session: AsyncSession, country: str, *, for_update: bool = False) -> MarketProfile | None:
    stmt = select(MarketProfile).where(MarketProfile.country == country)
    row: MarketProfile | None = await kit.one(session, stmt, for_update=for_update)
    return row


async def page(session: AsyncSession, query: TargetMarketQuery, sort: Sort) -> tuple[list[dict[str, Any]], str | None]:
    stmt = _select()
    if query.country:
        stmt = stmt.where(MARKETS.c.country.in_(query.country))
    if query.has_profile is not None:
        stmt = stmt.where(MarketProfile.country.isnot(None) if query.has_profile else MarketProfile.country.is_(None))
    # Whole rows keyed by themselves: the counts sorted on and the country are columns of the row.
    rows, cursor = await kit.page(session, stmt, sort, MARKETS.c.country, query, id_type=str, keyed_by=kit.itself)
    return [_as_dict(r) for r in rows], cursor
