import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

from pydantic import Field, model_validator

from service.kit.countries import nuts_prefix
from service.kit.http import ListQuery, filter_values
from service.kit.language_detection import detected_language
from service.kit.languages import LanguageCode, language_field
from service.kit.schemas import InputModel, OutputModel, patch_of
from service.kit.types import (
    Count,
    CountryCode,
    Email,
    LongText,
    Name,
    NutsCode,
    Priority,
    SearchText,
    ShortText,
    Slug,
    Text,
    Url,
    Year,
)
from service.sectors.schemas import SectorCode, sector_list

Label = Literal["gold", "silver", "bronze", "none"]


class Region(InputModel):
    code: NutsCode = Field(description="NUTS code, e.g. `FR10`; Greek codes start with EL, British with UK.")
    name: Annotated[str, Text(300)] | None = None
    nuts_version: Literal["2013", "2016", "2021", "2024"] = Field("2021", description="NUTS classification the code belongs to.")


class TargetMarketRef(InputModel):
    country: CountryCode
    priority: Priority | None = None


def target_market_list() -> Any:
    return Field(default_factory=list, max_length=250, description="Third countries targeted, each with an optional priority (1 highest).")


def _unique(values: list[str], what: str) -> None:
    if len(set(values)) != len(values):
        raise ValueError(f"{what} must not repeat")


class ClusterCreate(InputModel):
    slug: Slug = Field(description="Unique, URL-friendly name, e.g. `opticsvalley`.")
    name: Name
    acronym: ShortText | None = None
    country: CountryCode
    region: Region | None = None
    city: ShortText | None = None
    website: Url | None = None
    email: Email | None = None
    description: LongText | None = None
    language: LanguageCode | None = language_field()

    _language = detected_language("name", "description")

    sectors: list[SectorCode] = sector_list()
    member_count: Count | None = None
    sme_count: Count | None = None
    label: Label = Field("none", description="European Cluster Excellence label.")
    founded_year: Year | None = None
    target_markets: list[TargetMarketRef] = target_market_list()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _unique(self.sectors, "sectors")
        _unique([m.country for m in self.target_markets], "target market countries")
        if self.region and not self.region.code.startswith(nuts_prefix(self.country)):
            raise ValueError(f"region {self.region.code} is not a NUTS region of {self.country}")
        if self.sme_count is not None and self.member_count is not None and self.sme_count > self.member_count:
            raise ValueError("sme_count cannot exceed member_count")
        return self


# patch_of builds the model at run time (every field optional); a type checker knows it
# as an InputModel, which is all that merge() and the routes rely on.
if TYPE_CHECKING:
    ClusterPatch = InputModel
else:
    ClusterPatch = patch_of(ClusterCreate, "ClusterPatch")


class Cluster(OutputModel):
    id: uuid.UUID
    slug: str
    name: str
    acronym: str | None
    country: str
    region: Region | None
    city: str | None
    website: str | None
    email: str | None
    description: str | None
    language: str | None
    sectors: list[str]
    member_count: int | None
    sme_count: int | None
    label: Label
    founded_year: int | None
    target_markets: list[TargetMarketRef]
    created_at: datetime
    updated_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _from_row(cls, data: Any) -> Any:
        # The table keeps the region flat (region_code, region_name, nuts_version).
        if hasattr(data, "region_code"):
            region = (
                {"code": data.region_code, "name": data.region_name, "nuts_version": data.nuts_version or "2021"}
                if data.region_code else None
            )
            data = {name: getattr(data, name) for name in cls.model_fields if name != "region"} | {"region": region}
        return data


class ClusterRefOut(OutputModel):
    """A cluster as other resources show it."""

    id: uuid.UUID
    slug: str
    name: str
    acronym: str | None
    country: str


class ClusterQuery(ListQuery):
    country: list[CountryCode] = filter_values("Country of the cluster (ISO alpha-2; EL and UK accepted).")
    sector: list[SectorCode] = filter_values("Sector code; matches clusters with any of the given sectors.")
    label: list[Label] = filter_values("Excellence label.")
    partnership: list[Slug] = filter_values("Slug of a partnership the cluster is a member of.")
    target_market: list[CountryCode] = filter_values("A country the cluster targets.")
    q: SearchText | None = Field(None, description="Words in the name, acronym or description (accents ignored, stemmed).")
