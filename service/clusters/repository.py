"""All SQL about clusters."""

from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.clusters.schemas import ClusterQuery
from service.kit import repository as kit
from service.kit.filters import matches_text, overlaps
from service.kit.lookup import ref_clause
from service.kit.pagination import Sort, SortField
from service.models import Cluster, Partnership, PartnershipMember

SORTS = {
    "name": SortField(Cluster.name, str),
    "slug": SortField(Cluster.slug, str),
    "country": SortField(Cluster.country, str),
    "member_count": SortField(Cluster.member_count, int, nullable=True),
    "sme_count": SortField(Cluster.sme_count, int, nullable=True),
    "founded_year": SortField(Cluster.founded_year, int, nullable=True),
    "created_at": SortField(Cluster.created_at, datetime),
    "updated_at": SortField(Cluster.updated_at, datetime),
}


def _select() -> Select[Cluster]:
    return select(Cluster)


async def get(session: AsyncSession, ref: str, *, for_update: bool = False) -> Cluster | None:
    row: Cluster | None = await kit.one(session, _select().where(ref_clause(Cluster, ref)), for_update=for_update)
    return row


def filtered(query: ClusterQuery) -> Select[Cluster]:
    stmt = _select()
    if query.country:
        stmt = stmt.where(Cluster.country.in_(query.country))
    if query.sector:
        stmt = stmt.where(overlaps(Cluster.sectors, query.sector))
    if query.label:
        stmt = stmt.where(Cluster.label.in_(query.label))
    if query.target_market:
        stmt = stmt.where(Cluster.target_countries.overlap(query.target_market))
    if query.partnership:
        members = (
            select(PartnershipMember.cluster_id)
            .join(Partnership, Partnership.id == PartnershipMember.partnership_id)
            .where(Partnership.slug.in_(query.partnership))
        )
        stmt = stmt.where(Cluster.id.in_(members))
    if query.q:
        stmt = stmt.where(matches_text(Cluster.search, query.q))
    return stmt


async def page(session: AsyncSession, query: ClusterQuery, sort: Sort) -> tuple[list[Cluster], str | None]:
    return await kit.page(session, filtered(query), sort, Cluster.id, query)
