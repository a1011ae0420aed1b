"""SQL for single opportunities (the search has its own module)."""

import uuid
from datetime import date

from sqlalchemy import ColumnElement, Date, Row, Select, Uuid, and_, bindparam, case, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.util import AliasedClass

from service.models import Opportunity

# An opportunity beside its status derived for a day.
OpportunityWithStatus = Row[Opportunity, str]


def is_open(
    today: date | ColumnElement[date], o: type[Opportunity] | AliasedClass[Opportunity] = Opportunity
) -> ColumnElement[bool]:
    """Open on that day: not withdrawn and not past its deadline (o: the table or a sample of it)."""
    return and_(~o.withdrawn, or_(o.deadline.is_(None), o.deadline >= today))


def status(today: date | ColumnElement[date]) -> ColumnElement[str]:
    return case((Opportunity.withdrawn, "withdrawn"), (is_open(today), "open"), else_="closed")


def _by_id(for_update: bool) -> Select[Opportunity, str]:
    # Built once with bound parameters: a get by id is the hottest read there is.
    stmt = (
        select(Opportunity, status(bindparam("today", type_=Date)).label("status"))
        .options(joinedload(Opportunity.posted_by_cluster), joinedload(Opportunity.posted_by_partnership))
        .where(Opportunity.id == bindparam("id", type_=Uuid))
        .execution_options(populate_existing=True)
    )
    return stmt.with_for_update(of=Opportunity) if for_update else stmt


BY_ID = {False: _by_id(False), True: _by_id(True)}


async def get(
    session: AsyncSession, opportunity_id: uuid.UUID, today: date, *, for_update: bool = False
) -> OpportunityWithStatus | None:
    """(opportunity, status) or None."""
    return (await session.execute(BY_ID[for_update], {"id": opportunity_id, "today": today})).one_or_none()
