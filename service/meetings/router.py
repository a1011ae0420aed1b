"""Bilateral meetings at a mission: setup, availability, requests, scheduling, agendas."""

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel

from service.access.principal import Principal, WriteDep, requires
from service.db import SessionDep
from service.kit.app_state import SessionmakerDep, SettingsDep
from service.kit.clock import ClockDep
from service.kit.http import conditional_body, conditional_read, created, with_etag
from service.kit.lookup import Ref
from service.kit.pagination import Page
from service.matching.schemas import Match
from service.meetings import agenda, insights, scheduling, service
from service.meetings.schemas import (
    Agenda,
    AgendaToken,
    Availability,
    AvailabilityIn,
    Funnel,
    Meeting,
    MeetingPatch,
    MeetingQuery,
    MeetingRequest,
    MeetingRequestIn,
    MeetingRequestPatch,
    MeetingRequestQuery,
    MeetingSetup,
    MeetingSetupIn,
    Published,
    ScheduleIn,
    ScheduleResult,
    SuggestionQuery,
)

router = APIRouter(prefix="/missions", tags=["meetings"])
partnerships = APIRouter(prefix="/partnerships", tags=["meetings"])
# The agenda feed: its token is the credential, so it is mounted without the read-key rule.
feeds = APIRouter(prefix="/agendas", tags=["meetings"])

MissionRef = Annotated[str, Path(min_length=1, max_length=80, description="The mission's id.")]
ClusterRef = Annotated[str, Path(min_length=1, max_length=80, description="The participating cluster's id or slug.")]
RequestRef = Annotated[str, Path(min_length=1, max_length=80, description="The meeting request's id.")]
MeetingRef = Annotated[str, Path(min_length=1, max_length=80, description="The meeting's id.")]
Model = TypeVar("Model", bound=BaseModel)


def _tagged(response: Response, representation: Model) -> Model:
    """The representation, its ETag set on the response."""
    with_etag(response, representation)
    return representation


Reader = Annotated[Principal, Depends(requires("read"))]
CALENDAR = "text/calendar; charset=utf-8"
CALENDAR_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {"text/calendar": {"schema": {"type": "string"}}}, "description": "An RFC 5545 calendar."}}


@router.get("/{mission}/meeting-setup", response_model=MeetingSetup, summary="The mission's meeting sessions, length and tables")
async def get_meeting_setup(
    session: SessionDep, clock: ClockDep, request: Request, response: Response, mission: MissionRef,
) -> Response:
    return conditional_read(request, response, await service.get_setup(session, mission, clock.today()))


@router.put("/{mission}/meeting-setup", summary="Set the meeting sessions, length and tables (organisers)")
async def put_meeting_setup(
    session: SessionDep, write: WriteDep, clock: ClockDep, response: Response, mission: MissionRef, body: MeetingSetupIn,
) -> MeetingSetup:
    """Sessions are local times in the mission's timezone, each cut into slots of
    `meeting_minutes`. Replacing the setup drops an unpublished schedule; once meetings are
    published it answers 409."""
    return _tagged(response, await service.put_setup(session, mission, body, write, clock.today()))


@router.put("/{mission}/participants/{cluster}/availability", summary="Set the sessions a participant can meet in")
async def put_availability(
    session: SessionDep, write: WriteDep, clock: ClockDep, mission: MissionRef, cluster: ClusterRef, body: AvailabilityIn,
) -> Availability:
    """A participant that never sets its availability can meet in every session."""
    return await service.put_availability(session, mission, cluster, body, write, clock.today())


@router.post("/{mission}/meeting-requests", status_code=201, summary="Ask another participant for a meeting")
async def create_meeting_request(
    session: SessionDep, write: WriteDep, clock: ClockDep, response: Response, mission: MissionRef, body: MeetingRequestIn,
) -> MeetingRequest:
    made = await service.create_request(session, mission, body, write, clock.today())
    created(response, f"/v1/missions/{mission}/meeting-requests/{made.id}", made)
    return made


@router.get("/{mission}/meeting-requests", summary="Meeting requests (organisers: all; a participant: its own)")
async def list_meeting_requests(
    session: SessionDep, reader: Reader, clock: ClockDep, mission: MissionRef,
    query: Annotated[MeetingRequestQuery, Query()],
) -> Page[MeetingRequest]:
    items = await service.list_requests(session, mission, query, reader, clock.today())
    return Page[MeetingRequest](items=items, next_cursor=None)


@router.get("/{mission}/meeting-requests/{meeting_request}", response_model=MeetingRequest, summary="Get a meeting request")
async def get_meeting_request(
    session: SessionDep, reader: Reader, clock: ClockDep, request: Request, response: Response, mission: MissionRef,
    meeting_request: RequestRef,
) -> Response:
    found = await service.get_request(session, mission, meeting_request, reader, clock.today())
    return conditional_read(request, response, found)


