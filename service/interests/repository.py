"""All SQL about expressions of interest."""

import uuid
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from service.interests.schemas import InterestQuery
from service.kit import repository as kit
from service.kit.pagination import Sort, SortField
from service.models import Interest

SORTS = {"created_at": SortField(Interest.created_at, datetime)}


def _select(opportunity_id: uuid.UUID) -> Select[Interest]:
    return (
        select(Interest)
        .options(joinedload(Interest.cluster))
        .where(Interest.opportunity_id == opportunity_id)
        .execution_options(populate_existing=True)
    )


async def get(
    session: AsyncSession, opportunity_id: uuid.UUID, interest_id: uuid.UUID, *, for_update: bool = False
) -> Interest | None:
    """The interest of that opportunity (another opportunity's answers None)."""
    stmt = _select(opportunity_id).where(Interest.id == interest_id)
    found: Interest | None = await kit.one(session, stmt, for_update=for_update, of=Interest)
    return found


async def page(
    session: AsyncSession, opportunity_id: uuid.UUID, sender: uuid.UUID | None, query: InterestQuery, sort: Sort
) -> tuple[list[Interest], str | None]:
    """A page of the opportunity's interests; only those sender sent, when given."""
    stmt = _select(opportunity_id)
    if sender is not None:
        stmt = stmt.where(Interest.cluster_id == sender)
    if query.status:
        stmt = stmt.where(Interest.status.in_(query.status))
    return await kit.page(session, stmt, sort, Interest.id, query)


async def counts(session: AsyncSession, opportunity_id: uuid.UUID) -> dict[str, int]:
    """How many interests the opportunity has in each status (absent statuses: none)."""
    stmt = (
        select(Interest.status, func.count())
        .where(Interest.opportunity_id == opportunity_id)
        .group_by(Interest.status)
    )
    return {status: count for status, count in (await session.execute(stmt)).all()}
