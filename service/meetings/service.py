"""Rules about a mission's meeting setup, availability, meeting requests and meetings.
Never commits: the request boundary does.

Who may do what: the mission's organising clusters set up sessions, schedule and record
meetings; a participant sets its own availability, asks others for meetings, and answers
(the one asked) or withdraws (the one asking) requests; a bound key reads only the requests
and meetings of its own cluster unless its cluster organises the mission. Keys that are not
bound to a cluster act for anyone, as everywhere else.
"""

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from service.access.principal import Principal, Write
from service.errors import Conflict, Forbidden, InvalidInput, NotFound
from service.kit.lookup import flush, resolve
from service.kit.repository import id_or_404, not_found, or_404
from service.meetings import feed, repository
from service.meetings.schemas import (
    Availability,
    AvailabilityIn,
    Meeting,
    MeetingPatch,
    MeetingQuery,
    MeetingRequest,
    MeetingRequestIn,
    MeetingRequestPatch,
    MeetingRequestQuery,
    MeetingSetup,
    MeetingSetupIn,
    SessionOut,
)
from service.missions import repository as missions
from service.models import Cluster, MeetingSession
from service.models import Meeting as MeetingRow
from service.models import MeetingRequest as RequestRow
from service.models import MeetingSetup as SetupRow
from service.models import Mission as MissionRow
from service.models.meeting import RECORDED_STATUSES

KIND = "mission"
# The scheduler's model grows with requests x slots: a bound keeps one setup from asking it
# for millions of variables (a large event has a few dozen slots).
MAX_SLOTS = 1000
# Meetings that have happened (or not): the schedule is history once one is recorded.
RECORDED = RECORDED_STATUSES


async def mission(session: AsyncSession, ref: str, today: date) -> MissionRow:
    row, _ = await or_404(missions.get(session, id_or_404(ref, KIND), today), KIND, ref)
    found: MissionRow = row
    return found


def organisers(row: MissionRow) -> list[uuid.UUID]:
    return [o.cluster_id for o in row.organisers if o.cluster_id]


def check_organiser(principal: Principal, row: MissionRow) -> None:
    """Only the organisers' keys (and unbound ones) change the meetings of a mission; others
    learn nothing of it, as with the mission itself."""
    if not principal.owns(organisers(row)):
        raise not_found(KIND, str(row.id))


def sees_all(principal: Principal, row: MissionRow) -> bool:
    return principal.owns(organisers(row))


async def participant(session: AsyncSession, row: MissionRow, ref: str, location: str | None = None) -> Cluster:
    """The participating cluster a reference names: 404 on a path, 422 in a body."""
    found = await resolve(session, Cluster, [ref])
    cluster: Cluster | None = found.get(ref)
    if cluster is None or not await missions.participant(session, row.id, cluster.id):
        message = f"cluster '{ref}' does not take part in mission {row.id}"
        if location:
            raise InvalidInput.field(location, message)
        raise NotFound(message[0].upper() + message[1:] + ".")
    return cluster


# Setup ------------------------------------------------------------------------------------


def slot_count(item: MeetingSession, minutes: int) -> int:
    return slot_count_of(item.starts_at, item.ends_at, minutes)


def slot_count_of(start: datetime, end: datetime, minutes: int) -> int:
    """Whole meetings that fit; the rest of a session too short for one stays unused."""
    return (end - start) // timedelta(minutes=minutes)


def slots(setup: SetupRow, items: Sequence[MeetingSession]) -> list[tuple[datetime, datetime, str]]:
    """(start, end, session name) of every slot, in time order."""
    length = timedelta(minutes=setup.meeting_minutes)
    return [
        (item.starts_at + i * length, item.starts_at + (i + 1) * length, item.name)
        for item in sorted(items, key=lambda s: s.starts_at) for i in range(slot_count(item, setup.meeting_minutes))
    ]


def _setup_schema(row: MissionRow, setup: SetupRow, items: Sequence[MeetingSession]) -> MeetingSetup:
    return MeetingSetup(
        meeting_minutes=setup.meeting_minutes, tables=setup.tables, timezone=row.timezone,
        sessions=[SessionOut(name=s.name, starts_at=s.starts_at, ends_at=s.ends_at,
                             slots=slot_count(s, setup.meeting_minutes)) for s in items],
    )


async def get_setup(session: AsyncSession, ref: str, today: date) -> MeetingSetup:
    row = await mission(session, ref, today)
    setup = await repository.setup(session, row.id)
    if setup is None:
        raise NotFound(f"Mission {row.id} has no meeting setup yet.")
    return _setup_schema(row, setup, await repository.sessions(session, row.id))


