"""The change-feed events of meeting requests and meetings, written in the changing transaction.

The feed (and every webhook) is read by any key, while who meets whom, and when, is for the
mission's organisers and the two clusters only: so the events say what happened to which
request or meeting of which mission, and nothing else (no message, no clusters, no slot). A
reader that may see more reads the request or meeting by its id.
"""

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from service.events import service as events
from service.events.schemas import EventType
from service.meetings.schemas import MeetingEvent, MeetingRequestEvent
from service.models import Meeting as MeetingRow
from service.models import MeetingRequest as RequestRow

REQUEST_EVENTS: dict[str, EventType] = {
    "pending": "meeting_request.created", "accepted": "meeting_request.accepted",
    "declined": "meeting_request.declined", "withdrawn": "meeting_request.withdrawn",
}
# A meeting's status as it becomes it; `no-show` is spelled as event types are (a word each).
MEETING_EVENTS: dict[str, EventType] = {
    "scheduled": "meeting.scheduled", "published": "meeting.published",
    "held": "meeting.held", "no-show": "meeting.no_show",
}
CANCELLED: EventType = "meeting.cancelled"


async def request_changed(session: AsyncSession, request: RequestRow) -> None:
    """The event of a request's creation or answer (its status says which)."""
    data = MeetingRequestEvent(id=request.id, mission_id=request.mission_id, status=request.status)
    await events.record(session, REQUEST_EVENTS[request.status], data, version=request.version)


def _event(meeting: MeetingRow) -> MeetingEvent:
    return MeetingEvent(id=meeting.id, mission_id=meeting.mission_id, request_id=meeting.request_id, status=meeting.status)


async def meetings_became(session: AsyncSession, status: str, meetings: Iterable[MeetingRow]) -> None:
    """One event per meeting that became status (scheduled, published, held, no-show)."""
    await events.record_many(session, MEETING_EVENTS[status], [(_event(m), m.version) for m in meetings])


async def meetings_cancelled(session: AsyncSession, meetings: Iterable[MeetingRow]) -> None:
    """One event per meeting removed before it was recorded (a re-run of the scheduler, a new
    setup, a withdrawn request); `status` is the one it had, its version the last it had."""
    await events.record_many(session, CANCELLED, [(_event(m), m.version) for m in meetings])
