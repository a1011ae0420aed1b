"""SQL for single opportunities (the search has its own module)."""

from datetime import date

from sqlalchemy import Select, and_, case, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.models import Opportunity


def is_open(today: date):
    return and_(~Opportunity.withdrawn, or_(Opportunity.deadline.is_(None), Opportunity.deadline >= today))


def status(today: date):
    return case((Opportunity.withdrawn, "withdrawn"), (is_open(today), "open"), else_="closed")


def _select(today: date) -> Select:
    return select(Opportunity, status(today).label("status")).options(
        selectinload(Opportunity.posted_by_cluster), selectinload(Opportunity.posted_by_partnership),
    )


async def get(session: AsyncSession, opportunity_id, today: date, *, for_update: bool = False):
    stmt = _select(today).where(Opportunity.id == opportunity_id).execution_options(populate_existing=True)
    if for_update:
        stmt = stmt.with_for_update(of=Opportunity)
    return (await session.execute(stmt)).one_or_none()
