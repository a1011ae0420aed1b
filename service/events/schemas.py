from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field

from service.kit.http import MAX_PAGE_SIZE
from service.kit.schemas import InputModel

# Every type an event can have: `<resource>.<created|updated|deleted>`, an interest's and a
# meeting request's answers, what becomes of a mission's meetings, and the alerts.
EventType = Literal[
    "cluster.created", "cluster.updated", "cluster.deleted",
    "partnership.created", "partnership.updated", "partnership.deleted",
    "mission.created", "mission.updated", "mission.deleted",
    "agreement.created", "agreement.updated", "agreement.deleted",
    "opportunity.created", "opportunity.updated", "opportunity.deleted",
    "interest.created", "interest.accepted", "interest.declined", "interest.withdrawn",
    "meeting_request.created", "meeting_request.accepted", "meeting_request.declined", "meeting_request.withdrawn",
    "meeting.scheduled", "meeting.published", "meeting.held", "meeting.no_show", "meeting.cancelled",
    "saved_search.matched",
]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)


class Event(BaseModel):
    """A change, as the change feed lists it and as webhooks deliver it."""

    id: str = Field(description="The event's id: unique, and the same in the feed and in every delivery of it.")
    type: EventType = Field(description="What happened, e.g. `opportunity.created`, `mission.updated`, `cluster.deleted`.",
                      examples=["opportunity.created"])
    resource_id: str = Field(description="The id of the resource that changed.")
    resource_version: int | None = Field(description="Its version after the change (grows with every update).")
    timestamp: datetime = Field(description="When the change was made.")
    data: dict[str, Any] = Field(description="The resource as it was after the change (as its GET answers); "
                                             "for a deletion, as it was before.")


class EventPage(BaseModel):
    items: list[Event]
    next_cursor: str = Field(
        description="Where to continue: pass it as `after` for the events that follow, now or later (always given; "
        "at the end of the feed it marks the end, and polling with it returns only newer events)."
    )


class EventQuery(InputModel):
    after: str | None = Field(None, max_length=1000, description="`next_cursor` of a previous page; none: from the first event kept.")
    type: list[EventType] = Field(
        default_factory=list, max_length=len(EVENT_TYPES),
        description="Only events of these types (repeat the parameter for several).",
    )
    limit: int = Field(100, ge=1, le=MAX_PAGE_SIZE, description="Events per page.")
