"""All SQL about partnerships and their members."""

import uuid
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.kit import repository as kit
from service.kit.filters import any_country, matches_text, overlaps
from service.kit.lookup import ref_clause
from service.kit.pagination import Sort, SortField
from service.models import Cluster, Partnership, PartnershipMember
from service.partnerships.schemas import PartnershipQuery

SORTS = {
    "acronym": SortField(Partnership.acronym, str),
    "name": SortField(Partnership.name, str),
    "slug": SortField(Partnership.slug, str),
    "period_start": SortField(Partnership.period_start, date, nullable=True),
    "created_at": SortField(Partnership.created_at, datetime),
    "updated_at": SortField(Partnership.updated_at, datetime),
}


def _select() -> Select[Partnership]:
    return select(Partnership).options(
        selectinload(Partnership.members).selectinload(PartnershipMember.cluster)
    )


async def get(session: AsyncSession, ref: str, *, for_update: bool = False) -> Partnership | None:
    stmt = _select().where(ref_clause(Partnership, ref)).execution_options(populate_existing=True)
    row: Partnership | None = await kit.one(session, stmt, for_update=for_update, of=Partnership)
    return row


def filtered(query: PartnershipQuery) -> Select[Partnership]:
    stmt = _select()
    if query.programme:
        stmt = stmt.where(Partnership.programme.in_(query.programme))
    if query.generation:
        stmt = stmt.where(Partnership.generation.in_(query.generation))
    if query.strand:
        stmt = stmt.where(Partnership.strand.in_(query.strand))
    if query.sector:
        stmt = stmt.where(overlaps(Partnership.sectors, query.sector))
    if query.target_market:
        stmt = stmt.where(any_country(Partnership.target_markets, query.target_market))
    if query.cluster:
        with_members = (
            select(PartnershipMember.partnership_id)
            .join(Cluster, Cluster.id == PartnershipMember.cluster_id)
            .where(Cluster.slug.in_(query.cluster))
        )
        stmt = stmt.where(Partnership.id.in_(with_members))
    if query.q:
        stmt = stmt.where(matches_text(Partnership.search, query.q))
    return stmt


async def page(session: AsyncSession, query: PartnershipQuery, sort: Sort) -> tuple[list[Partnership], str | None]:
    return await kit.page(session, filtered(query), sort, Partnership.id, query)


def touch(row: Partnership) -> None:
    """Mark the partnership changed now, as its own columns' changes do."""
    row.updated_at = func.statement_timestamp()


async def coordinated_by(
    session: AsyncSession, cluster_id: uuid.UUID | None, partnership_ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    """Those of partnership_ids that cluster_id coordinates."""
    m = PartnershipMember
    rows = await session.scalars(select(m.partnership_id).where(
        m.cluster_id == cluster_id, m.role == "coordinator", m.partnership_id.in_(list(partnership_ids))))
    return set(rows)
