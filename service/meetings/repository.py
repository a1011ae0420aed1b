"""All SQL about a mission's meeting setup, availability, requests, meetings and agenda tokens."""

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Row, Select, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlalchemy.sql.selectable import ScalarSelect

from service.kit import repository as kit
from service.models import (
    AgendaToken,
    Agreement,
    Base,
    Cluster,
    Meeting,
    MeetingAvailability,
    MeetingRequest,
    MeetingSession,
    MeetingSetup,
    Mission,
    MissionOrganiser,
    MissionParticipant,
)

Asking = aliased(Cluster, name="asking")
Asked = aliased(Cluster, name="asked")
RequestRow = Row[MeetingRequest, Cluster, Cluster]  # the request, the asking cluster, the one asked
MeetingRow = Row[Meeting, MeetingRequest, Cluster, Cluster]


async def setup(session: AsyncSession, mission_id: uuid.UUID, *, for_update: bool = False) -> MeetingSetup | None:
    stmt = select(MeetingSetup).where(MeetingSetup.mission_id == mission_id).execution_options(populate_existing=True)
    found: MeetingSetup | None = await kit.one(session, stmt, for_update=for_update)
    return found


async def sessions(session: AsyncSession, mission_id: uuid.UUID) -> list[MeetingSession]:
    stmt = select(MeetingSession).where(MeetingSession.mission_id == mission_id).order_by(MeetingSession.starts_at)
    return list(await session.scalars(stmt))


async def drop_sessions(session: AsyncSession, mission_id: uuid.UUID) -> None:
    await session.execute(delete(MeetingSession).where(MeetingSession.mission_id == mission_id))


async def availability(session: AsyncSession, mission_id: uuid.UUID) -> dict[uuid.UUID, list[str]]:
    """The sessions each participant that said so can meet in."""
    stmt = select(MeetingAvailability).where(MeetingAvailability.mission_id == mission_id)
    return {row.cluster_id: list(row.sessions) for row in await session.scalars(stmt)}


async def put_availability(session: AsyncSession, mission_id: uuid.UUID, cluster_id: uuid.UUID, names: list[str]) -> None:
    stmt = insert(MeetingAvailability).values(mission_id=mission_id, cluster_id=cluster_id, sessions=names)
    await session.execute(stmt.on_conflict_do_update(index_elements=["mission_id", "cluster_id"], set_={"sessions": names}))


def _requests() -> Select[MeetingRequest, Cluster, Cluster]:
    return (
        select(MeetingRequest, Asking, Asked)
        .join(Asking, Asking.id == MeetingRequest.from_cluster_id)
        .join(Asked, Asked.id == MeetingRequest.to_cluster_id)
        .execution_options(populate_existing=True)
    )


def _involving(cluster_id: uuid.UUID) -> ColumnElement[bool]:
    return or_(MeetingRequest.from_cluster_id == cluster_id, MeetingRequest.to_cluster_id == cluster_id)


async def requests(
    session: AsyncSession, mission_id: uuid.UUID, *, clusters: Sequence[uuid.UUID] = (), status: str | None = None,
) -> Sequence[RequestRow]:
    """(request, asking cluster, asked cluster) involving every one of clusters, oldest first."""
    stmt = _requests().where(MeetingRequest.mission_id == mission_id, *map(_involving, clusters))
    if status is not None:
        stmt = stmt.where(MeetingRequest.status == status)
    return (await session.execute(stmt.order_by(MeetingRequest.created_at, MeetingRequest.id))).all()


async def request(
    session: AsyncSession, mission_id: uuid.UUID, request_id: uuid.UUID, *, for_update: bool = False,
) -> RequestRow | None:
    stmt = _requests().where(MeetingRequest.mission_id == mission_id, MeetingRequest.id == request_id)
    found: RequestRow | None = await kit.one(
        session, stmt, for_update=for_update, of=MeetingRequest, whole_rows=True,
    )
    return found


async def open_request_between(session: AsyncSession, mission_id: uuid.UUID, a: uuid.UUID, b: uuid.UUID) -> bool:
    """Whether a pending or accepted request joins the two, whichever asked."""
    stmt = select(func.count()).where(
        MeetingRequest.mission_id == mission_id,
        MeetingRequest.status.in_(("pending", "accepted")),
        func.least(MeetingRequest.from_cluster_id, MeetingRequest.to_cluster_id) == min(a, b),
        func.greatest(MeetingRequest.from_cluster_id, MeetingRequest.to_cluster_id) == max(a, b),
    )
    return bool(await session.scalar(stmt))


def _meetings() -> Select[Meeting, MeetingRequest, Cluster, Cluster]:
    return (
        select(Meeting, MeetingRequest, Asking, Asked)
        .join(MeetingRequest, MeetingRequest.id == Meeting.request_id)
        .join(Asking, Asking.id == MeetingRequest.from_cluster_id)
        .join(Asked, Asked.id == MeetingRequest.to_cluster_id)
        .execution_options(populate_existing=True)
    )


async def meetings(
    session: AsyncSession, mission_id: uuid.UUID, *, clusters: Sequence[uuid.UUID] = (),
    statuses: Sequence[str] | None = None,
) -> Sequence[MeetingRow]:
    """(meeting, its request, asking cluster, asked cluster) involving every one of clusters,
    by time and table."""
    stmt = _meetings().where(Meeting.mission_id == mission_id, *map(_involving, clusters))
    if statuses is not None:
        stmt = stmt.where(Meeting.status.in_(statuses))
    return (await session.execute(stmt.order_by(Meeting.starts_at, Meeting.table_number))).all()


