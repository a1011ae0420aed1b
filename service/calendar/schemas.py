import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

from service.clusters.schemas import ClusterRefOut
from service.kit.http import ListQuery
from service.kit.schemas import InputModel, OutputModel, patch_of
from service.kit.types import CountryCode, Name, Text, Url
from service.missions.schemas import MissionFilters, MissionKind, Reference
from service.sectors.schemas import SectorCode, sector_list

FeedFormat = Literal["ics", "json"]


MIN_SYNC_INTERVAL, MAX_SYNC_INTERVAL = timedelta(minutes=5), timedelta(days=7)


def _duration_text(value: object) -> object:
    # pydantic also reads a number as seconds; the document says a duration string, so only that is taken.
    if not isinstance(value, str | timedelta):
        raise ValueError("expected an ISO 8601 duration such as PT6H")
    return value


def _within_bounds(value: timedelta) -> timedelta:
    # Checked here, not by Field(ge=, le=): those would reach the OpenAPI document as keywords
    # JSON Schema does not have.
    if not MIN_SYNC_INTERVAL <= value <= MAX_SYNC_INTERVAL:
        raise ValueError("a sync interval is from PT5M to P7D")
    return value


SyncInterval = Annotated[timedelta, BeforeValidator(_duration_text), AfterValidator(_within_bounds)]


class CalendarSourceCreate(InputModel):
    url: Url = Field(description="Where the feed is fetched from (http or https).")
    format: FeedFormat = "ics"
    organiser: Name | None = Field(None, description='Who publishes it, e.g. "EU Gateway | Business Avenues"; organiser of its missions.')
    cluster: Reference | None = Field(
        None, description="Slug or id of the owning cluster: the organising cluster of its missions. A key bound to a "
                          "cluster registers sources of its own cluster only (the default for it); unbound keys may name "
                          "any cluster, or none.",
    )
    default_kind: MissionKind = Field("business-mission", description="Kind of missions whose event does not say.")
    default_sectors: list[SectorCode] = sector_list("Sectors of missions whose event does not say.")
    default_country: CountryCode | None = Field(None, description="Destination when an event's LOCATION names no country.")
    sync_interval: SyncInterval | None = Field(
        None, description="Sync the source this long after its last sync: an ISO 8601 duration from PT5M to P7D, "
                          "e.g. PT6H. Null: only when asked (`POST /v1/calendar-sources/{source}/sync`).",
    )


if TYPE_CHECKING:
    CalendarSourcePatch = InputModel
else:
    CalendarSourcePatch = patch_of(CalendarSourceCreate, "CalendarSourcePatch")


class Rejected(BaseModel):
    uid: str | None
    reason: str


class SyncReport(BaseModel):
    source_id: uuid.UUID | None = Field(description="The source synced; null for an upload without source.")
    not_modified: bool = Field(False, description="The feed answered 304: nothing to apply.")
    created: int = 0
    updated: int = 0
    cancelled: int = 0
    unchanged: int = 0
    rejected: list[Rejected] = Field(default_factory=list)
    synced_at: datetime


class CalendarSource(OutputModel):
    id: uuid.UUID
    url: str
    format: FeedFormat
    organiser: str | None
    cluster: ClusterRefOut | None
    default_kind: MissionKind
    default_sectors: list[str]
    default_country: str | None
    sync_interval: timedelta | None = Field(description="How long after its last sync the source is synced again; null: only when asked.")
    last_synced_at: datetime | None
    last_report: SyncReport | None
    created_at: datetime
    updated_at: datetime


class CalendarSourceQuery(ListQuery):
    pass


class OneMissionFeedQuery(InputModel):
    include: list[Literal["deadlines"]] = Field(
        default_factory=list, max_length=1, description="`deadlines` adds an all-day event on each application deadline."
    )


class MissionFeedQuery(MissionFilters, OneMissionFeedQuery):
    """The filters of `GET /v1/missions`, and what a feed may include."""


class ImportQuery(InputModel):
    source: Annotated[str, Text(80, min_length=1)] | None = Field(
        None, description="Apply as this source's full feed (missing events get cancelled)."
    )
