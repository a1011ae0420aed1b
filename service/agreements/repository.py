"""All SQL about cooperation agreements."""

from datetime import date, datetime

from sqlalchemy import Select, and_, case, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.agreements.schemas import AgreementQuery
from service.kit.filters import any_country, matches_text
from service.kit.pagination import Sort, SortField, next_cursor, order_and_seek
from service.models import Agreement, AgreementParty, Cluster, Partnership

SORTS = {
    "signed_on": SortField(Agreement.signed_on, date, nullable=True),
    "title": SortField(Agreement.title, str),
    "created_at": SortField(Agreement.created_at, datetime),
    "updated_at": SortField(Agreement.updated_at, datetime),
}


def status(today: date):
    """The stored status, except that a signed agreement past valid_until has expired."""
    return case(
        (and_(Agreement.status == "signed", Agreement.valid_until < today), "expired"),
        else_=Agreement.status,
    )


def _select(today: date) -> Select:
    return select(Agreement, status(today).label("status")).options(
        selectinload(Agreement.parties).selectinload(AgreementParty.cluster),
        selectinload(Agreement.partnership),
        selectinload(Agreement.mission),
    )


async def get(session: AsyncSession, agreement_id, today: date, *, for_update: bool = False):
    stmt = _select(today).where(Agreement.id == agreement_id).execution_options(populate_existing=True)
    if for_update:
        stmt = stmt.with_for_update(of=Agreement)
    return (await session.execute(stmt)).one_or_none()


def filtered(query: AgreementQuery, today: date) -> Select:
    stmt = _select(today)
    if query.kind:
        stmt = stmt.where(Agreement.kind.in_(query.kind))
    if query.status:
        stmt = stmt.where(status(today).in_(query.status))
    if query.country:
        stmt = stmt.where(any_country(Agreement.counterparts, query.country))
    if query.cluster:
        parties = select(AgreementParty.agreement_id).join(Cluster).where(Cluster.slug.in_(query.cluster))
        stmt = stmt.where(Agreement.id.in_(parties))
    if query.partnership:
        stmt = stmt.where(Agreement.partnership_id.in_(select(Partnership.id).where(Partnership.slug.in_(query.partnership))))
    if query.signed_after:
        stmt = stmt.where(Agreement.signed_on >= query.signed_after)
    if query.signed_before:
        stmt = stmt.where(Agreement.signed_on <= query.signed_before)
    if query.q:
        stmt = stmt.where(matches_text(Agreement.search, query.q))
    return stmt


async def page(session: AsyncSession, query: AgreementQuery, sort: Sort, today: date):
    stmt = order_and_seek(filtered(query, today), sort, Agreement.id, query.cursor, query.limit)
    rows = list(await session.execute(stmt))
    cursor = next_cursor(rows, sort, query.limit, lambda r: getattr(r.Agreement, sort.name), lambda r: r.Agreement.id)
    return rows[: query.limit], cursor
