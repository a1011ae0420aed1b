import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal, Self

from pydantic import Field, model_validator

from service.clusters.schemas import ClusterRefOut
from service.kit.http import ListQuery, as_of_field, filter_values
from service.kit.language_detection import detected_language
from service.kit.languages import LanguageCode, language_field
from service.kit.schemas import InputModel, OutputModel, patch_of
from service.kit.types import (
    Count,
    CountryCode,
    LocalTime,
    LocalTimeOut,
    LongText,
    Name,
    PlanDate,
    SearchText,
    ShortText,
    Slug,
    Text,
    TimeZoneName,
    Url,
)
from service.sectors.schemas import SectorCode, sector_list

MissionKind = Literal[
    "business-mission", "trade-mission", "fact-finding", "matchmaking-event", "trade-fair",
    "inbound-mission", "study-visit",
]
Direction = Literal["outbound", "inbound"]
MissionStatus = Literal["planned", "applications-open", "applications-closed", "ongoing", "completed", "cancelled"]
Reference = Annotated[str, Text(80, min_length=1)]
Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
ExternalId = Annotated[str, Text(200, min_length=1), Field(description="Your own stable key for this record (bulk loads upsert by it).")]


class OrganisersIn(InputModel):
    clusters: list[Reference] = Field(default_factory=list, max_length=50, description="Slugs or ids of organising clusters.")
    partnerships: list[Reference] = Field(default_factory=list, max_length=50, description="Slugs or ids of organising partnerships.")
    external: Name | None = Field(None, description='An organiser outside the platform, e.g. "EU Gateway | Business Avenues".')


class Outcomes(InputModel):
    participating_smes: Count | None = None
    bilateral_meetings: Count | None = None
    business_contracts: Count | None = None
    agreements_signed: Count | None = None


class MissionCreate(InputModel):
    external_id: ExternalId | None = None
    title: Name
    kind: MissionKind
    direction: Direction = "outbound"
    destination_country: CountryCode
    destination_city: ShortText | None = None
    starts_on: PlanDate
    ends_on: PlanDate | None = Field(None, description="Last day (inclusive); defaults to starts_on.")
    start_time: LocalTime | None = Field(None, description="Local start time; needs `timezone`.")
    end_time: LocalTime | None = Field(None, description="Local end time on ends_on; needs `timezone`.")
    timezone: TimeZoneName | None = Field(None, description="IANA time zone of the times, e.g. Asia/Taipei.")
    applications_open_on: PlanDate | None = None
    application_deadline: PlanDate | None = Field(None, description="Last day to apply (inclusive, UTC).")
    sectors: list[SectorCode] = sector_list()
    organisers: OrganisersIn = Field(default_factory=OrganisersIn)
    capacity: Count | None = Field(None, description="How many participants (SMEs) can join.")
    cost_reimbursement_percent: Percent | None = None
    url: Url | None = None
    description: LongText | None = None
    language: LanguageCode | None = language_field()

    _language = detected_language("title", "description")

    cancelled: bool = False
    outcomes: Outcomes = Field(default_factory=Outcomes)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.ends_on is None:
            self.ends_on = self.starts_on
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on must not be before starts_on")
        if self.application_deadline and self.application_deadline > self.starts_on:
            raise ValueError("application_deadline must not be after starts_on")
        if self.applications_open_on and self.application_deadline and self.applications_open_on > self.application_deadline:
            raise ValueError("applications_open_on must not be after application_deadline")
        if (self.start_time is None) != (self.end_time is None):
            raise ValueError("give both start_time and end_time, or neither")
        if self.start_time is not None and self.end_time is not None:
            if self.timezone is None:
                raise ValueError("times need a timezone")
            if self.ends_on == self.starts_on and self.end_time <= self.start_time:
                raise ValueError("end_time must be after start_time")
        if len(set(self.sectors)) != len(self.sectors):
            raise ValueError("sectors must not repeat")
        return self


# patch_of builds the model at run time (every field optional); a type checker knows it
# as an InputModel, which is all that merge() and the routes rely on.
if TYPE_CHECKING:
    MissionPatch = InputModel
else:
    MissionPatch = patch_of(MissionCreate, "MissionPatch")


class PartnershipRefOut(OutputModel):
    id: uuid.UUID
    slug: str
    acronym: str
    name: str


class Organisers(OutputModel):
    clusters: list[ClusterRefOut]
    partnerships: list[PartnershipRefOut]
    external: str | None


class CalendarOrigin(OutputModel):
    source_id: uuid.UUID
    uid: str


class Mission(OutputModel):
    id: uuid.UUID
    external_id: str | None
    title: str
    kind: MissionKind
    direction: Direction
    destination_country: str
    destination_city: str | None
    starts_on: date
    ends_on: date
    start_time: LocalTimeOut | None
    end_time: LocalTimeOut | None
    timezone: str | None
    applications_open_on: date | None
    application_deadline: date | None
    sectors: list[str]
    organisers: Organisers
    capacity: int | None
    cost_reimbursement_percent: float | None
    url: str | None
    description: str | None
    language: str | None
    cancelled: bool
    status: MissionStatus = Field(description="Derived from the dates and the cancelled flag.")
    outcomes: Outcomes
    calendar: CalendarOrigin | None = Field(description="The calendar feed this mission was taken from, if any.")
    sequence: int = Field(description="Grows with every change (the iCalendar SEQUENCE).")
    created_at: datetime
    updated_at: datetime


class ParticipantIn(InputModel):
    cluster: Reference = Field(description="The participating cluster's slug or id.")
    smes: Count | None = Field(None, description="How many of its SMEs take part.")


class ParticipantPatch(InputModel):
    smes: Count | None


class Participant(OutputModel):
    cluster: ClusterRefOut
    smes: int | None
    joined_at: datetime


class MissionFilters(InputModel):
    """The filters of mission lists and calendar feeds."""

    destination: list[CountryCode] = filter_values("Destination country.")
    sector: list[SectorCode] = filter_values("Sector code; any of the given.")
    kind: list[MissionKind] = filter_values("Kind of mission.")
    status: list[MissionStatus] = filter_values("Derived status.")
    organiser: list[Slug] = filter_values("Slug of an organising cluster or partnership.")
    starts_after: PlanDate | None = Field(None, description="Starting on or after this date.")
    starts_before: PlanDate | None = Field(None, description="Starting on or before this date.")
    applications_open: bool | None = Field(None, description="true: only missions taking applications today (or on as_of).")
    as_of: PlanDate | None = as_of_field()
    q: SearchText | None = Field(None, description="Words in the title, city, organiser or description.")


class MissionQuery(ListQuery, MissionFilters):
    pass