async def put_setup(session: AsyncSession, ref: str, data: MeetingSetupIn, write: Write, today: date) -> MeetingSetup:
    """Replace the setup; drafts of a schedule go with the old slots, published ones forbid it."""
    row = await mission(session, ref, today)
    check_organiser(write.principal, row)
    setup = await repository.setup(session, row.id, for_update=True)
    if setup is not None:
        write.preconditions.check(_setup_schema(row, setup, await repository.sessions(session, row.id)))
    if await repository.count_meetings(session, row.id, ("published", *RECORDED)):
        raise Conflict("Meetings of this mission are published: the sessions they are in cannot change "
                       "(schedule again with reschedule=all first, before publishing).")
    counts = [slot_count_of(s.starts_at, s.ends_at, data.meeting_minutes) for s in data.sessions]
    if 0 in counts:
        raise InvalidInput.field("body.sessions", "every session holds at least one meeting of meeting_minutes")
    if sum(counts) > MAX_SLOTS:
        raise InvalidInput.field("body.sessions", f"the sessions hold more than {MAX_SLOTS} slots; use longer meetings")
    await feed.meetings_cancelled(session, await repository.drop_meetings(session, row.id, ("scheduled",)))
    if setup is None:
        setup = SetupRow(mission_id=row.id)
        session.add(setup)
    setup.meeting_minutes, setup.tables = data.meeting_minutes, data.tables
    await flush(session)
    await repository.drop_sessions(session, row.id)
    session.add_all(MeetingSession(mission_id=row.id, **s.model_dump()) for s in data.sessions)
    await flush(session)
    return _setup_schema(row, setup, await repository.sessions(session, row.id))


async def put_availability(
    session: AsyncSession, ref: str, cluster_ref: str, data: AvailabilityIn, write: Write, today: date,
) -> Availability:
    row = await mission(session, ref, today)
    cluster = await participant(session, row, cluster_ref)
    if not write.principal.owns([cluster.id]):
        raise NotFound(f"Cluster '{cluster_ref}' does not take part in mission {row.id}.")
    names = {s.name for s in await repository.sessions(session, row.id)}
    if not names:
        raise Conflict(f"Mission {row.id} has no meeting sessions yet.")
    unknown = [n for n in data.sessions if n not in names]
    if unknown:
        raise InvalidInput.field("body.sessions", f"no such session: {', '.join(unknown)}")
    chosen = list(dict.fromkeys(data.sessions))
    await repository.put_availability(session, row.id, cluster.id, chosen)
    return Availability.model_validate({"cluster": cluster, "sessions": chosen})


# Requests ---------------------------------------------------------------------------------


def request_schema(request: RequestRow, asking: Cluster, asked: Cluster) -> MeetingRequest:
    return MeetingRequest.model_validate({
        "id": request.id, "from_": asking, "to": asked, "message": request.message, "status": request.status,
        "created_at": request.created_at, "updated_at": request.updated_at,
    })


async def create_request(session: AsyncSession, ref: str, data: MeetingRequestIn, write: Write, today: date) -> MeetingRequest:
    row = await mission(session, ref, today)
    asking = await participant(session, row, data.from_, "body.from")
    asked = await participant(session, row, data.to, "body.to")
    if asking.id == asked.id:
        raise InvalidInput.field("body.to", "a cluster does not ask itself for a meeting")
    write.principal.may_create("meeting requests", [asking.id])
    if await repository.open_request_between(session, row.id, asking.id, asked.id):
        raise Conflict("A pending or accepted meeting request already joins these two clusters.")
    request = RequestRow(mission_id=row.id, from_cluster_id=asking.id, to_cluster_id=asked.id, message=data.message)
    session.add(request)
    await flush(session, duplicate="A pending or accepted meeting request already joins these two clusters.")
    await session.refresh(request)
    await feed.request_changed(session, request)
    return request_schema(request, asking, asked)


def _visible_to(principal: Principal, row: MissionRow) -> uuid.UUID | None:
    """The one cluster whose requests and meetings this principal may read (None: all)."""
    return None if sees_all(principal, row) else principal.cluster_id


def _filters(principal: Principal, row: MissionRow, wanted: uuid.UUID | None) -> list[uuid.UUID]:
    """The clusters a listed request or meeting must involve: the one asked for, and the
    reader's own unless it sees all (a filter narrows the view, never widens it)."""
    return [c for c in {wanted, _visible_to(principal, row)} if c is not None]


async def list_requests(
    session: AsyncSession, ref: str, query: MeetingRequestQuery, principal: Principal, today: date,
) -> list[MeetingRequest]:
    row = await mission(session, ref, today)
    wanted = (await participant(session, row, query.cluster, "query.cluster")).id if query.cluster else None
    found = await repository.requests(session, row.id, clusters=_filters(principal, row, wanted), status=query.status)
    return [request_schema(*r) for r in found]


