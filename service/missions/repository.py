"""All SQL about missions, their organisers and participants."""

import uuid
from datetime import date, datetime

from sqlalchemy import ColumnElement, Row, Select, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload, with_expression

from service.kit import repository as kit
from service.kit.filters import matches_text, overlaps
from service.kit.pagination import Sort, SortField
from service.missions import status
from service.missions.schemas import MissionFilters, MissionQuery
from service.models import Agreement, Cluster, Meeting, Mission, MissionOrganiser, MissionParticipant, Partnership
from service.models.meeting import RECORDED_STATUSES

SORTS = {
    "starts_on": SortField(Mission.starts_on, date),
    "application_deadline": SortField(Mission.application_deadline, date, nullable=True),
    "title": SortField(Mission.title, str),
    "created_at": SortField(Mission.created_at, datetime),
    "updated_at": SortField(Mission.updated_at, datetime),
}


# A mission beside its status derived for a day.
MissionWithStatus = Row[Mission, str]


def _counted_once_recorded(count: ColumnElement[int]) -> ColumnElement[int | None]:
    """count, for a mission with a meeting recorded as held or no-show; else null (the
    stored figure stands). The bulk load's guard and export say the same in SQL text
    (bulk/resources/missions.py)."""
    recorded = exists().where(Meeting.mission_id == Mission.id, Meeting.status.in_(RECORDED_STATUSES))
    return case((recorded, count), else_=None)


def _count(*conditions: ColumnElement[bool]) -> ColumnElement[int]:
    return select(func.count()).where(*conditions).correlate(Mission).scalar_subquery()


COUNTED_MEETINGS = _counted_once_recorded(_count(Meeting.mission_id == Mission.id, Meeting.status == "held"))
COUNTED_AGREEMENTS = _counted_once_recorded(_count(Agreement.mission_id == Mission.id, Agreement.status == "signed"))


def _select(today: date) -> Select[Mission, str]:
    """Missions with their derived status and outcomes, and their organisers."""
    return select(Mission, status.status(today).label("status")).options(
        selectinload(Mission.organisers).selectinload(MissionOrganiser.cluster),
        selectinload(Mission.organisers).selectinload(MissionOrganiser.partnership),
        with_expression(Mission.counted_meetings, COUNTED_MEETINGS),
        with_expression(Mission.counted_agreements, COUNTED_AGREEMENTS),
    )


async def get(session: AsyncSession, mission_id: uuid.UUID, today: date, *, for_update: bool = False) -> MissionWithStatus | None:
    """(mission, status) or None."""
    stmt = _select(today).where(Mission.id == mission_id).execution_options(populate_existing=True)
    row: MissionWithStatus | None = await kit.one(session, stmt, for_update=for_update, of=Mission, whole_rows=True)
    return row


def organised_by(slugs: list[str]) -> ColumnElement[bool]:
    """Missions organised by any of the clusters or partnerships with these slugs."""
    organisers = (
        select(MissionOrganiser.mission_id)
        .outerjoin(Cluster, Cluster.id == MissionOrganiser.cluster_id)
        .outerjoin(Partnership, Partnership.id == MissionOrganiser.partnership_id)
        .where(or_(Cluster.slug.in_(slugs), Partnership.slug.in_(slugs)))
    )
    return Mission.id.in_(organisers)


def filtered(query: MissionFilters, today: date) -> Select[Mission, str]:
    stmt = _select(today)
    if query.destination:
        stmt = stmt.where(Mission.destination_country.in_(query.destination))
    if query.sector:
        stmt = stmt.where(overlaps(Mission.sectors, query.sector))
    if query.kind:
        stmt = stmt.where(Mission.kind.in_(query.kind))
    if query.status:
        stmt = stmt.where(status.status(today).in_(query.status))
    if query.organiser:
        stmt = stmt.where(organised_by(query.organiser))
    if query.starts_after:
        stmt = stmt.where(Mission.starts_on >= query.starts_after)
    if query.starts_before:
        stmt = stmt.where(Mission.starts_on <= query.starts_before)
    if query.applications_open is not None:
        is_open = status.applications_open(today)
        stmt = stmt.where(is_open if query.applications_open else ~is_open)
    if query.q:
        stmt = stmt.where(matches_text(Mission.search, query.q))
    return stmt


async def page(session: AsyncSession, query: MissionQuery, sort: Sort, today: date) -> tuple[list[MissionWithStatus], str | None]:
    return await kit.page(session, filtered(query, today), sort, Mission.id, query, keyed_by=_mission)


def _mission(row: MissionWithStatus) -> Mission:
    return row[0]


async def all_matching(session: AsyncSession, filters: MissionFilters, today: date, cap: int) -> list[MissionWithStatus]:
    """Every mission the filters select, by start date, at most cap of them (calendar feeds)."""
    stmt = filtered(filters, today).order_by(Mission.starts_on, Mission.id).limit(cap)
    return list(await session.execute(stmt))


async def participants(session: AsyncSession, mission_id: uuid.UUID) -> list[MissionParticipant]:
    stmt = (
        select(MissionParticipant)
        .where(MissionParticipant.mission_id == mission_id)
        .options(selectinload(MissionParticipant.cluster))
        .order_by(MissionParticipant.joined_at, MissionParticipant.cluster_id)
        .execution_options(populate_existing=True)
    )
    return list(await session.scalars(stmt))


async def participant(
    session: AsyncSession, mission_id: uuid.UUID, cluster_id: uuid.UUID, *, for_update: bool = False
) -> MissionParticipant | None:
    stmt = (
        select(MissionParticipant)
        .where(MissionParticipant.mission_id == mission_id, MissionParticipant.cluster_id == cluster_id)
        .options(selectinload(MissionParticipant.cluster))
        .execution_options(populate_existing=True)
    )
    if for_update:
        stmt = stmt.with_for_update(of=MissionParticipant)
    return (await session.scalars(stmt)).one_or_none()
