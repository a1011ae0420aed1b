import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Literal, Self

from pydantic import Field, model_validator

from service.clusters.schemas import ClusterRefOut
from service.kit.http import ListQuery, as_of_field, filter_values
from service.kit.language_detection import detected_language
from service.kit.languages import LanguageCode, language_field
from service.kit.schemas import InputModel, OutputModel, patch_of
from service.kit.types import CountryCode, LongText, Name, PlanDate, SearchText, Slug, Text, Url
from service.missions.schemas import ExternalId, PartnershipRefOut, Reference
from service.sectors.schemas import SectorCode, sector_list

AgreementKind = Literal[
    "mou", "cooperation-agreement", "letter-of-intent", "business-contract", "collaboration-project",
    "administrative-arrangement",
]
StoredStatus = Literal["draft", "negotiating", "signed", "terminated"]
AgreementStatus = Literal["draft", "negotiating", "signed", "expired", "terminated"]
CounterpartKind = Literal["cluster", "chamber-of-commerce", "agency", "company", "university", "other"]


class Counterpart(InputModel):
    name: Name
    country: CountryCode
    kind: CounterpartKind = "other"


class AgreementCreate(InputModel):
    external_id: ExternalId | None = None
    title: Name
    kind: AgreementKind
    status: StoredStatus = Field("signed", description="`expired` is not set but derived once valid_until has passed.")
    signed_on: PlanDate | None = None
    valid_until: PlanDate | None = None
    clusters: list[Reference] = Field(default_factory=list, max_length=50, description="EU clusters party to it (slugs or ids).")
    partnership: Reference | None = Field(None, description="The partnership it was signed for (slug or id).")
    counterparts: list[Counterpart] = Field(default_factory=list, max_length=50, description="Organisations abroad.")
    sectors: list[SectorCode] = sector_list()
    description: LongText | None = None
    language: LanguageCode | None = language_field()

    _language = detected_language("title", "description")

    document_url: Url | None = None
    mission: Annotated[str, Text(200, min_length=1)] | None = Field(None, description="The mission it was signed at: its id or external_id.")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.signed_on and self.valid_until and self.valid_until < self.signed_on:
            raise ValueError("valid_until must not be before signed_on")
        if len(set(self.clusters)) != len(self.clusters):
            raise ValueError("a cluster can be a party only once")
        if len(set(self.sectors)) != len(self.sectors):
            raise ValueError("sectors must not repeat")
        return self


# patch_of builds the model at run time (every field optional); a type checker knows it
# as an InputModel, which is all that merge() and the routes rely on.
if TYPE_CHECKING:
    AgreementPatch = InputModel
else:
    AgreementPatch = patch_of(AgreementCreate, "AgreementPatch")


class MissionRefOut(OutputModel):
    id: uuid.UUID
    external_id: str | None
    title: str
    starts_on: date


class Agreement(OutputModel):
    id: uuid.UUID
    external_id: str | None
    title: str
    kind: AgreementKind
    status: AgreementStatus
    signed_on: date | None
    valid_until: date | None
    clusters: list[ClusterRefOut]
    partnership: PartnershipRefOut | None
    counterparts: list[Counterpart]
    sectors: list[str]
    description: str | None
    language: str | None
    document_url: str | None
    mission: MissionRefOut | None
    created_at: datetime
    updated_at: datetime


class AgreementQuery(ListQuery):
    kind: list[AgreementKind] = filter_values("Kind of agreement.")
    status: list[AgreementStatus] = filter_values("Status (expired is derived from valid_until).")
    country: list[CountryCode] = filter_values("Country of a counterpart.")
    cluster: list[Slug] = filter_values("Slug of an EU cluster party.")
    partnership: list[Slug] = filter_values("Slug of the partnership.")
    signed_after: PlanDate | None = Field(None, description="Signed on or after this date.")
    signed_before: PlanDate | None = Field(None, description="Signed on or before this date.")
    q: SearchText | None = Field(None, description="Words in the title or description.")
    as_of: PlanDate | None = as_of_field()
