import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Literal, Self

from pydantic import Field, model_validator

from service.clusters.schemas import ClusterRefOut, TargetMarketRef, target_market_list
from service.kit.http import ListQuery, filter_values
from service.kit.language_detection import detected_language
from service.kit.languages import LanguageCode, language_field
from service.kit.schemas import InputModel, OutputModel, patch_of
from service.kit.types import CountryCode, LongText, Name, PlanDate, SearchText, Slug, Text, Url
from service.sectors.schemas import SectorCode, sector_list

Programme = Literal["escp-4i", "escp-s3", "other"]
Role = Literal["coordinator", "partner"]
ESCP_STRANDS = ("strand-1", "strand-2", "voluntary")
GenerationNumber = Annotated[int, Field(ge=1, le=20, description="Call generation within the programme (ESCP-4i: 1 or 2).")]


class MemberIn(InputModel):
    cluster: Annotated[str, Text(80, min_length=1)] = Field(description="The member cluster's slug or id.")
    role: Role = "partner"


class MemberPatch(InputModel):
    role: Role


class PartnershipCreate(InputModel):
    slug: Slug
    acronym: Annotated[str, Text(120, min_length=1)]
    name: Name
    programme: Programme
    generation: GenerationNumber | None = None
    strand: Annotated[str, Text(120)] | None = Field(
        None, description="`strand-1`, `strand-2` or `voluntary` for ESCP programmes; free text for others."
    )
    period_start: PlanDate | None = None
    period_end: PlanDate | None = None
    objectives: LongText | None = None
    language: LanguageCode | None = language_field()

    _language = detected_language("name", "objectives")

    activities: list[Annotated[str, Text(2000)]] = Field(default_factory=list, max_length=100)
    website: Url | None = None
    sectors: list[SectorCode] = sector_list()
    target_markets: list[TargetMarketRef] = target_market_list()
    members: list[MemberIn] = Field(default_factory=list, max_length=500)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.programme != "other" and self.strand is not None and self.strand not in ESCP_STRANDS:
            raise ValueError(f"strand of an {self.programme} partnership must be one of {', '.join(ESCP_STRANDS)}")
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValueError("period_end must not be before period_start")
        if len({s for s in self.sectors}) != len(self.sectors):
            raise ValueError("sectors must not repeat")
        if len({m.country for m in self.target_markets}) != len(self.target_markets):
            raise ValueError("target market countries must not repeat")
        if len({m.cluster for m in self.members}) != len(self.members):
            raise ValueError("a cluster can be a member only once")
        return self


# patch_of builds the model at run time (every field optional); a type checker knows it
# as an InputModel, which is all that merge() and the routes rely on.
if TYPE_CHECKING:
    PartnershipPatch = InputModel
else:
    PartnershipPatch = patch_of(PartnershipCreate, "PartnershipPatch")


class Member(OutputModel):
    cluster: ClusterRefOut
    role: Role
    joined_at: datetime


class Partnership(OutputModel):
    id: uuid.UUID
    slug: str
    acronym: str
    name: str
    programme: Programme
    generation: int | None
    strand: str | None
    period_start: date | None
    period_end: date | None
    objectives: str | None
    language: str | None
    activities: list[str]
    website: str | None
    sectors: list[str]
    target_markets: list[TargetMarketRef]
    members: list[Member]
    created_at: datetime
    updated_at: datetime


class PartnershipQuery(ListQuery):
    programme: list[Programme] = filter_values("`escp-4i`, `escp-s3` or `other`.")
    generation: list[GenerationNumber] = filter_values("Generation number.")
    strand: list[Annotated[str, Text(120)]] = filter_values("Strand, e.g. `strand-1`.")
    sector: list[SectorCode] = filter_values("Sector code; any of the given.")
    target_market: list[CountryCode] = filter_values("A targeted country.")
    cluster: list[Slug] = filter_values("Slug of a member cluster.")
    q: SearchText | None = Field(None, description="Words in the acronym, name or objectives.")