def _request_not_found(ref: str) -> NotFound:
    return NotFound(f"There is no meeting request '{ref}' at this mission.")


async def get_request(session: AsyncSession, ref: str, request_ref: str, principal: Principal, today: date) -> MeetingRequest:
    row = await mission(session, ref, today)
    found = await repository.request(session, row.id, id_or_404(request_ref, "meeting request"))
    own = _visible_to(principal, row)
    if found is None or (own is not None and own not in (found[0].from_cluster_id, found[0].to_cluster_id)):
        raise _request_not_found(request_ref)
    return request_schema(*found)


# (from, to) -> who may make it: the one asked answers, the one asking withdraws.
TRANSITIONS = {
    ("pending", "accepted"): "asked", ("pending", "declined"): "asked",
    ("pending", "withdrawn"): "asking", ("accepted", "withdrawn"): "asking",
}


async def update_request(
    session: AsyncSession, ref: str, request_ref: str, data: MeetingRequestPatch, write: Write, today: date,
) -> MeetingRequest:
    row = await mission(session, ref, today)
    found = await repository.request(session, row.id, id_or_404(request_ref, "meeting request"), for_update=True)
    if found is None:
        raise _request_not_found(request_ref)
    request, asking, asked = found
    write.check(request_schema(*found), [asking.id, asked.id], _request_not_found(request_ref))
    side = TRANSITIONS.get((request.status, data.status))
    if side is None:
        raise Conflict(f"A {request.status} meeting request cannot become {data.status}.")
    if not write.principal.owns([asked.id if side == "asked" else asking.id]):
        raise Forbidden(f"Only the cluster {side} may make a request {data.status}.")
    if data.status == "withdrawn":
        await _cancel_meeting(session, request)
    request.status = data.status
    await flush(session)
    await feed.request_changed(session, request)
    return request_schema(request, asking, asked)


async def _cancel_meeting(session: AsyncSession, request: RequestRow) -> None:
    meeting = await repository.meeting_of_request(session, request.id)
    if meeting is not None and meeting.status in RECORDED:
        raise Conflict("The meeting of this request is recorded as held or no-show; it can no longer be withdrawn.")
    if meeting is not None:
        await feed.meetings_cancelled(session, [meeting])
        await session.delete(meeting)


# Meetings ---------------------------------------------------------------------------------


def meeting_schema(meeting: MeetingRow, request: RequestRow, asking: Cluster, asked: Cluster) -> Meeting:
    return Meeting.model_validate({
        "id": meeting.id, "request_id": request.id, "starts_at": meeting.starts_at, "ends_at": meeting.ends_at,
        "table": meeting.table_number, "status": meeting.status, "clusters": [asking, asked],
    })


async def list_meetings(session: AsyncSession, ref: str, query: MeetingQuery, principal: Principal, today: date) -> list[Meeting]:
    row = await mission(session, ref, today)
    wanted = (await participant(session, row, query.cluster, "query.cluster")).id if query.cluster else None
    statuses = [query.status] if query.status else None
    found = await repository.meetings(session, row.id, clusters=_filters(principal, row, wanted), statuses=statuses)
    return [meeting_schema(*m) for m in found]


# (from, to) the organiser may record after the event; held and no-show correct each other.
RECORDINGS = {("published", "held"), ("published", "no-show"), ("held", "no-show"), ("no-show", "held")}


async def update_meeting(session: AsyncSession, ref: str, meeting_ref: str, data: MeetingPatch, write: Write,
                         today: date) -> Meeting:
    row = await mission(session, ref, today)
    missing = NotFound(f"There is no meeting '{meeting_ref}' at this mission.")
    found = await repository.meeting(session, row.id, id_or_404(meeting_ref, "meeting"), for_update=True)
    if found is None:
        raise missing
    write.check(meeting_schema(*found), organisers(row), missing)
    meeting = found[0]
    if meeting.status != data.status and (meeting.status, data.status) not in RECORDINGS:
        raise Conflict(f"A {meeting.status} meeting cannot be marked {data.status} (publish the schedule first).")
    if meeting.status != data.status:
        meeting.status = data.status
        await flush(session)
        await feed.meetings_became(session, meeting.status, [meeting])
    # Once meetings are recorded the outcomes are counted, not typed in.
    row.bilateral_meetings = await repository.count_meetings(session, row.id, ("held",))
    row.agreements_signed = await repository.signed_agreements(session, row.id)
    await flush(session)
    return meeting_schema(*found)
