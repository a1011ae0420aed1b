"""Shapes of the meeting setup, availability, meeting requests, meetings and agendas."""

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)

from service.clusters.schemas import ClusterRefOut
from service.kit.schemas import InputModel, OutputModel
from service.kit.types import SLUG_PATTERN, LongText

RequestStatus = Literal["pending", "accepted", "declined", "withdrawn"]
MeetingStatus = Literal["scheduled", "published", "held", "no-show"]
# A cluster by id or slug: both are letters, digits and hyphens.
Reference = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9-]+$")]
SessionName = Annotated[str, Field(min_length=1, max_length=40, pattern=SLUG_PATTERN, examples=["day-1-morning"])]

LOCAL_DATETIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"
_LOCAL_DATETIME_SCHEMA = {
    "type": "string", "pattern": LOCAL_DATETIME_PATTERN, "examples": ["2030-06-11T09:00"],
    "description": "Local date and time in the mission's `timezone`, without offset.",
}


def _local_datetime(value: object) -> object:
    # Offsets are refused, not converted: a session is planned in the mission's local time.
    if isinstance(value, str) and not re.fullmatch(LOCAL_DATETIME_PATTERN, value):
        raise ValueError("give a local date and time as YYYY-MM-DDTHH:MM, without offset (the mission's timezone applies)")
    return value


def _plannable(value: datetime) -> datetime:
    if not 2000 <= value.year <= 2100:
        raise ValueError("the year must be between 2000 and 2100")
    return value.replace(second=0, microsecond=0)


LocalDateTime = Annotated[
    datetime, BeforeValidator(_local_datetime), AfterValidator(_plannable), WithJsonSchema(_LOCAL_DATETIME_SCHEMA),
]
LocalDateTimeOut = Annotated[
    datetime, PlainSerializer(lambda v: v.strftime("%Y-%m-%dT%H:%M:%S"), return_type=str),
    WithJsonSchema(_LOCAL_DATETIME_SCHEMA),
]


class SessionIn(InputModel):
    name: SessionName
    starts_at: LocalDateTime
    ends_at: LocalDateTime

    @model_validator(mode="after")
    def _ordered(self) -> "SessionIn":
        if self.ends_at <= self.starts_at:
            raise ValueError("a session ends after it starts")
        if (self.ends_at - self.starts_at).days >= 1:
            raise ValueError("a session lasts less than a day")
        return self


class MeetingSetupIn(InputModel):
    meeting_minutes: int = Field(ge=5, le=480, description="Length of one meeting, and so of one slot.")
    tables: int = Field(ge=1, le=10_000, description="Meetings that can run at once.")
    sessions: list[SessionIn] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _distinct(self) -> "MeetingSetupIn":
        names = [s.name for s in self.sessions]
        if len(set(names)) != len(names):
            raise ValueError("session names must differ")
        spans = sorted((s.starts_at, s.ends_at) for s in self.sessions)
        if any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:], strict=False)):
            raise ValueError("sessions must not overlap")
        return self


class SessionOut(OutputModel):
    name: str
    starts_at: LocalDateTimeOut
    ends_at: LocalDateTimeOut
    slots: int = Field(description="Meetings one table holds in this session.")


class MeetingSetup(OutputModel):
    meeting_minutes: int
    tables: int
    timezone: str | None = Field(description="The mission's time zone, in which every time here is local.")
    sessions: list[SessionOut]


class AvailabilityIn(InputModel):
    sessions: list[SessionName] = Field(max_length=100, description="The sessions this participant can meet in.")


class Availability(OutputModel):
    cluster: ClusterRefOut
    sessions: list[str]


class MeetingRequestIn(InputModel):
    from_: Reference = Field(alias="from", description="The asking participant (slug or id).")
    to: Reference = Field(description="The participant asked (slug or id).")
    message: LongText | None = None


class MeetingRequestPatch(InputModel):
    status: Literal["accepted", "declined", "withdrawn"]


class MeetingRequest(OutputModel):
    # `from` is a Python keyword: the field takes its name from an alias, in every dump.
    model_config = ConfigDict(from_attributes=True, serialize_by_alias=True, validate_by_name=True)

    id: uuid.UUID
    from_: ClusterRefOut = Field(alias="from")
    to: ClusterRefOut
    message: str | None
    status: RequestStatus
    created_at: datetime
    updated_at: datetime


class MeetingRequestEvent(OutputModel):
    """What the public change feed says of a meeting request: ids and status; no message,
    not even who asked whom."""

    id: uuid.UUID
    mission_id: uuid.UUID
    status: RequestStatus


class MeetingRequestQuery(InputModel):
    cluster: Reference | None = Field(None, description="Only requests this cluster sent or received.")
    status: RequestStatus | None = None


class Meeting(OutputModel):
    id: uuid.UUID
    request_id: uuid.UUID
    starts_at: LocalDateTimeOut
    ends_at: LocalDateTimeOut
    table: int
    status: MeetingStatus
    clusters: list[ClusterRefOut] = Field(description="The asking cluster, then the one asked.")


class MeetingEvent(OutputModel):
    """What the public change feed says of a meeting: ids and status; not who meets, nor when
    or where. A cancelled meeting's status is the one it had."""

    id: uuid.UUID
    mission_id: uuid.UUID
    request_id: uuid.UUID
    status: MeetingStatus


class MeetingQuery(InputModel):
    cluster: Reference | None = Field(None, description="Only this cluster's meetings.")
    status: MeetingStatus | None = None


class MeetingPatch(InputModel):
    status: Literal["held", "no-show"]


class ScheduleIn(InputModel):
    reschedule: Literal["unpublished", "all"] = Field(
        "unpublished", description="`unpublished` keeps published meetings where they are; `all` places every one anew.",
    )


class LeftOut(OutputModel):
    request_id: uuid.UUID
    clusters: list[ClusterRefOut]
    reason: str


class ScheduleResult(OutputModel):
    scheduled: int
    meetings: list[Meeting]
    left_out: list[LeftOut]
    upper_bound: int = Field(description="No schedule of these requests places more meetings.")
    optimal: bool
    seconds: float


class Published(OutputModel):
    published: int


class Agenda(OutputModel):
    cluster: ClusterRefOut
    timezone: str | None
    meetings: list[Meeting]


class AgendaToken(OutputModel):
    token: str = Field(description="Shown once; only its hash is kept. Creating a new one revokes the old.")
    url: str
    webcal: str


class SuggestionQuery(InputModel):
    cluster: Reference = Field(description="The participant to suggest meetings for.")
    limit: int = Field(20, ge=1, le=200, description="At most this many suggestions.")


class Funnel(OutputModel):
    participants: int = Field(description="Clusters taking part.")
    requests: int = Field(description="Meeting requests made, whatever became of them.")
    accepted: int = Field(description="Requests accepted (and not withdrawn since).")
    scheduled: int = Field(description="Meetings given a slot and a table.")
    held: int = Field(description="Meetings recorded as held.")
    agreements: int = Field(description="Signed agreements linked to the mission.")
