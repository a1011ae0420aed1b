"""All SQL about cooperation agreements."""

import uuid
from datetime import date, datetime

from sqlalchemy import ColumnElement, Row, Select, and_, case, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.agreements.schemas import AgreementQuery
from service.kit import repository as kit
from service.kit.filters import any_country, matches_text
from service.kit.pagination import Sort, SortField
from service.models import Agreement, AgreementParty, Cluster, Mission, Partnership

SORTS = {
    "signed_on": SortField(Agreement.signed_on, date, nullable=True),
    "title": SortField(Agreement.title, str),
    "created_at": SortField(Agreement.created_at, datetime),
    "updated_at": SortField(Agreement.updated_at, datetime),
}


def status(today: date) -> ColumnElement[str]:
    """The stored status, except that a signed agreement past valid_until has expired."""
    return case(
        (and_(Agreement.status == "signed", Agreement.valid_until < today), "expired"),
        else_=Agreement.status,
    )


# An agreement beside its status derived for a day.
AgreementWithStatus = Row[Agreement, str]


def _select(today: date) -> Select[Agreement, str]:
    return select(Agreement, status(today).label("status")).options(
        selectinload(Agreement.parties).selectinload(AgreementParty.cluster),
        selectinload(Agreement.partnership),
        selectinload(Agreement.mission),
    )


async def get(
    session: AsyncSession, agreement_id: uuid.UUID, today: date, *, for_update: bool = False
) -> AgreementWithStatus | None:
    """(agreement, status) or None."""
    stmt = _select(today).where(Agreement.id == agreement_id).execution_options(populate_existing=True)
    row: AgreementWithStatus | None = await kit.one(session, stmt, for_update=for_update, of=Agreement, whole_rows=True)
    return row


async def mission_id(session: AsyncSession, ref: str) -> uuid.UUID | None:
    """The id of the mission an agreement names, by id or by external_id."""
    try:
        clause = or_(Mission.id == uuid.UUID(ref), Mission.external_id == ref)
    except ValueError:
        clause = Mission.external_id == ref
    return await session.scalar(select(Mission.id).where(clause))


def filtered(query: AgreementQuery, today: date) -> Select[Agreement, str]:
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


async def page(session: AsyncSession, query: AgreementQuery, sort: Sort, today: date) -> tuple[list[AgreementWithStatus], str | None]:
    return await kit.page(session, filtered(query, today), sort, Agreement.id, query, keyed_by=_agreement)


def _agreement(row: AgreementWithStatus) -> Agreement:
    return row[0]