async def meeting(session: AsyncSession, mission_id: uuid.UUID, meeting_id: uuid.UUID, *,
                  for_update: bool = False) -> MeetingRow | None:
    stmt = _meetings().where(Meeting.mission_id == mission_id, Meeting.id == meeting_id)
    found: MeetingRow | None = await kit.one(session, stmt, for_update=for_update, of=Meeting, whole_rows=True)
    return found


async def meeting_of_request(session: AsyncSession, request_id: uuid.UUID) -> Meeting | None:
    found: Meeting | None = await kit.one(session, select(Meeting).where(Meeting.request_id == request_id))
    return found


async def count_meetings(session: AsyncSession, mission_id: uuid.UUID, statuses: Sequence[str]) -> int:
    stmt = select(func.count()).where(Meeting.mission_id == mission_id, Meeting.status.in_(statuses))
    return int(await session.scalar(stmt) or 0)


async def drop_meetings(session: AsyncSession, mission_id: uuid.UUID, statuses: Sequence[str]) -> list[Meeting]:
    """Delete the mission's meetings in statuses; the meetings deleted, as they were."""
    stmt = (
        delete(Meeting).where(Meeting.mission_id == mission_id, Meeting.status.in_(statuses))
        .returning(Meeting).execution_options(synchronize_session=False)
    )
    return list(await session.scalars(stmt))


async def publish(session: AsyncSession, mission_id: uuid.UUID) -> list[Meeting]:
    """Mark every scheduled meeting published; the meetings that were, as they now are."""
    rows = await session.scalars(
        update(Meeting)
        .where(Meeting.mission_id == mission_id, Meeting.status == "scheduled")
        .values(status="published", version=Meeting.version + 1, updated_at=func.statement_timestamp())
        .returning(Meeting)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return list(rows)


async def put_token(session: AsyncSession, mission_id: uuid.UUID, cluster_id: uuid.UUID, token_hash: str) -> None:
    stmt = insert(AgendaToken).values(mission_id=mission_id, cluster_id=cluster_id, token_hash=token_hash)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=["mission_id", "cluster_id"], set_={"token_hash": token_hash, "created_at": func.statement_timestamp()},
    ))


async def drop_token(session: AsyncSession, mission_id: uuid.UUID, cluster_id: uuid.UUID) -> bool:
    result = await session.execute(
        delete(AgendaToken).where(AgendaToken.mission_id == mission_id, AgendaToken.cluster_id == cluster_id)
        .returning(AgendaToken.cluster_id)
    )
    return result.first() is not None


async def token(session: AsyncSession, token_hash: str) -> AgendaToken | None:
    found: AgendaToken | None = await kit.one(session, select(AgendaToken).where(AgendaToken.token_hash == token_hash))
    return found


async def participant_ids(session: AsyncSession, mission_id: uuid.UUID) -> list[uuid.UUID]:
    stmt = select(MissionParticipant.cluster_id).where(MissionParticipant.mission_id == mission_id)
    return list(await session.scalars(stmt))


async def cluster(session: AsyncSession, cluster_id: uuid.UUID) -> Cluster | None:
    return await session.get(Cluster, cluster_id)


def _count(model: type[Base], mission_column: InstrumentedAttribute[uuid.UUID] | InstrumentedAttribute[uuid.UUID | None], missions: Select[uuid.UUID],
           *conditions: ColumnElement[bool]) -> ScalarSelect[int]:
    return select(func.count()).select_from(model).where(mission_column.in_(missions), *conditions).scalar_subquery()


async def funnel(session: AsyncSession, missions: Select[uuid.UUID]) -> dict[str, int]:
    """From participation to agreement, over the missions selected: participants, requests
    made, accepted (still), meetings scheduled (any status), held, and agreements signed at them."""
    stmt = select(
        _count(MissionParticipant, MissionParticipant.mission_id, missions).label("participants"),
        _count(MeetingRequest, MeetingRequest.mission_id, missions).label("requests"),
        _count(MeetingRequest, MeetingRequest.mission_id, missions, MeetingRequest.status == "accepted").label("accepted"),
        _count(Meeting, Meeting.mission_id, missions).label("scheduled"),
        _count(Meeting, Meeting.mission_id, missions, Meeting.status == "held").label("held"),
        _count(Agreement, Agreement.mission_id, missions, Agreement.status == "signed").label("agreements"),
    )
    return dict((await session.execute(stmt)).one()._mapping)


def one_mission(mission_id: uuid.UUID) -> Select[uuid.UUID]:
    return select(Mission.id).where(Mission.id == mission_id)


def organised_by_partnership(partnership_id: uuid.UUID) -> Select[uuid.UUID]:
    return select(MissionOrganiser.mission_id).where(MissionOrganiser.partnership_id == partnership_id)


async def signed_agreements(session: AsyncSession, mission_id: uuid.UUID) -> int:
    stmt = select(func.count()).where(Agreement.mission_id == mission_id, Agreement.status == "signed")
    return int(await session.scalar(stmt) or 0)