@router.patch("/{mission}/meeting-requests/{meeting_request}", summary="Accept, decline or withdraw a meeting request")
async def update_meeting_request(
    session: SessionDep, write: WriteDep, clock: ClockDep, response: Response, mission: MissionRef,
    meeting_request: RequestRef, body: MeetingRequestPatch,
) -> MeetingRequest:
    """The cluster asked accepts or declines a pending request; the asking cluster withdraws
    a pending or accepted one (its meeting, if scheduled, goes with it). Others: 409."""
    changed = await service.update_request(session, mission, meeting_request, body, write, clock.today())
    return _tagged(response, changed)


@router.post("/{mission}/schedule", summary="Schedule the accepted meetings (organisers)")
async def schedule_meetings(
    sessionmaker: SessionmakerDep, write: WriteDep, clock: ClockDep, settings: SettingsDep, mission: MissionRef,
    body: ScheduleIn | None = None,
) -> ScheduleResult:
    """Gives each accepted request a slot and a table: no cluster has two meetings at once,
    no table holds two, both clusters are available. As many as possible are placed; each one
    left out comes with the reason. Published meetings stay where they are unless
    `reschedule` is `all`. If the requests, availability, setup or meetings change while the
    schedule is made (or another run writes first), nothing is written and it answers 409:
    schedule again. No session of the request's own: the search holds no database connection."""
    return await scheduling.run(sessionmaker, mission, body or ScheduleIn(), write, settings.meetings, clock.today())


@router.post("/{mission}/schedule/publish", summary="Publish the scheduled meetings (organisers)")
async def publish_schedule(session: SessionDep, write: WriteDep, clock: ClockDep, mission: MissionRef) -> Published:
    return await scheduling.publish(session, mission, write, clock.today())


@router.get("/{mission}/meetings", summary="Meetings (organisers: all; a participant: its own)")
async def list_meetings(
    session: SessionDep, reader: Reader, clock: ClockDep, mission: MissionRef, query: Annotated[MeetingQuery, Query()],
) -> Page[Meeting]:
    items = await service.list_meetings(session, mission, query, reader, clock.today())
    return Page[Meeting](items=items, next_cursor=None)


@router.patch("/{mission}/meetings/{meeting}", summary="Record a published meeting as held or no-show (organisers)")
async def update_meeting(
    session: SessionDep, write: WriteDep, clock: ClockDep, response: Response, mission: MissionRef, meeting: MeetingRef,
    body: MeetingPatch,
) -> Meeting:
    """The mission's `bilateral_meetings` outcome follows: the number of meetings held."""
    return _tagged(response, await service.update_meeting(session, mission, meeting, body, write, clock.today()))


@router.get("/{mission}/participants/{cluster}/agenda", response_model=Agenda, summary="A participant's agenda (its keys)")
async def get_agenda(
    session: SessionDep, reader: Reader, clock: ClockDep, request: Request, response: Response, mission: MissionRef,
    cluster: ClusterRef,
) -> Response:
    return conditional_read(request, response, await agenda.get(session, mission, cluster, reader, clock.today()))


@router.post("/{mission}/participants/{cluster}/agenda-token", status_code=201,
             summary="Create or rotate the agenda's iCalendar feed address")
async def create_agenda_token(
    session: SessionDep, write: WriteDep, clock: ClockDep, request: Request, mission: MissionRef, cluster: ClusterRef,
) -> AgendaToken:
    """The answer holds the only copy of the token. A new one revokes the previous."""
    return await agenda.new_token(session, mission, cluster, write, str(request.base_url), clock.today())


@router.delete("/{mission}/participants/{cluster}/agenda-token", status_code=204,
               summary="Revoke the agenda's iCalendar feed address")
async def revoke_agenda_token(session: SessionDep, write: WriteDep, clock: ClockDep, mission: MissionRef,
                              cluster: ClusterRef) -> None:
    await agenda.revoke(session, mission, cluster, write, clock.today())


@router.get("/{mission}/suggested-meetings", summary="Other participants ranked as partners for one, with reasons")
async def suggest_meetings(
    session: SessionDep, clock: ClockDep, mission: MissionRef, query: Annotated[SuggestionQuery, Query()],
) -> Page[Match]:
    """Scored as `GET /v1/clusters/{cluster}/matches` scores partners, among the mission's
    other participants only."""
    items = await insights.suggestions(session, mission, query, clock.today())
    return Page[Match](items=items, next_cursor=None)


@router.get("/{mission}/funnel", summary="From participants to meetings held and agreements signed")
async def mission_funnel(session: SessionDep, clock: ClockDep, mission: MissionRef) -> Funnel:
    return await insights.mission_funnel(session, mission, clock.today())


@partnerships.get("/{partnership}/funnel", summary="The meetings funnel over the missions a partnership organises")
async def partnership_funnel(session: SessionDep, partnership: Ref) -> Funnel:
    return await insights.partnership_funnel(session, partnership)


@feeds.get("/{token}.ics", response_class=Response, responses=CALENDAR_RESPONSE, summary="An agenda as iCalendar")
async def agenda_feed(
    session: SessionDep, clock: ClockDep, request: Request,
    token: Annotated[str, Path(min_length=1, max_length=100, description="The agenda's secret feed token.")],
) -> Response:
    body = await agenda.feed(session, token, clock.today())
    return conditional_body(request, body, CALENDAR, {"Content-Disposition": 'inline; filename="agenda.ics"'})
