"""iCalendar feeds of missions, and the calendar sources missions are taken from."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from service.access.principal import WriteDep
from service.calendar import service
from service.calendar.schemas import (
    CalendarSource,
    CalendarSourceCreate,
    CalendarSourcePatch,
    ImportQuery,
    MissionFeedQuery,
    OneMissionFeedQuery,
    SyncReport,
)
from service.db import SessionDep
from service.errors import PayloadTooLarge, UnsupportedMediaType
from service.kit.app_state import SettingsDep
from service.kit.clock import ClockDep
from service.kit.http import conditional_body, conditional_read, created, link_next, with_etag
from service.kit.pagination import Page

CALENDAR = "text/calendar; charset=utf-8"
CALENDAR_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {"text/calendar": {"schema": {"type": "string"}}}, "description": "An RFC 5545 calendar."}}

feeds = APIRouter(prefix="/missions", tags=["missions"])
sources = APIRouter(prefix="/calendar-sources", tags=["calendar sources"])

SourceRef = Annotated[str, Path(min_length=1, max_length=80, description="The calendar source's id.")]
MissionRef = Annotated[str, Path(min_length=1, max_length=80, description="The mission's id.")]


@feeds.get(".ics", response_class=Response, responses=CALENDAR_RESPONSE, summary="Missions as an iCalendar feed")
async def missions_feed(
    session: SessionDep, clock: ClockDep, request: Request, query: Annotated[MissionFeedQuery, Query()]
) -> Response:
    """The missions the filters select (the filters of `GET /v1/missions`), up to 5,000, by
    start date. The URL is a subscription: poll it with If-None-Match."""
    body = await service.missions_calendar(session, query, query.as_of or clock.today())
    return conditional_body(request, body, CALENDAR, {"Content-Disposition": 'inline; filename="missions.ics"'})


@feeds.get("/{mission}.ics", response_class=Response, responses=CALENDAR_RESPONSE, summary="One mission as iCalendar")
async def mission_feed(
    session: SessionDep, clock: ClockDep, request: Request, mission: MissionRef,
    query: Annotated[OneMissionFeedQuery, Query()],
) -> Response:
    body = await service.mission_calendar(session, mission, clock.today(), include_deadlines="deadlines" in query.include)
    return conditional_body(request, body, CALENDAR)


FEED_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/calendar": {"schema": {"type": "string"}},
            "application/json": {
                "schema": {
                    "description": 'A JSON feed: {"events": [...]} or the list of events alone. Entries that are '
                                   "not valid events are reported in the answer's `rejected`, not refused.",
                    "oneOf": [{"type": "object", "required": ["events"]}, {"type": "array"}],
                },
            },
        },
    }
}


def _report(report: SyncReport) -> Response:
    # A report may list 10,000 rejected events: serialised by pydantic in one step, not
    # validated again and walked by the framework's encoder (a third of a second on the loop).
    return Response(report.model_dump_json(), media_type="application/json")


@feeds.post(
    "/import", openapi_extra=FEED_BODY, summary="Take in missions from an uploaded calendar", response_model=SyncReport,
    responses={
        404: {"description": "No such calendar source (`source`)."},
        415: {"description": "Not text/calendar or application/json."},
    },
)
async def import_missions(
    session: SessionDep, write: WriteDep, clock: ClockDep, settings: SettingsDep, request: Request,
    query: Annotated[ImportQuery, Query()],
) -> Response:
    """Upsert missions by event UID: text/calendar (RFC 5545) or application/json (a JSON feed)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    formats = {"text/calendar": "ics", "application/json": "json"}
    if media_type not in formats:
        raise UnsupportedMediaType("Send text/calendar or application/json.")
    limit = settings.calendar.max_feed_bytes
    content = bytearray()
    async for chunk in request.stream():
        content += chunk
        if len(content) > limit:
            raise PayloadTooLarge(f"The calendar is larger than {limit} bytes.")
    return _report(await service.import_feed(
        session, bytes(content), formats[media_type], query.source, settings.calendar, clock, write
    ))


@sources.get("", summary="List calendar sources")
async def list_calendar_sources(
    session: SessionDep, request: Request, response: Response, query: Annotated[service.CalendarSourceListQuery, Query()]
) -> Page[CalendarSource]:
    page = await service.list_page(session, query)
    link_next(request, response, page.next_cursor)
    return page


@sources.post("", status_code=201, summary="Register a calendar feed to take missions from")
async def create_calendar_source(
    session: SessionDep, write: WriteDep, settings: SettingsDep, response: Response, body: CalendarSourceCreate
) -> CalendarSource:
    """The URL must be http or https and its host resolve to public addresses only (422 otherwise)."""
    source = await service.create(session, body, settings.calendar, write)
    created(response, f"/v1/calendar-sources/{source.id}", source)
    return source


@sources.get("/{source}", response_model=CalendarSource, summary="Get a calendar source and its last sync report")
async def get_calendar_source(session: SessionDep, request: Request, response: Response, source: SourceRef) -> Response:
    return conditional_read(request, response, await service.get(session, source))


@sources.patch("/{source}", summary="Change a calendar source")
async def update_calendar_source(
    session: SessionDep, write: WriteDep, settings: SettingsDep, response: Response, source: SourceRef,
    body: CalendarSourcePatch,
) -> CalendarSource:
    changed = await service.update(session, source, body, settings.calendar, write)
    with_etag(response, changed)
    return changed


@sources.delete("/{source}", status_code=204, summary="Delete a calendar source that no mission came from")
async def delete_calendar_source(session: SessionDep, write: WriteDep, source: SourceRef) -> None:
    await service.delete(session, source, write)


@sources.post("/{source}/sync", summary="Fetch the feed now and apply it", response_model=SyncReport)
async def sync_calendar_source(
    session: SessionDep, write: WriteDep, clock: ClockDep, settings: SettingsDep, source: SourceRef
) -> Response:
    return _report(await service.sync_source(session, source, settings.calendar, clock, write))
